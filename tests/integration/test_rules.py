"""The site's pure business rules, table-driven, without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from examples.fastapi_site import rules

NOW = datetime(2024, 6, 15, 12, 0)


@dataclass
class Group:
    num_sold: int
    num: int
    price_groups: list[Price] = field(default_factory=list)


@dataclass
class Price:
    netsale: bool


@dataclass
class Ev:
    sale_from: datetime
    sale_to: datetime
    ticket_groups: list[Group]


@pytest.mark.parametrize(
    ("num_sold", "num", "sold_out", "almost"),
    [
        (0, 100, False, False),
        (79, 100, False, False),
        (80, 100, False, True),
        (99, 100, False, True),
        (100, 100, True, True),
        (101, 100, True, True),  # oversold still counts as sold out
        (0, 0, True, True),  # num == 0: sold out, no division by zero
        (4, 5, False, True),
        (3, 5, False, False),
    ],
)
def test_ticket_group_sold_out_and_almost(num_sold: int, num: int, sold_out: bool, almost: bool):
    assert rules.group_is_sold_out(num_sold, num) is sold_out
    assert rules.group_is_almost_sold_out(num_sold, num) is almost


@pytest.mark.parametrize(
    ("groups", "sold_out", "almost"),
    [
        ([], True, False),  # no ticket groups: nothing to sell, and 0 tickets is never "almost"
        ([Group(0, 0)], True, False),  # zero tickets in total
        ([Group(0, 0), Group(0, 0)], True, False),
        ([Group(10, 10), Group(5, 10)], False, False),  # 15/20 = 0.75
        ([Group(10, 10), Group(6, 10)], False, True),  # 16/20 = 0.8
        ([Group(10, 10), Group(10, 10)], True, True),
        ([Group(0, 0), Group(40, 50)], False, True),  # the zero group counts as sold out only
        ([Group(0, 0), Group(1, 50)], False, False),
    ],
)
def test_event_sold_out_and_almost(groups: list[Group], sold_out: bool, almost: bool):
    assert rules.event_is_sold_out(groups) is sold_out
    assert rules.event_is_almost_sold_out(groups) is almost


@pytest.mark.parametrize(
    ("limit", "price_groups", "per_price_group", "per_ticket_group"),
    [
        (None, 3, 9, 27),
        (0, 3, 9, 27),
        (-2, 2, 9, 18),
        (None, 0, 9, 9),  # max(number of price groups, 1)
        (4, 3, 4, 4),
        (1, 1, 1, 1),
        (20, 5, 20, 20),
    ],
)
def test_limits_default_when_null_or_not_positive(
    limit: int | None, price_groups: int, per_price_group: int, per_ticket_group: int
):
    assert rules.price_group_limit(limit) == per_price_group
    assert rules.ticket_group_limit(limit, price_groups) == per_ticket_group


@pytest.mark.parametrize(
    ("sale_from", "sale_to", "expected"),
    [
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
        (NOW, NOW + timedelta(days=1), True),  # inclusive start
        (NOW - timedelta(days=1), NOW, True),  # inclusive end
        (NOW + timedelta(seconds=1), NOW + timedelta(days=1), False),
        (NOW - timedelta(days=2), NOW - timedelta(seconds=1), False),
    ],
)
def test_in_sale_period_is_inclusive(sale_from: datetime, sale_to: datetime, expected: bool):
    assert rules.in_sale_period(sale_from, sale_to, NOW) is expected


@pytest.mark.parametrize(
    ("hidden", "sale_to", "expected"),
    [
        (False, NOW + timedelta(days=10), True),
        (False, NOW - timedelta(days=30), True),
        (False, NOW - timedelta(days=31) + timedelta(seconds=1), True),
        (False, NOW - timedelta(days=31), False),  # "later than 31 days ago" is strict
        (False, NOW - timedelta(days=60), False),
        (True, NOW + timedelta(days=10), False),
    ],
)
def test_relevant_events(hidden: bool, sale_to: datetime, expected: bool):
    assert rules.is_relevant(hidden, sale_to, NOW) is expected


OPEN = (NOW - timedelta(days=1), NOW + timedelta(days=1))


@pytest.mark.parametrize(
    ("period", "groups", "expected"),
    [
        (OPEN, [Group(0, 10, [Price(True)])], True),
        (OPEN, [Group(10, 10, [Price(True)]), Group(0, 10, [Price(True)])], True),
        (OPEN, [Group(10, 10, [Price(True)])], False),  # sold out
        (OPEN, [Group(0, 10, [Price(False)])], False),  # nothing sold on the web
        (OPEN, [Group(0, 10, [Price(False)]), Group(10, 10, [Price(True)])], False),
        (OPEN, [Group(0, 0, [Price(True)])], False),  # zero tickets
        (OPEN, [], False),
        ((NOW + timedelta(days=1), NOW + timedelta(days=2)), [Group(0, 10, [Price(True)])], False),
        ((NOW - timedelta(days=2), NOW - timedelta(days=1)), [Group(0, 10, [Price(True)])], False),
    ],
)
def test_purchasable_now(period: tuple[datetime, datetime], groups: list[Group], expected: bool):
    assert rules.purchasable_now(Ev(*period, groups), NOW) is expected


def test_aware_now_is_converted_to_billig_local_time(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(rules.TIME_ZONE_ENV, "Europe/Oslo")
    # 10:30 UTC on a summer day is 12:30 in Oslo (UTC+2).
    aware = datetime(2024, 6, 15, 10, 30, tzinfo=UTC)
    assert rules.billig_time(aware) == datetime(2024, 6, 15, 12, 30)
    assert rules.in_sale_period(datetime(2024, 6, 15, 12, 15), datetime(2024, 6, 15, 12, 45), aware)
    assert not rules.in_sale_period(
        datetime(2024, 6, 15, 10, 0), datetime(2024, 6, 15, 11, 0), aware
    )


def test_naive_now_is_taken_as_billig_time():
    assert rules.billig_time(NOW) is NOW


def test_localize_adds_the_site_zone_offset(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(rules.TIME_ZONE_ENV, "Europe/Oslo")
    assert rules.localize(datetime(2024, 1, 15, 18, 0)).isoformat() == "2024-01-15T18:00:00+01:00"
    assert rules.localize(datetime(2024, 7, 15, 18, 0)).isoformat() == "2024-07-15T18:00:00+02:00"


def test_default_clock_is_naive_local_time_of_the_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(rules.TIME_ZONE_ENV, "UTC")
    before = datetime.now(UTC).replace(tzinfo=None)
    now = rules.billig_now()
    after = datetime.now(UTC).replace(tzinfo=None)
    assert now.tzinfo is None
    assert before <= now <= after
