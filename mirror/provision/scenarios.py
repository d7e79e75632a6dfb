"""Billig's scenarios as records: what each event, ticket group, price group … holds, by meaning.

The same ``seed`` (and reference day ``now``) always gives identical records. The first events
are fixed scenarios covering every edge case a site's rules care about (on sale, sold out, almost
sold out, a group of 0 tickets, hidden, long past, recently ended, future, limits and
non-netsale, no ticket groups); the rest are random but production-shaped. A record holds its
values under production's column names and points to the records it belongs to (a ticket group
to its event); the seed writes each value wherever the loaded schema has a column of that name.

Times are naive local time, as in Billig; ``now`` defaults to today's local midnight so that a
seed is stable for a whole day and sale periods stay "past", "current" and "future" relative to
the day the mirror runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mirror.errors import UsageError
from mirror.progress import step

EVENT_ID_BASE = 1000

# Fixed scenarios for the first events, in this order (event EVENT_ID_BASE + index).
SCENARIOS = (
    "on_sale",
    "sold_out",
    "almost_sold_out",
    "zero_tickets_group",
    "hidden",
    "long_past",
    "recently_ended",
    "future",
    "limits_and_non_netsale",
    "no_ticket_groups",
)

# The kinds of record, parents before children.
ROLES = (
    "event",
    "ticket_group",
    "price_group",
    "purchase",
    "ticket_card",
    "ticket",
    "payment_error",
    "payment_error_price_group",
)

_NAMES = (
    "Revy", "Konsert", "Foredrag", "Quiz", "Jazzkveld", "Teater", "Standup", "Filmkveld",
    "Debatt", "Fest", "Kammerkor", "Improv", "Poesiaften", "Opera", "Bandkonkurranse",
)  # fmt: skip
_LOCATIONS = ("Storsalen", "Klubben", "Knaus", "Lyche", "Selskapssiden", "Daglighallen", None)
_GROUPS = ("Ordinær", "Parkett", "Galleri", "Balkong", "Ståplass", "Sitteplass")
_PRICES = (("Medlem", True), ("Ikke-medlem", False), ("Student", False), ("Honnør", False))
_MESSAGES = (
    "Betalingen ble avvist av banken.",
    "Det er ikke nok billetter igjen.",
    "Kortet er utløpt.",
    "Økten ble avbrutt.",
)


@dataclass(frozen=True, slots=True)
class Record:
    """One row's values by column meaning, and the records (role, index) it belongs to."""

    values: dict[str, object]
    parents: tuple[tuple[str, int], ...] = ()


@dataclass
class SeedData:
    """Records per role (see :data:`ROLES`) and the reference time they were made for."""

    records: dict[str, list[Record]] = field(default_factory=lambda: {r: [] for r in ROLES})
    reference: datetime | None = None

    def add(self, role: str, values: dict[str, object], *parents: tuple[str, int]) -> int:
        rows = self.records[role]
        rows.append(Record(values, parents))
        return len(rows) - 1

    def values(self, role: str) -> list[dict[str, object]]:
        return [record.values for record in self.records[role]]


def reference_now(now: datetime | None = None) -> datetime:
    """The naive local reference time of a seed: ``now`` or today's local midnight."""
    if now is not None:
        return now.replace(tzinfo=None)
    return datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)


def generate(events: int, seed: int, now: datetime | None = None) -> SeedData:
    """All Billig records for ``events`` events; pure, deterministic in (events, seed, now)."""
    if events < 0:
        raise UsageError(f"--events must be >= 0, got {events}")
    rng = random.Random(seed)
    ref = reference_now(now)
    data = SeedData(reference=ref)
    ids = {"ticket_group": 2000, "price_group": 5000}
    with step(f"generating {events:,} Billig events") as update:
        for index in range(events):
            if index % 5_000 == 0:
                update(f"generating Billig events: {index:,} of {events:,}")
            scenario = SCENARIOS[index] if index < len(SCENARIOS) else "random"
            _add_event(data, ids, rng, ref, index, scenario)
        update("generating purchases and payment errors")
        _add_purchases(data, rng, ref)
        _add_payment_errors(data, rng, ref)
    return data


def _sale_period(
    rng: random.Random, ref: datetime, scenario: str, start: datetime, sale_from: datetime
) -> tuple[datetime, datetime, datetime]:
    """(event time, sale from, sale to) of a scenario; sale_from < sale_to always."""
    sale_to = start
    if scenario == "long_past":
        start = ref - timedelta(days=60)
        sale_from, sale_to = start - timedelta(days=50), start - timedelta(days=40)
    elif scenario == "recently_ended":
        start = ref - timedelta(days=10)
        sale_from, sale_to = start - timedelta(days=30), ref - timedelta(days=10)
    elif scenario == "future":
        sale_from, start = ref + timedelta(days=5), ref + timedelta(days=40)
        sale_to = start
    elif scenario == "random" and rng.random() < 0.15:
        sale_to = ref - timedelta(days=rng.randint(1, 120))
        start = sale_to
        sale_from = min(sale_from, sale_to - timedelta(days=1))
    return start, sale_from, sale_to


