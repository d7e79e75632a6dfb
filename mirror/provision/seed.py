"""Deterministic, realistic seed data for the Billig mirror and the site database.

The same ``seed`` (and reference day ``now``) always gives identical rows. The first events are
fixed scenarios covering every edge case the rules care about; the rest are random but
production-shaped. Rows are bulk-loaded with ``COPY``, so 10,000+ events load in seconds.

Times are naive local time, as in Billig; ``now`` defaults to today's local midnight so that a
seed is stable for a whole day and sale periods stay "past", "current" and "future" relative to
the day the mirror runs.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg2

from mirror.errors import DatabaseError, SchemaLoadError, UsageError
from mirror.progress import step

EVENT_ID_BASE = 1000

# Fixed scenarios for the first events (index → name); see _scenario_event.
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


@dataclass
class SeedData:
    """Rows per Billig table, in column order of ``schema/billig.sql``."""

    event: list[tuple[object, ...]] = field(default_factory=list)
    ticket_group: list[tuple[object, ...]] = field(default_factory=list)
    price_group: list[tuple[object, ...]] = field(default_factory=list)
    purchase: list[tuple[object, ...]] = field(default_factory=list)
    ticket_card: list[tuple[object, ...]] = field(default_factory=list)
    ticket: list[tuple[object, ...]] = field(default_factory=list)
    payment_error: list[tuple[object, ...]] = field(default_factory=list)
    payment_error_price_group: list[tuple[object, ...]] = field(default_factory=list)

    def tables(self) -> Iterable[tuple[str, list[tuple[object, ...]]]]:
        # Insertion order respects foreign keys.
        for name in (
            "event", "ticket_group", "price_group", "purchase", "ticket_card", "ticket",
            "payment_error", "payment_error_price_group",
        ):  # fmt: skip
            yield name, getattr(self, name)


def reference_now(now: datetime | None = None) -> datetime:
    """The naive local reference time of a seed: ``now`` or today's local midnight."""
    if now is not None:
        return now.replace(tzinfo=None)
    return datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)


def generate(events: int, seed: int, now: datetime | None = None) -> SeedData:
    """All Billig rows for ``events`` events; pure, deterministic in (events, seed, now)."""
    if events < 0:
        raise UsageError(f"--events must be >= 0, got {events}")
    rng = random.Random(seed)
    ref = reference_now(now)
    data = SeedData()
    ids = _Ids()
    with step(f"generating {events:,} Billig events") as update:
        for index in range(events):
            if index % 5_000 == 0:
                update(f"generating Billig events: {index:,} of {events:,}")
            scenario = SCENARIOS[index] if index < len(SCENARIOS) else "random"
            _add_event(data, ids, rng, ref, EVENT_ID_BASE + index, scenario)
        update("generating purchases and payment errors")
        _add_purchases(data, ids, rng, ref)
        _add_payment_errors(data, rng, ref)
    return data


class _Ids:
    def __init__(self) -> None:
        self.ticket_group = 0
        self.price_group = 0

    def next_tg(self) -> int:
        self.ticket_group += 1
        return 2000 + self.ticket_group

    def next_pg(self) -> int:
        self.price_group += 1
        return 5000 + self.price_group


def _add_event(
    data: SeedData, ids: _Ids, rng: random.Random, ref: datetime, event_id: int, scenario: str
) -> None:
    name = f"{rng.choice(_NAMES)} #{event_id}"
    start = ref + timedelta(days=rng.randint(5, 90), hours=rng.choice((18, 19, 20)))
    sale_from, sale_to = ref - timedelta(days=rng.randint(1, 30)), start
    hidden = rng.random() < 0.05
    if scenario != "random":
        hidden = scenario == "hidden"
    if scenario == "long_past":
        start = ref - timedelta(days=60)
        sale_from, sale_to = start - timedelta(days=30), start - timedelta(days=40)
    elif scenario == "recently_ended":
        start = ref - timedelta(days=10)
        sale_from, sale_to = start - timedelta(days=30), ref - timedelta(days=10)
    elif scenario == "future":
        sale_from = ref + timedelta(days=5)
        start = ref + timedelta(days=40)
        sale_to = start
    elif scenario == "random" and rng.random() < 0.15:
        sale_to = ref - timedelta(days=rng.randint(1, 120))
        start = sale_to
    data.event.append(
        (
            event_id, name, rng.choice(_LOCATIONS), rng.choice((None, "Velkommen!", "18 år")),
            start, rng.choice(("Konsert", "Teater", None)), rng.choice((None, event_id * 7)),
            rng.randint(1, 12), None, None, None, rng.choice((0, 10, 25)),
            sale_from, sale_to, hidden,
        )
    )  # fmt: skip
    if scenario == "no_ticket_groups":
        return
    n_groups = (
        2 if scenario in ("zero_tickets_group", "limits_and_non_netsale") else rng.randint(1, 3)
    )
    for g in range(n_groups):
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
        tg = ids.next_tg()
        data.ticket_group.append(
            (tg, event_id, rng.choice(_GROUPS), rng.random() < 0.1, limit, sold, num)
        )
        n_prices = 3 if scenario == "limits_and_non_netsale" else rng.randint(1, 3)
        for p in range(n_prices):
            label, member = _PRICES[p % len(_PRICES)]
            netsale = not (scenario == "limits_and_non_netsale" and p == 2) and rng.random() > 0.05
            data.price_group.append(
                (ids.next_pg(), tg, label, member, rng.random() < 0.5, netsale,
                 rng.choice((0, 50, 100, 150, 200, 350)))
            )  # fmt: skip


