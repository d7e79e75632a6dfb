from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "cirkus.events"
    label = "events"
