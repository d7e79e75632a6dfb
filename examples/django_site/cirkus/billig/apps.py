from __future__ import annotations

from django.apps import AppConfig


class BilligConfig(AppConfig):
    name = "cirkus.billig"
    label = "billig"
    verbose_name = "Billig (read only)"
