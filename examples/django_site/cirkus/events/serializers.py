"""The site's event serializer, with the Billig event nested as ``billig`` (or null).

Serializing many events prefetches their Billig data first (one query per level): a list of
events never costs one query per event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from cirkus.billig.models import BilligEvent
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


def billig_samples(now: datetime) -> dict[type[serializers.BaseSerializer[Any]], list[Event]]:
    """Site events for billig-harness to serialize on a seeded Billig mirror (unsaved): one per
    Billig event, a free event, and one whose Billig event does not exist."""
    ids = list(BilligEvent.objects.order_by("id").values_list("id", flat=True))
    billig = Event.TicketType.BILLIG
    events = [
        Event(id=n, title=f"Arrangement {n}", start_dt=now, ticket_type=billig, billig_id=i)
        for n, i in enumerate(ids, start=1)
    ]
    n = len(events)
    events.append(Event(id=n + 1, title="Gratis", start_dt=now, ticket_type=Event.TicketType.FREE))
    missing = max(ids, default=0) + 1000
    events.append(
        Event(id=n + 2, title="Borte", start_dt=now, ticket_type=billig, billig_id=missing)
    )
    return {EventSerializer: events}
