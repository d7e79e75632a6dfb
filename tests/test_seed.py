"""The seed: deterministic, realistic, covering every edge case the rules need."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from mirror.errors import UsageError
from mirror.provision.seed import EVENT_ID_BASE, SCENARIOS, generate

NOW = datetime(2026, 11, 25)


def test_same_seed_gives_identical_rows():
    assert generate(100, seed=7, now=NOW) == generate(100, seed=7, now=NOW)


def test_different_seed_gives_different_rows():
    assert generate(100, seed=7, now=NOW).event != generate(100, seed=8, now=NOW).event


def test_negative_event_count_is_a_usage_error():
    with pytest.raises(UsageError):
        generate(-1, seed=1)


def test_scales_to_ten_thousand_events():
    data = generate(10_000, seed=1, now=NOW)
    assert len(data.event) == 10_000
    assert len({row[0] for row in data.event}) == 10_000


def _groups_of(data, event_id):
    return [g for g in data.ticket_group if g[1] == event_id]


def test_every_edge_case_is_present():
    data = generate(len(SCENARIOS), seed=3, now=NOW)
    event = {row[0]: row for row in data.event}
    ids = {name: EVENT_ID_BASE + i for i, name in enumerate(SCENARIOS)}
    # (ticket_group, event, name, is_theater, ticket_limit, num_sold, num)
    assert all(g[5] == g[6] for g in _groups_of(data, ids["sold_out"]))
    assert all(0.8 <= g[5] / g[6] < 1 for g in _groups_of(data, ids["almost_sold_out"]))
    assert any(g[6] == 0 for g in _groups_of(data, ids["zero_tickets_group"]))
    limits = {g[4] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert None in limits and 0 in limits
    groups = {g[0] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert any(not p[5] for p in data.price_group if p[1] in groups)  # non-netsale price group
    assert _groups_of(data, ids["no_ticket_groups"]) == []
    assert event[ids["hidden"]][14] is True
    # sale periods: (sale_from, sale_to) at columns 12, 13
    assert event[ids["long_past"]][13] < NOW - timedelta(days=31)
    assert NOW - timedelta(days=31) < event[ids["recently_ended"]][13] < NOW
    assert event[ids["future"]][12] > NOW
    assert event[ids["on_sale"]][12] <= NOW <= event[ids["on_sale"]][13]
    on_card = {t[5] for t in data.ticket}
    assert on_card == {True, False}
    with_rows = {r[0] for r in data.payment_error_price_group}
    errors = {e[0] for e in data.payment_error}
    assert with_rows and errors - with_rows  # errors with and without price-group rows


def test_seed_loads_into_the_mirror(billig_session):
    counts = {
        table: billig_session.execute(text(f"SELECT count(*) FROM billig.{table}")).scalar_one()
        for table in ("event", "event_lim_web", "ticket_group", "price_group", "ticket")
    }
    assert counts["event"] == counts["event_lim_web"] > 0
    assert all(n > 0 for n in counts.values())


def test_seeding_a_populated_database_is_refused(billig_mirror, billig_database):
    from mirror.provision.seed import seed_billig

    with (
        contextlib.closing(billig_mirror.server.connect(billig_database.database)) as conn,
        pytest.raises(UsageError, match="already has rows"),
    ):
        seed_billig(conn, events=5, seed=1)
