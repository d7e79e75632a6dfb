"""The list path: site events' JSON straight from plain Billig rows, equal to the models' JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mirror.site import rules
from mirror.site.events import TICKET_TYPE_BILLIG, TICKET_TYPE_FREE, Event
from mirror.site.prefetch import (
    PRICE_GROUP_COLUMNS,
    TICKET_GROUP_COLUMNS,
    BilligRows,
    load_billig_events,
    load_billig_rows,
)
from mirror.site.routing import RoutedSession, session_factory
from mirror.site.seed import seed_site
from mirror.site.serializers import (
    SERIALIZER_SCHEMAS,
    find_forbidden,
    render_events_json,
    serialize_events,
    serialize_events_json,
    to_json,
)

from .conftest import StatementLog, scenario_id


def site_events(session: Session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.id)))


def as_row(obj: object, columns: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(getattr(obj, column.key) for column in columns)


def text_of(data: Any) -> str:
    # JSON text keeps the key order that dict equality ignores; the form a list endpoint sends.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC", "America/St_Johns"])
def test_json_equals_the_models_json_key_for_key(
    reader: RoutedSession, seed_now: datetime, monkeypatch: pytest.MonkeyPatch, zone: str
):
    monkeypatch.setenv(rules.TIME_ZONE_ENV, zone)
    events = site_events(reader)
    direct = serialize_events_json(reader, events, seed_now)
    expected = text_of(to_json(serialize_events(reader, events, seed_now)))
    assert text_of(direct) == expected
    assert render_events_json(reader, events, seed_now) == expected
    assert any(d["billig"] is None for d in direct) and any(d["billig"] for d in direct)


def test_every_billig_event_gives_the_models_json(
    reader: RoutedSession, billig_event_ids: list[int], seed_now: datetime
):
    # One site event per Billig id, every fixed scenario included, and one for a missing id.
    ids = [*billig_event_ids, 999_999]
    assert {scenario_id("zero_tickets_group"), scenario_id("no_ticket_groups")} <= set(ids)
    events = [
        Event(id=i, title=f"t{i}", start_dt=seed_now, ticket_type=TICKET_TYPE_BILLIG, billig_id=b)
        for i, b in enumerate(ids, start=1)
    ]
    direct = serialize_events_json(reader, events, seed_now)
    expected = text_of(to_json(serialize_events(reader, events, seed_now)))
    assert text_of(direct) == expected
    assert render_events_json(reader, events, seed_now) == expected
    assert direct[-1]["billig"] is None


def test_text_escapes_like_the_json_module(reader: RoutedSession, seed_now: datetime):
    titles = ['Quote " and \\ backslash', "Ære være Honnør", "line\nbreak\ttab", "🎭 </script>"]
    billig_id = scenario_id("on_sale")
    events = [
        Event(id=i, title=t, start_dt=seed_now, ticket_type=TICKET_TYPE_BILLIG, billig_id=billig_id)
        for i, t in enumerate(titles, start=1)
    ]
    text = render_events_json(reader, events, seed_now)
    assert text == text_of(to_json(serialize_events(reader, events, seed_now)))
    assert [e["title"] for e in json.loads(text)] == titles


def test_json_validates_against_the_declared_schemas_and_has_nothing_forbidden(
    reader: RoutedSession, seed_now: datetime
):
    out = serialize_events_json(reader, site_events(reader), seed_now)
    document = SERIALIZER_SCHEMAS["Event"].model_json_schema(mode="serialization")
    for item in out:
        jsonschema.validate(item, document)
        SERIALIZER_SCHEMAS["Event"].model_validate(item)
    assert find_forbidden(out) == []


@pytest.mark.parametrize("n", [1, 10, 100, 1000])
@pytest.mark.parametrize("text", [False, True])
def test_json_sends_one_query_per_level_whatever_n(
    billig_engine: Engine,
    site_engine: Engine,
    billig_event_ids: list[int],
    seed_now: datetime,
    billig_statements: StatementLog,
    n: int,
    text: bool,
):
    seed_site(site_engine, billig_event_ids, seed=3, events=n, now=seed_now)
    with session_factory(billig_engine, site_engine)() as session:
        events = site_events(session)
        billig_statements.clear()
        if text:
            out = json.loads(render_events_json(session, events, seed_now))
        else:
            out = serialize_events_json(session, events, seed_now)
    assert len(out) == n
    assert billig_statements.count == 3  # events, ticket groups, price groups
    assert all(s.lstrip().upper().startswith("SELECT") for s in billig_statements.statements)


def test_json_without_billig_events_sends_nothing(
    reader: RoutedSession, seed_now: datetime, billig_statements: StatementLog
):
    others = [e for e in site_events(reader) if not e.sold_through_billig]
    billig_statements.clear()
    out = serialize_events_json(reader, others, seed_now)
    assert [d["billig"] for d in out] == [None] * len(others)
    assert json.loads(render_events_json(reader, others, seed_now)) == out
    assert render_events_json(reader, [], seed_now) == "[]"
    assert billig_statements.count == 0


def test_json_leaves_the_site_events_billig_cache_alone(reader: RoutedSession, seed_now: datetime):
    events = site_events(reader)
    serialize_events_json(reader, events, seed_now)
    assert not any(e.billig_loaded for e in events if e.sold_through_billig)


def test_site_events_of_one_billig_event_get_equal_data(reader: RoutedSession, seed_now: datetime):
    events = [e for e in site_events(reader) if e.sold_through_billig]
    twice = [events[0], events[0], *events[1:3]]
    out = serialize_events_json(reader, twice, seed_now)
    assert out[0] == out[1] and out[0]["billig"] is not None


def test_ambiguous_local_times_keep_their_own_offset(reader: RoutedSession, seed_now: datetime):
    # 02:30 happens twice in Oslo on 2025-10-26; naive datetimes compare equal across folds.
    first = datetime(2025, 10, 26, 2, 30)
    events = [
        Event(id=1, title="a", start_dt=first, ticket_type=TICKET_TYPE_FREE),
        Event(id=2, title="b", start_dt=first.replace(fold=1), ticket_type=TICKET_TYPE_FREE),
        Event(id=3, title="c", start_dt=first, ticket_type=TICKET_TYPE_BILLIG, billig_id=None),
    ]
    out = serialize_events_json(reader, events, seed_now)
    expected = to_json(serialize_events(reader, events, seed_now))
    assert [d["start_dt"] for d in out] == [d["start_dt"] for d in expected]
    assert out[0]["start_dt"] != out[1]["start_dt"]
    assert render_events_json(reader, events, seed_now) == text_of(expected)


# --------------------------------------------------------------------------- plain rows


def test_rows_are_the_rows_the_orm_loads(reader: RoutedSession, billig_event_ids: list[int]):
    ids = [*billig_event_ids, 999_999]  # a missing id is absent, as with the ORM
    rows = load_billig_rows(reader, ids)
    orm_events = load_billig_events(reader, ids)
    assert [e[0] for e in rows.events] == sorted(orm_events)
    assert [(e[0], e[1], e[2], e[3]) for e in rows.events] == [
        (e.id, e.name, e.sale_from, e.sale_to) for e in orm_events.values()
    ]
    groups = [g for e in orm_events.values() for g in e.ticket_groups]
    assert rows.ticket_groups == [as_row(g, TICKET_GROUP_COLUMNS) for g in groups]
    assert sorted(rows.price_groups) == sorted(
        as_row(p, PRICE_GROUP_COLUMNS) for g in groups for p in g.price_groups
    )


def test_children_of_one_parent_are_consecutive_and_in_id_order(
    reader: RoutedSession, billig_event_ids: list[int]
):
    rows = load_billig_rows(reader, billig_event_ids)
    for children in (rows.ticket_groups, rows.price_groups):
        parents = [parent for parent, _ in groupby(children, itemgetter(1))]
        assert len(parents) == len(set(parents))  # one run per parent
        for _, run in groupby(children, itemgetter(1)):
            ids = [row[0] for row in run]
            assert ids == sorted(ids)


def test_rows_are_plain_tuples(reader: RoutedSession, billig_event_ids: list[int]):
    rows = load_billig_rows(reader, billig_event_ids[:5])
    for level in (rows.events, rows.ticket_groups, rows.price_groups):
        assert level and all(type(row) is tuple for row in level)


def test_no_ids_no_rows_no_queries(reader: RoutedSession, billig_statements: StatementLog):
    billig_statements.clear()
    rows = load_billig_rows(reader, [None])
    assert (rows.events, rows.ticket_groups, rows.price_groups) == ([], [], [])
    assert billig_statements.count == 0


def test_an_event_without_ticket_groups_needs_no_price_query(
    reader: RoutedSession, billig_statements: StatementLog
):
    billig_statements.clear()
    rows = load_billig_rows(reader, [scenario_id("no_ticket_groups")])
    assert len(rows.events) == 1 and rows.ticket_groups == [] and rows.price_groups == []
    assert billig_statements.count == 2


def _rows(events: list[int], groups: list[tuple[int, int]], prices: list[tuple[int, int]]) -> Any:
    # Rows cut down to (id, parent id): enough for the nesting.
    return BilligRows(events=events, ticket_groups=groups, price_groups=prices)  # type: ignore[arg-type]


def test_nested_pairs_every_parent_with_its_children_in_one_pass():
    rows = _rows(
        events=[(1,), (2,), (3,)],  # type: ignore[list-item]
        groups=[(10, 1), (11, 1), (30, 3)],
        prices=[(100, 10), (101, 10), (300, 30)],  # group 11 has none
    )
    assert list(rows.nested()) == [
        ((1,), [((10, 1), [(100, 10), (101, 10)]), ((11, 1), [])]),
        ((2,), []),
        ((3,), [((30, 3), [(300, 30)])]),
    ]


def test_nested_refuses_children_out_of_their_parents_order():
    rows = _rows(events=[(1,), (2,)], groups=[(20, 2), (10, 1)], prices=[])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="order"):
        list(rows.nested())