def _add_event(
    data: SeedData,
    ids: dict[str, int],
    rng: random.Random,
    ref: datetime,
    index: int,
    scenario: str,
) -> None:
    event_id = EVENT_ID_BASE + index
    name = f"{rng.choice(_NAMES)} #{event_id}"
    # The order of the draws is part of the seed: the same seed gives the same rows.
    start = ref + timedelta(days=rng.randint(5, 90), hours=rng.choice((18, 19, 20)))
    sale_from = ref - timedelta(days=rng.randint(1, 30))
    hidden = rng.random() < 0.05
    if scenario != "random":
        hidden = scenario == "hidden"
    start, sale_from, sale_to = _sale_period(rng, ref, scenario, start, sale_from)
    event = data.add(
        "event",
        {
            "event": event_id, "event_name": name, "event_location": rng.choice(_LOCATIONS),
            "event_note": rng.choice((None, "Velkommen!", "18 år")), "event_time": start,
            "event_type": rng.choice(("Konsert", "Teater", None)),
            "external_id": rng.choice((None, event_id * 7)), "organisation": rng.randint(1, 12),
            "a4_ticket_layout": None, "receipt_ticket_layout": None, "tp_ticket_layout": None,
            "ticket_fee": rng.choice((0, 10, 25)), "sale_from": sale_from, "sale_to": sale_to,
            "hidden": hidden,
        },
    )  # fmt: skip
    if scenario == "no_ticket_groups":
        return
    two = scenario in ("zero_tickets_group", "limits_and_non_netsale")
    for g in range(2 if two else rng.randint(1, 3)):
        num = rng.choice((50, 100, 150, 300))
        sold = rng.randint(0, int(num * 0.7))
        limit: int | None = rng.choice((None, None, 0, 4, 10))
        if scenario == "sold_out":
            sold = num
        elif scenario == "almost_sold_out":
            sold = int(num * 0.85)
        elif scenario == "zero_tickets_group" and g == 0:
            num, sold = 0, 0
        elif scenario == "limits_and_non_netsale":
            limit = (None, 0)[g]
        ids["ticket_group"] += 1
        group = data.add(
            "ticket_group",
            {
                "ticket_group": ids["ticket_group"], "event": event_id,
                "ticket_group_name": rng.choice(_GROUPS),
                "is_theater_ticket_group": rng.random() < 0.1, "ticket_limit": limit,
                "num_sold": sold, "num": num,
            },
            ("event", event),
        )  # fmt: skip
        for p in range(3 if scenario == "limits_and_non_netsale" else rng.randint(1, 3)):
            label, member = _PRICES[p % len(_PRICES)]
            netsale = not (scenario == "limits_and_non_netsale" and p == 2) and rng.random() > 0.05
            ids["price_group"] += 1
            data.add(
                "price_group",
                {
                    "price_group": ids["price_group"], "ticket_group": ids["ticket_group"],
                    "price_group_name": label, "membership_needed": member,
                    "can_be_put_on_card": rng.random() < 0.5, "netsale": netsale,
                    "price": rng.choice((0, 50, 100, 150, 200, 350)),
                },
                ("ticket_group", group),
            )  # fmt: skip


def _add_purchases(data: SeedData, rng: random.Random, ref: datetime) -> None:
    prices = data.records["price_group"]
    if not prices:
        return
    events = len(data.records["event"])
    for i in range(max(2, events // 3)):
        data.add(
            "ticket_card",
            {
                "card": 10_000_000_000 + i, "owner_member_id": rng.randint(1, 9999),
                "membership_ends": (ref + timedelta(days=rng.randint(-100, 365))).date(),
            },
        )  # fmt: skip
    ticket_id = 100_000
    for p in range(max(3, events * 2)):
        member = rng.randint(1, 9999) if rng.random() < 0.6 else None
        email = f"kjoper{p}@example.org" if member is None or rng.random() < 0.5 else None
        purchase = data.add(
            "purchase", {"purchase": 70_000 + p, "owner_member_id": member, "owner_email": email}
        )
        on_card = p % 2 == 0  # both kinds always present
        for _ in range(rng.randint(1, 4)):
            ticket_id += 1
            price = rng.randrange(len(prices))
            used = ref - timedelta(days=rng.randint(0, 30)) if rng.random() < 0.2 else None
            refunded = ref - timedelta(days=1) if rng.random() < 0.05 else None
            data.add(
                "ticket",
                {
                    "ticket": ticket_id, "price_group": prices[price].values["price_group"],
                    "purchase": 70_000 + p, "used": used, "refunded": refunded,
                    "on_card": on_card, "refunder": "billettluka" if refunded else None,
                    "point_of_refund": 3 if refunded else None,
                },
                ("price_group", price), ("purchase", purchase),
            )  # fmt: skip


def _add_payment_errors(data: SeedData, rng: random.Random, ref: datetime) -> None:
    groups = data.records["ticket_group"]
    # Price groups by ticket group and the visible groups, once: a scan per error is quadratic.
    by_group: dict[int, list[int]] = {}
    for index, record in enumerate(data.records["price_group"]):
        by_group.setdefault(record.parents[0][1], []).append(index)
    # A failed payment is for an event the site shows (a hidden one cannot be bought).
    visible = [
        i for i, g in enumerate(groups)
        if not data.records["event"][g.parents[0][1]].values["hidden"]
    ]  # fmt: skip
    for i in range(max(2, len(data.records["event"]) // 5)):
        key = f"{rng.getrandbits(128):032x}"
        error = data.add(
            "payment_error",
            {
                "error": key, "failed": ref - timedelta(hours=rng.randint(1, 500)),
                "owner_cardno": f"{rng.randint(10**15, 10**16 - 1)}" if i % 3 == 0 else None,
                "owner_email": f"feil{i}@example.org" if i % 3 != 0 else None,
                "message": rng.choice(_MESSAGES),
            },
        )  # fmt: skip
        if i % 2 == 1:
            continue  # every other error has no price-group rows (message-only outcome)
        if not visible:
            continue
        for price in by_group.get(visible[rng.randrange(len(visible))], ()):
            data.add(
                "payment_error_price_group",
                {
                    "error": key,
                    "price_group": data.records["price_group"][price].values["price_group"],
                    "number_of_tickets": rng.randint(1, 4),
                },
                ("payment_error", error),
                ("price_group", price),
            )
