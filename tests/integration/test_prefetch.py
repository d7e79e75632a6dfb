"""Lazy ``event.billig`` for one event; constant-query prefetch for many."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import DetachedInstanceError

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.events import TICKET_TYPE_BILLIG, Event
from examples.fastapi_site.prefetch import (
    get_billig_event,
    load_billig_events,
    prefetch_billig,
    relevant_billig_events,
)
from examples.fastapi_site.routing import RoutedSession, session_factory
from examples.fastapi_site.seed import seed_site
from examples.fastapi_site.serializers import serialize_events

from .conftest import StatementLog, scenario_id


def site_events(session: Session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.id)))


def test_billig_loads_lazily_with_one_query_for_one_event(
    reader: RoutedSession, billig_statements: StatementLog
):
    event = next(e for e in site_events(reader) if e.sold_through_billig)
    billig_statements.clear()
    billig = event.billig
    assert billig is not None and billig.id == event.billig_id
    assert billig_statements.count == 1
    assert event.billig is billig
    assert billig_statements.count == 1  # cached
    assert billig.ticket_groups[0].price_groups[0].name  # the docs' example: lazy, fine for one


def test_events_not_sold_through_billig_have_no_billig_and_cost_nothing(
    reader: RoutedSession, billig_statements: StatementLog
):
    others = [e for e in site_events(reader) if e.ticket_type != TICKET_TYPE_BILLIG]
    assert any(e.billig_id is not None for e in others)  # stale references are seeded too
    billig_statements.clear()
    assert all(e.billig is None for e in others)
    assert billig_statements.count == 0


def test_billig_id_missing_in_billig_gives_none(
    reader: RoutedSession, billig_statements: StatementLog, billig_event_ids: list[int]
):
    missing = [
        e
        for e in site_events(reader)
        if e.sold_through_billig and e.billig_id not in billig_event_ids
    ]
    assert missing
    billig_statements.clear()
    assert missing[0].billig is None
    assert billig_statements.count == 1


def test_detached_site_event_cannot_load_billig(reader: RoutedSession):
    event = next(e for e in site_events(reader) if e.sold_through_billig)
    reader.expunge(event)
    with pytest.raises(DetachedInstanceError):
        _ = event.billig


def test_prefetch_attaches_everything_with_one_query_per_level(
    reader: RoutedSession, billig_statements: StatementLog, shown_billig_event_ids: list[int]
):
    events = site_events(reader)
    billig_statements.clear()
    found = prefetch_billig(reader, events)
    assert billig_statements.count == 3
    for event in events:
        assert event.billig_loaded
        expected = event.sold_through_billig and event.billig_id in shown_billig_event_ids
        assert (event.billig is not None) is expected
        if event.billig is not None:
            assert found[event.billig.id] is event.billig
            for group in event.billig.ticket_groups:
                assert all(pg.ticket_group_id == group.id for pg in group.price_groups)
    assert billig_statements.count == 3  # reading the nested data sent nothing more


@pytest.mark.parametrize(("tickets", "prices", "queries"), [(False, False, 1), (True, False, 2)])
def test_prefetch_can_skip_levels(
    reader: RoutedSession,
    billig_statements: StatementLog,
    tickets: bool,
    prices: bool,
    queries: int,
):
    events = site_events(reader)
    billig_statements.clear()
    prefetch_billig(reader, events, tickets=tickets, prices=prices)
    assert billig_statements.count == queries


def test_prefetch_without_billig_events_sends_nothing(
    reader: RoutedSession, billig_statements: StatementLog
):
    others = [e for e in site_events(reader) if not e.sold_through_billig]
    billig_statements.clear()
    assert prefetch_billig(reader, others) == {}
    assert billig_statements.count == 0
    assert all(e.billig_loaded and e.billig is None for e in others)


def test_prefetch_matches_each_site_event_to_its_own_billig_event(
    reader: RoutedSession, billig_event_ids: list[int]
):
    events = site_events(reader)
    prefetch_billig(reader, events)
    for event in events:
        if event.billig is not None:
            assert event.billig.id == event.billig_id
            assert all(g.event_id == event.billig_id for g in event.billig.ticket_groups)
    # Compare with what the lazy path loads for a few events in a fresh session.
    with session_factory(reader.get_bind(orm.BilligEvent), reader.get_bind(Event))() as fresh:
        for event in site_events(fresh)[:5]:
            lazy = event.billig
            assert (lazy.id if lazy else None) == (
                event.billig_id
                if event.sold_through_billig and event.billig_id in billig_event_ids
                else None
            )


@pytest.mark.parametrize("n", [1, 10, 100, 1000])
def test_serializing_n_events_sends_the_same_statements_whatever_n(
    billig_engine: Engine,
    site_engine: Engine,
    billig_event_ids: list[int],
    seed_now: datetime,
    billig_statements: StatementLog,
    n: int,
):
    # 1,000 site events over the 60 seeded Billig events: ids repeat, as in production.
    seed_site(site_engine, billig_event_ids, seed=3, events=n, now=seed_now)
    with session_factory(billig_engine, site_engine)() as session:
        events = site_events(session)
        assert len(events) == n
        billig_statements.clear()
        out = serialize_events(session, events, now=seed_now)
    assert len(out) == n
    assert out[0].billig is not None and out[0].billig.ticket_groups  # full nesting reached
    assert billig_statements.count == 3  # events, ticket groups, price groups: one per level
    assert billig_statements.count <= 4


def test_load_helpers_return_fully_loaded_events(
    reader: RoutedSession, billig_statements: StatementLog, seed_now: datetime
):
    billig_statements.clear()
    one = get_billig_event(reader, scenario_id("on_sale"))
    assert one is not None and billig_statements.count == 3
    assert one.ticket_groups and one.ticket_groups[0].price_groups
    assert billig_statements.count == 3
    assert get_billig_event(reader, 999_999) is None
    assert load_billig_events(reader, []) == {}

    billig_statements.clear()
    relevant = relevant_billig_events(reader, seed_now)
    assert billig_statements.count == 3
    ids = {e.id for e in relevant}
    assert scenario_id("hidden") not in ids and scenario_id("long_past") not in ids
    assert {scenario_id("recently_ended"), scenario_id("future"), scenario_id("on_sale")} <= ids
    assert all(e.is_relevant(seed_now) for e in relevant)


def test_serializing_one_by_one_without_prefetch_is_what_the_count_would_catch(
    reader: RoutedSession, billig_statements: StatementLog, seed_now: datetime
):
    from examples.fastapi_site.serializers import serialize_billig_event

    events = [e for e in site_events(reader) if e.sold_through_billig][:10]
    billig_statements.clear()
    for event in events:
        if event.billig is not None:
            serialize_billig_event(event.billig, seed_now)
    assert billig_statements.count > 3 * 3  # lazy loading: queries grow with the events
