"""The site's read-only event API."""

from __future__ import annotations

from rest_framework import viewsets

from cirkus.events.models import Event
from cirkus.events.serializers import EventSerializer


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Event.objects.order_by("id")
    serializer_class = EventSerializer
