"""Loading the configured site source: ``[tool.billig] site`` names ``"module:attribute"`` (or
``"django"`` for the Django adapter); the module is imported from the project's folder, the
attribute called with the configuration when it is a factory, and the source returned wrapped in
:class:`~mirror.sources.checked_site.CheckedSite`, so every value it answers is checked before
the harness uses it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from mirror.errors import ConfigError
from mirror.sources.checked_site import CheckedSite
from mirror.sources.site import SiteSource
from mirror.sources.user_code import SiteError, import_user_module, user_code

if TYPE_CHECKING:
    from mirror.config import Config

DJANGO_SOURCE = "mirror.adapters.django.source:from_config"
_DJANGO_PACKAGES = frozenset({"django", "rest_framework", "drf_spectacular"})


def load_site(config: Config) -> SiteSource | None:
    """The configured site source, checked (None when ``site`` is not set)."""
    if config.site is None:
        return None
    spec = DJANGO_SOURCE if config.site == "django" else config.site
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f'site = {config.site!r}: expected "module:attribute" or "django"')
    # The site's modules live in the project, which is rarely installed: import them from the
    # folder of the configuration, as ``python -m`` would from there (``billig`` runs from the
    # virtualenv's bin folder, which is what sys.path starts with).
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = import_user_module(module_name, "site")
    except SiteError as exc:
        missing = getattr(exc.__cause__, "name", None)
        if config.site == "django" and missing in _DJANGO_PACKAGES:
            raise ConfigError(
                'site = "django" needs the Django extra: '
                f"pip install 'billig-harness[django]' ({exc.__cause__})"
            ) from None
        raise
    if not hasattr(module, attribute):
        raise ConfigError(f"site = {config.site!r}: {module_name} has no {attribute!r}")
    label = "the Django site" if config.site == "django" else f"site {spec}"
    with user_code(label):
        source = getattr(module, attribute)
        if config.site == "django" or (callable(source) and not isinstance(source, SiteSource)):
            source = source(config)
    if not isinstance(source, SiteSource):
        raise ConfigError(f"site = {config.site!r} is not a site source (see SiteSource)")
    return CheckedSite(source, label)
