"""The site's Billig models read the seeded mirror that billig-harness points ``billig`` at."""

from __future__ import annotations

import pytest
from django.db import connections

from cirkus.billig.models import BilligEvent, BilligPriceGroup, BilligTicketGroup
from cirkus.events.models import Event

pytestmark = pytest.mark.django_db(databases=["default", "billig"])

FORBIDDEN = {"num", "num_sold", "owner_email", "owner_member_id", "owner_cardno"}


def site_events(count: int) -> list[Event]:
    ids = list(BilligEvent.objects.order_by("id").values_list("id", flat=True))
    return Event.objects.bulk_create(
        Event(title=f"Arrangement {n}", start_dt="2026-12-24 18:00", ticket_type="billig",
              billig_id=ids[n % len(ids)])
        for n in range(count)
    )  # fmt: skip


def keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_billig_events_come_from_the_seeded_mirror():
    assert BilligEvent.objects.count() >= 10  # the seed's fixed scenarios, at least
    assert BilligEvent.objects.filter(hidden=True).exists()


def test_ticket_groups_are_read_through_their_dotted_table_name():
    empty = BilligTicketGroup.objects.filter(num=0)
    assert empty.exists()  # the seed's group without tickets
    assert all(group.is_sold_out and group.is_almost_sold_out for group in empty)


def test_price_groups_join_their_ticket_group():
    price = BilligPriceGroup.objects.select_related("ticket_group").order_by("id").first()
    assert price is not None
    assert price.ticket_group.price_groups.filter(id=price.id).exists()


@pytest.mark.parametrize("count", [3, 40])
def test_prefetch_billig_costs_one_query_per_level(count, django_assert_num_queries):
    events = list(Event.objects.filter(id__in=[e.id for e in site_events(count)]))
    with django_assert_num_queries(3, connection=connections["billig"]):
        Event.prefetch_billig(events)
    with django_assert_num_queries(0, connection=connections["billig"]):
        names = [p.name for e in events for g in e.billig.ticket_groups.all()
                 for p in g.price_groups.all()]  # fmt: skip
    assert names


def test_event_api_nests_billig_and_never_shows_ticket_counts(client):
    site_events(5)
    response = client.get("/api/events/")
    assert response.status_code == 200
    events = response.json()
    assert len(events) == 5
    assert all(event["billig"]["ticket_groups"] is not None for event in events)
    assert not keys(events) & FORBIDDEN