def _add_purchases(data: SeedData, ids: _Ids, rng: random.Random, ref: datetime) -> None:
    if not data.price_group:
        return
    n_purchases = max(3, len(data.event) * 2)
    card_base = 10_000_000_000
    for i in range(max(2, len(data.event) // 3)):
        data.ticket_card.append(
            (
                card_base + i,
                rng.randint(1, 9999),
                (ref + timedelta(days=rng.randint(-100, 365))).date(),
            )
        )
    ticket_id = 100_000
    for p in range(n_purchases):
        purchase_id = 70_000 + p
        member = rng.randint(1, 9999) if rng.random() < 0.6 else None
        email = f"kjoper{p}@example.org" if member is None or rng.random() < 0.5 else None
        data.purchase.append((purchase_id, member, email))
        on_card = p % 2 == 0  # both kinds always present
        for _ in range(rng.randint(1, 4)):
            ticket_id += 1
            pg = rng.choice(data.price_group)[0]
            used = ref - timedelta(days=rng.randint(0, 30)) if rng.random() < 0.2 else None
            refunded = ref - timedelta(days=1) if rng.random() < 0.05 else None
            data.ticket.append(
                (ticket_id, pg, purchase_id, used, refunded, on_card,
                 "billettluka" if refunded else None, 3 if refunded else None)
            )  # fmt: skip


def _add_payment_errors(data: SeedData, rng: random.Random, ref: datetime) -> None:
    n_errors = max(2, len(data.event) // 5)
    # Price groups by ticket group, in insertion order: a scan per error made seeding quadratic.
    by_group: dict[object, list[tuple[object, ...]]] = {}
    for row in data.price_group:
        by_group.setdefault(row[1], []).append(row)
    for i in range(n_errors):
        key = f"{rng.getrandbits(128):032x}"
        data.payment_error.append(
            (key, ref - timedelta(hours=rng.randint(1, 500)),
             f"{rng.randint(10**15, 10**16 - 1)}" if i % 3 == 0 else None,
             f"feil{i}@example.org" if i % 3 != 0 else None, rng.choice(_MESSAGES))
        )  # fmt: skip
        if i % 2 == 1 or not data.price_group:
            continue  # every other error has no price-group rows (message-only outcome)
        tg = rng.choice(data.ticket_group)[0]
        for pg in by_group.get(tg, ()):
            data.payment_error_price_group.append((key, pg[0], rng.randint(1, 4)))


def _copy_text(rows: Sequence[tuple[object, ...]]) -> io.StringIO:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(_copy_value(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    return buf


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load(conn: psycopg2.extensions.connection, data: SeedData) -> dict[str, int]:
    """COPY the rows into the ``billig`` tables in one transaction; return row counts."""
    counts: dict[str, int] = {}
    table = "event"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM billig.event")
            row = cur.fetchone()
            if row and row[0]:
                conn.rollback()
                raise UsageError("billig.event already has rows; seed an empty mirror database")
            with step("loading the seed") as update:
                for table, rows in data.tables():
                    update(f"loading billig.{table} ({len(rows):,} rows)")
                    cur.copy_expert(f"COPY billig.{table} FROM STDIN", _copy_text(rows))
                    counts[table] = len(rows)
        conn.commit()
    except psycopg2.Error as exc:
        text = exc.diag.message_primary or str(exc).strip().split("\n")[0]
        message = " ".join(text.split()) or type(exc).__name__
        if conn.closed:  # the server went away; the transaction, and every row, went with it
            raise DatabaseError(
                f"seeding billig.{table} failed, the connection was lost: {message}"
            ) from None
        conn.rollback()
        raise SchemaLoadError(
            f"seeding billig.{table} failed (does the database hold schema/billig.sql?): {message}"
        ) from None
    return counts


def seed_billig(
    conn: psycopg2.extensions.connection,
    *,
    events: int,
    seed: int,
    now: datetime | None = None,
) -> dict[str, int]:
    """Generate and load Billig rows; return the row count per table."""
    return load(conn, generate(events, seed, now))
