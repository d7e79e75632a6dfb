"""The site's event serializer, with the Billig event nested as ``billig`` (or null).

Serializing many events prefetches their Billig data first (one query per level): a list of
events never costs one query per event.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cirkus.billig.serializers import BilligEventSerializer
from cirkus.events.models import Event


class EventListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> list[Any]:
        events = list(data.all() if hasattr(data, "all") else data)
        Event.prefetch_billig(events)
        return super().to_representation(events)


class EventSerializer(serializers.ModelSerializer):
    billig = BilligEventSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = ("id", "title", "start_dt", "ticket_type", "billig")
        list_serializer_class = EventListSerializer
