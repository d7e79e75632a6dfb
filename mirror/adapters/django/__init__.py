"""The Django adapter: a site source built from a Django project's settings.

Configured by ``[tool.billig] site = "django"`` and ``[tool.billig.django]`` (``settings``,
``database``, ``serializers``, ``urls``). Django, Django REST framework and drf-spectacular are
imported only here, and only when the configured site is Django (``billig-harness[django]``).
"""

from __future__ import annotations

from mirror.adapters.django.source import DjangoSite, from_config

__all__ = ["DjangoSite", "from_config"]
