"""The site's events. ``billig_id`` is a logical reference into Billig, not a foreign key.

``event.billig`` loads the Billig event of one event (one query, cached on the instance). For
many events use :meth:`Event.prefetch_billig`: one query per level whatever the number of
events, since ``prefetch_related`` cannot follow a reference into another database.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Prefetch

from cirkus.billig.models import BilligEvent, BilligPriceGroup, BilligTicketGroup

_BILLIG_CACHE = "_billig_event"


class Event(models.Model):
    class TicketType(models.TextChoices):
        BILLIG = "billig"
        FREE = "free"
        CUSTOM = "custom"

    title = models.CharField(max_length=200)
    start_dt = models.DateTimeField()
    ticket_type = models.CharField(
        max_length=20, choices=TicketType.choices, default=TicketType.FREE
    )
    billig_id = models.IntegerField(null=True, blank=True)

    @property
    def sold_through_billig(self) -> bool:
        return self.ticket_type == self.TicketType.BILLIG and self.billig_id is not None

    @property
    def billig(self) -> BilligEvent | None:
        """The Billig event this event sells through (None if not, or if Billig lacks it)."""
        if not self.sold_through_billig:
            return None
        if _BILLIG_CACHE not in self.__dict__:
            found = billig_events([self.billig_id]).get(self.billig_id)
            self.__dict__[_BILLIG_CACHE] = found
        cached: BilligEvent | None = self.__dict__[_BILLIG_CACHE]
        return cached

    @staticmethod
    def prefetch_billig(
        events: Iterable[Event], *, tickets: bool = True, prices: bool = True
    ) -> None:
        """Attach their Billig events to ``events``: one query per level (events, ticket
        groups, price groups), none for events whose Billig event is already attached."""
        pending = [e for e in events if e.sold_through_billig and _BILLIG_CACHE not in e.__dict__]
        found = billig_events(
            {e.billig_id for e in pending if e.billig_id is not None},
            tickets=tickets,
            prices=prices,
        )
        for event in pending:
            event.__dict__[_BILLIG_CACHE] = found.get(event.billig_id)

    def __str__(self) -> str:
        return self.title


def billig_events(
    ids: Iterable[int | None], *, tickets: bool = True, prices: bool = True
) -> dict[int, BilligEvent]:
    """Billig events by id, with ticket groups and price groups in id order when asked."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    query = BilligEvent.objects.filter(id__in=wanted)
    if tickets:
        groups = BilligTicketGroup.objects.order_by("id")
        if prices:
            groups = groups.prefetch_related(
                Prefetch("price_groups", queryset=BilligPriceGroup.objects.order_by("id"))
            )
        query = query.prefetch_related(Prefetch("ticket_groups", queryset=groups))
    return {event.id: event for event in query}
