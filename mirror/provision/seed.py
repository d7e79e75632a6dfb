"""Deterministic, realistic seed data for the Billig mirror, written to the schema it finds.

The same ``seed`` (and reference day ``now``) always gives identical rows. The first events are
fixed scenarios covering every edge case the rules care about; the rest are random but
production-shaped. Rows are bulk-loaded with ``COPY``, so 10,000+ events load in seconds.

The seed is schema-driven: :func:`load` reads the target database's catalog first and writes
each Billig table with an explicit column list of the columns that exist there. Known columns
that are gone are left out; columns it does not know get deterministic values from their type,
nullability, default and foreign keys; whatever it could not fill, and how it filled what it
did not know, comes back as located warnings (:class:`SeedWarning`). Billig's tables are found
by their bare names, in schema ``billig`` or as one dotted identifier (``public."billig.event"``,
the layout a Django site's own development schema often has).

Times are naive local time, as in Billig; ``now`` defaults to today's local midnight so that a
seed is stable for a whole day and sale periods stay "past", "current" and "future" relative to
the day the mirror runs.
"""

from __future__ import annotations

import io
import ipaddress
import operator
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg2

from mirror.catalog.model import (
    Catalog,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    quote_ident,
)
from mirror.catalog.type_names import parse_type
from mirror.errors import DatabaseError, SchemaLoadError, UsageError
from mirror.progress import step
from mirror.sources.introspect import introspect

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


# The columns the seed knows, per Billig table, as schema/billig.sql has them: (name, type,
# nullable). A SeedData row holds one value per known column, in this order. Tables are listed
# in an order that respects the foreign keys among them.
KNOWN_TABLES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "event": (
        ("event", "integer", False),
        ("event_name", "character varying(140)", False),
        ("event_location", "character varying(255)", True),
        ("event_note", "text", True),
        ("event_time", "timestamp without time zone", True),
        ("event_type", "character varying(255)", True),
        ("external_id", "integer", True),
        ("organisation", "integer", True),
        ("a4_ticket_layout", "integer", True),
        ("receipt_ticket_layout", "integer", True),
        ("tp_ticket_layout", "integer", True),
        ("ticket_fee", "integer", True),
        ("sale_from", "timestamp without time zone", False),
        ("sale_to", "timestamp without time zone", False),
        ("hidden", "boolean", False),
    ),
    "ticket_group": (
        ("ticket_group", "integer", False),
        ("event", "integer", False),
        ("ticket_group_name", "character varying(140)", False),
        ("is_theater_ticket_group", "boolean", False),
        ("ticket_limit", "integer", True),
        ("num_sold", "integer", False),
        ("num", "integer", False),
    ),
    "price_group": (
        ("price_group", "integer", False),
        ("ticket_group", "integer", False),
        ("price_group_name", "character varying(140)", False),
        ("membership_needed", "boolean", False),
        ("can_be_put_on_card", "boolean", False),
        ("netsale", "boolean", False),
        ("price", "integer", False),
    ),
    "purchase": (
        ("purchase", "integer", False),
        ("owner_member_id", "integer", True),
        ("owner_email", "character varying(254)", True),
    ),
    "ticket_card": (
        ("card", "bigint", False),
        ("owner_member_id", "integer", True),
        ("membership_ends", "date", True),
    ),
    "ticket": (
        ("ticket", "integer", False),
        ("price_group", "integer", False),
        ("purchase", "integer", False),
        ("used", "timestamp without time zone", True),
        ("refunded", "timestamp without time zone", True),
        ("on_card", "boolean", False),
        ("refunder", "text", True),
        ("point_of_refund", "integer", True),
    ),
    "payment_error": (
        ("error", "character varying(64)", False),
        ("failed", "timestamp without time zone", True),
        ("owner_cardno", "character varying(140)", True),
        ("owner_email", "character varying(254)", True),
        ("message", "text", False),
    ),
    "payment_error_price_group": (
        ("error", "character varying(64)", False),
        ("price_group", "integer", False),
        ("number_of_tickets", "integer", False),
    ),
}


@dataclass
class SeedData:
    """Rows per Billig table, one value per column of :data:`KNOWN_TABLES`, in its order."""

    event: list[tuple[object, ...]] = field(default_factory=list)
    ticket_group: list[tuple[object, ...]] = field(default_factory=list)
    price_group: list[tuple[object, ...]] = field(default_factory=list)
    purchase: list[tuple[object, ...]] = field(default_factory=list)
    ticket_card: list[tuple[object, ...]] = field(default_factory=list)
    ticket: list[tuple[object, ...]] = field(default_factory=list)
    payment_error: list[tuple[object, ...]] = field(default_factory=list)
    payment_error_price_group: list[tuple[object, ...]] = field(default_factory=list)
    # The reference time of the rows; values generated for unknown time columns use it too.
    reference: datetime | None = None

    def tables(self) -> Iterable[tuple[str, list[tuple[object, ...]]]]:
        for name in KNOWN_TABLES:
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
    data = SeedData(reference=ref)
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


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class SeedWarning:
    """What the seed wrote differently from what it knows, located at a relation or column.

    ``str()`` is the line the CLI prints, e.g.
    ``seed: billig.price_group.new_col (numeric NOT NULL): filled with 0``.
    """

    relation: str  # as the mirror spells it: billig.event, public."billig.event"
    column: str | None
    detail: str | None  # the column as the mirror has it, e.g. "numeric NOT NULL"
    message: str

    def __str__(self) -> str:
        where = self.relation
        if self.column is not None:
            where += f".{quote_ident(self.column)}"
        if self.detail:
            where += f" ({self.detail})"
        return f"seed: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Rows written per relation (in the order written) and the warnings of the seed."""

    counts: dict[str, int]
    warnings: tuple[SeedWarning, ...] = ()


# How a column is written beyond what the catalog says: whether the database computes it (a
# generated column can never be written) and the type its values must have, domains resolved
# to their base type. One statement for every seeded relation.
_COLUMN_FACTS = """
WITH RECURSIVE asked (schema_name, rel_name) AS (
    SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[])
), col AS (
    SELECT n.nspname, c.relname, a.attname, a.attgenerated <> '' AS generated,
           a.attidentity <> '' AS identity, a.atttypid AS typid, a.atttypmod AS typmod,
           0 AS depth
      FROM asked
      JOIN pg_catalog.pg_namespace AS n ON n.nspname = asked.schema_name
      JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = asked.rel_name
      JOIN pg_catalog.pg_attribute AS a
        ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT col.nspname, col.relname, col.attname, col.generated, col.identity,
           t.typbasetype, t.typtypmod, col.depth + 1
      FROM col JOIN pg_catalog.pg_type AS t ON t.oid = col.typid
     WHERE t.typtype = 'd'
)
SELECT DISTINCT ON (col.nspname, col.relname, col.attname)
       col.nspname::text, col.relname::text, col.attname::text, col.generated, col.identity,
       pg_catalog.format_type(col.typid, col.typmod), t.typcategory::text,
       (SELECT e.enumlabel::text FROM pg_catalog.pg_enum AS e
         WHERE e.enumtypid = col.typid ORDER BY e.enumsortorder LIMIT 1)
  FROM col JOIN pg_catalog.pg_type AS t ON t.oid = col.typid
 ORDER BY col.nspname, col.relname, col.attname, col.depth DESC
"""


@dataclass(frozen=True, slots=True)
class _Facts:
    generated: bool  # computed by the database: never written
    identity: bool
    base_type: str  # format_type of the value's type, domains resolved
    category: str  # pg_type.typcategory of that type
    first_label: str | None  # an enum's first label


_PLAIN_TEXT = _Facts(False, False, "text", "S", None)

# Rows of a foreign key target read to fill an unknown foreign key column (enough to spread
# the references; the ORDER BY keeps the choice deterministic).
_MAX_TARGET_ROWS = 10_000

# Which live type families hold the values of a known column of a family, as they are.
_ACCEPTS = {
    "int": ("int", "number", "text"),
    "text": ("text",),
    "bool": ("bool", "text"),
    "timestamp": ("timestamp", "date", "text"),
    "date": ("date", "timestamp", "text"),
}

# (value for row i, description) of generated values.
_Maker = tuple[Callable[[int], object], str]


@dataclass(frozen=True, slots=True)
class _Output:
    """One column of a COPY: from a known value (``source``), converted, NULLs filled."""

    name: str
    source: int | None
    convert: Callable[[object], object] | None = None
    fill: Callable[[int], object] | None = None


class _CannotFill(Exception):
    """A column needs values the seed cannot make; its relation is not seeded."""


def load(conn: psycopg2.extensions.connection, data: SeedData) -> SeedResult:
    """COPY the rows into the Billig tables the database has, in one transaction.

    Reads the catalog first (the connection must not be inside a transaction), then writes
    each table found with the columns it has; a table that cannot be written is rolled back
    alone and reported. Raises :class:`~mirror.errors.SchemaLoadError` when no Billig table is
    found, :class:`~mirror.errors.UsageError` when the database already has events and
    :class:`~mirror.errors.DatabaseError` when the connection is lost (nothing stays written).
    """
    catalog = introspect(conn, relations=[("billig", name) for name in KNOWN_TABLES]).catalog
    warnings: list[SeedWarning] = []
    chosen = _find_tables(catalog, warnings)
    if not chosen:
        raise SchemaLoadError(
            "seeding billig.event failed (does the database hold schema/billig.sql?): "
            'relation "billig.event" does not exist'
        )
    autocommit = conn.autocommit
    conn.autocommit = False  # one transaction, a savepoint per table
    relation = str(chosen[0][1].key)
    try:
        with conn.cursor() as cur:
            facts = _column_facts(cur, [rel.key for _, rel in chosen])
            first = chosen[0][0]
            for _, rel in (c for c in chosen if c[0] == first):
                cur.execute(f"SELECT EXISTS (SELECT FROM {rel.key})")
                row = cur.fetchone()
                if row and row[0]:
                    conn.rollback()
                    raise UsageError(f"{rel.key} already has rows; seed an empty mirror database")
            ref = data.reference or reference_now()
            counts: dict[str, int] = {}
            with step("loading the seed") as update:
                for known, rel in _ordered(chosen):
                    relation = str(rel.key)
                    rows = getattr(data, known)
                    update(f"loading {relation} ({len(rows):,} rows)")
                    cur.execute("SAVEPOINT billig_seed")
                    try:
                        written = _write(cur, known, rel, rows, facts, ref, warnings)
                    except psycopg2.Error as exc:
                        if conn.closed:
                            raise
                        cur.execute("ROLLBACK TO SAVEPOINT billig_seed")
                        warnings.append(
                            SeedWarning(relation, None, None, f"not seeded: {_message(exc)}")
                        )
                        continue
                    cur.execute("RELEASE SAVEPOINT billig_seed")
                    if written is not None:
                        counts[relation] = written
        conn.commit()
    except psycopg2.Error as exc:
        if conn.closed:  # the server went away; the transaction, and every row, went with it
            raise DatabaseError(
                f"seeding {relation} failed, the connection was lost: {_message(exc)}"
            ) from None
        conn.rollback()
        raise SchemaLoadError(
            f"seeding {relation} failed (does the database hold schema/billig.sql?): "
            f"{_message(exc)}"
        ) from None
    finally:
        if not conn.closed:
            conn.autocommit = autocommit
    return SeedResult(counts, tuple(warnings))


def seed_billig(
    conn: psycopg2.extensions.connection,
    *,
    events: int,
    seed: int,
    now: datetime | None = None,
) -> SeedResult:
    """Generate and load Billig rows; return the row counts per relation and the warnings."""
    return load(conn, generate(events, seed, now))


def _message(exc: psycopg2.Error) -> str:
    text = exc.diag.message_primary or str(exc).strip().split("\n")[0]
    return " ".join(text.split()) or type(exc).__name__


def _find_tables(catalog: Catalog, warnings: list[SeedWarning]) -> list[tuple[str, Relation]]:
    """Each known table's relations: ``billig.<name>``, else ``"billig.<name>"`` in any schema.

    Both layouts may be present at once; then each found relation is seeded.
    """
    chosen: list[tuple[str, Relation]] = []
    for known in KNOWN_TABLES:
        exact, dotted = RelationKey("billig", known), f"billig.{known}"
        found = sorted(
            (rel for rel in catalog if rel.key == exact or rel.key.name == dotted),
            key=lambda rel: (rel.key != exact, rel.key.schema != "public", rel.key),
        )
        tables = [rel for rel in found if rel.kind in (Kind.TABLE, Kind.PARTITIONED_TABLE)]
        if tables:
            chosen.extend((known, rel) for rel in tables)
        elif found:
            kind = found[0].kind.value.replace("_", " ")
            warnings.append(
                SeedWarning(str(found[0].key), None, None, f"is a {kind}, not a table: not seeded")
            )
        else:
            warnings.append(
                SeedWarning(
                    str(exact), None, None, f'not in the mirror (nor as "{dotted}"): not seeded'
                )
            )
    return chosen


def _ordered(chosen: list[tuple[str, Relation]]) -> list[tuple[str, Relation]]:
    """Foreign key targets first; otherwise (and within a cycle) in the known order."""
    keys = {rel.key for _, rel in chosen}
    needs = {
        rel.key: {fk.target for fk in rel.foreign_keys if fk.target in keys} - {rel.key}
        for _, rel in chosen
    }
    pending, done, ordered = list(chosen), set[RelationKey](), []
    while pending:
        ready = next((c for c in pending if needs[c[1].key] <= done), pending[0])
        pending.remove(ready)
        ordered.append(ready)
        done.add(ready[1].key)
    return ordered


def _column_facts(
    cur: psycopg2.extensions.cursor, keys: Sequence[RelationKey]
) -> dict[tuple[RelationKey, str], _Facts]:
    cur.execute(
        _COLUMN_FACTS, {"schemas": [k.schema for k in keys], "names": [k.name for k in keys]}
    )
    return {
        (RelationKey(nsp, rel), col): _Facts(generated, identity, base, category, label)
        for nsp, rel, col, generated, identity, base, category, label in cur.fetchall()
    }


def _write(
    cur: psycopg2.extensions.cursor,
    known: str,
    rel: Relation,
    rows: list[tuple[object, ...]],
    facts: dict[tuple[RelationKey, str], _Facts],
    ref: datetime,
    warnings: list[SeedWarning],
) -> int | None:
    """COPY ``rows`` into ``rel`` with the columns it has; None when it cannot be seeded."""
    relation = str(rel.key)
    try:
        outputs = _plan(cur, known, rel, rows, facts, ref, warnings)
    except _CannotFill:
        return None
    if not outputs:
        warnings.append(SeedWarning(relation, None, None, "no column left to write: not seeded"))
        return None
    written = _build(rows, outputs)
    columns = ", ".join(quote_ident(out.name) for out in outputs)
    cur.copy_expert(f"COPY {relation} ({columns}) FROM STDIN", _copy_text(written))
    return len(written)


def _plan(
    cur: psycopg2.extensions.cursor,
    known: str,
    rel: Relation,
    rows: list[tuple[object, ...]],
    facts: dict[tuple[RelationKey, str], _Facts],
    ref: datetime,
    warnings: list[SeedWarning],
) -> list[_Output]:
    """The columns to write and where their values come from; warns about every difference."""
    relation = str(rel.key)
    spec = KNOWN_TABLES[known]
    index = {name: i for i, (name, _, _) in enumerate(spec)}
    live = {col.name for col in rel.columns}
    for name, _, _ in spec:
        if name not in live:
            warnings.append(SeedWarning(relation, name, None, "not in the mirror, left out"))
    unique = set(rel.primary_key).union(*rel.unique)

    def fact(col: Column) -> _Facts:
        return facts.get((rel.key, col.name), _PLAIN_TEXT)

    def fits(col: Column) -> bool:
        _, known_type, _ = spec[index[col.name]]
        f = fact(col)
        return col.type == known_type or _family(f.base_type, f.category) in _ACCEPTS.get(
            _family(known_type, "S" if "char" in known_type or known_type == "text" else ""), ()
        )

    # Columns whose every value is made here (unknown, or known with values of the wrong type).
    made = {
        col.name
        for col in rel.columns
        if not fact(col).generated
        and col.nullable is False
        and ((col.name not in index and col.default is None and not fact(col).identity)
             or (col.name in index and not fits(col)))
    }  # fmt: skip
    outputs: list[_Output] = []
    for col in rel.columns:
        f = fact(col)
        detail = _detail(col)

        def warn(message: str, col: Column = col, detail: str = detail) -> None:
            warnings.append(SeedWarning(relation, col.name, detail, message))

        def maker(col: Column = col, f: _Facts = f) -> _Maker:
            made_here = _maker(cur, rel, col, f, col.name in unique, len(rows), ref, made)
            if isinstance(made_here, str):
                warnings.append(
                    SeedWarning(
                        relation, col.name, _detail(col),
                        f"could not fill ({made_here}): {relation} not seeded",
                    )
                )  # fmt: skip
                raise _CannotFill
            return made_here

        if f.generated:
            warn("computed by the database, left out")
            continue
        if col.name not in index:
            if col.name not in made:
                warn("left to its default" if col.default or f.identity else "left NULL")
                continue
            fill, what = maker()
            warn(f"filled with {what}")
            outputs.append(_Output(col.name, None, fill=fill))
            continue
        source = index[col.name]
        _, known_type, known_nullable = spec[source]
        if not fits(col):
            if col.name not in made:
                warn(f"was {known_type}, now {col.type}: left NULL")
                continue
            fill, what = maker()
            warn(f"was {known_type}, now {col.type}: filled with {what}")
            outputs.append(_Output(col.name, None, fill=fill))
            continue
        convert = None
        if col.type != known_type and _family(f.base_type, f.category) == "text":
            limit = _length(f.base_type)
            convert = _texts(limit)
            if limit is not None:
                warn(f"was {known_type}: values written as text of at most {limit} characters")
        nulls: Callable[[int], object] | None = None
        if col.nullable is False and known_nullable and any(r[source] is None for r in rows):
            nulls, what = maker()
            warn(f"NOT NULL in the mirror: NULLs filled with {what}")
        outputs.append(_Output(col.name, source, convert, nulls))
    return outputs


def _maker(
    cur: psycopg2.extensions.cursor,
    rel: Relation,
    col: Column,
    facts: _Facts,
    unique: bool,
    n_rows: int,
    ref: datetime,
    made: set[str],
) -> _Maker | str:
    """Values for ``col``: from its foreign key's target rows, else from its type.

    Returns why not as a string when no valid values can be made.
    """
    if n_rows == 0:
        return (lambda i: None), "nothing (no rows)"
    fk = next((fk for fk in rel.foreign_keys if col.name in fk.columns), None)
    if fk is not None:
        if any(c != col.name and c not in made for c in fk.columns):
            return "part of a foreign key whose other columns carry seeded values"
        targets = _target_rows(cur, fk)
        if not targets:
            return f"no rows in {fk.target} to refer to"
        if unique and len(targets) < n_rows:
            return f"{len(targets)} rows in {fk.target} for {n_rows} distinct references"
        pos = fk.columns.index(col.name)
        target_column = quote_ident(fk.target_columns[pos])
        n = len(targets)
        return (lambda i: targets[i % n][pos]), f"values of {fk.target}.{target_column}"
    made_by_type = _by_type(col.name, facts, ref)
    if made_by_type is None:
        return f"the seed makes no values of type {col.type}"
    constant, series = made_by_type
    if not unique or n_rows <= 1:
        return (lambda i: constant), _shown(constant)
    if series is None:
        return f"the seed makes no distinct values of type {col.type}"
    fill, first, second = series
    return fill, f"distinct values ({_shown(first)}, {_shown(second)}, …)"


# (constant value, (value for row i, its first two values) or None when none are distinct)
_ByType = tuple[object, tuple[Callable[[int], object], object, object] | None]


def _by_type(name: str, facts: _Facts, ref: datetime) -> _ByType | None:
    """A deterministic value of the column's type and, where possible, distinct ones."""
    base, category = facts.base_type, facts.category

    def series(fill: Callable[[int], object]) -> tuple[Callable[[int], object], object, object]:
        return fill, fill(0), fill(1)

    if category == "N":
        return 0, series(lambda i: i + 1)
    if category == "S":
        limit = _length(base)
        return name[:limit], series(lambda i: str(i + 1)) if limit is None or limit >= 6 else None
    if category == "B":
        return False, None
    if category == "D":
        if base == "date":
            day = ref.date()
            return day, series(lambda i: day + timedelta(days=i))
        if base.startswith("timestamp"):
            return ref, series(lambda i: ref + timedelta(seconds=i))
        return "00:00:00", None
    if category == "T":
        return "0", series(lambda i: f"{i} seconds")
    if category == "E" and facts.first_label is not None:
        return facts.first_label, None
    if category == "A":
        return "{}", None
    if category == "R":
        return "empty", None
    if category == "I":
        return "127.0.0.1/32", series(lambda i: f"{ipaddress.IPv4Address(i + 1)}/32")
    if category == "V":
        bits = _length(base)
        return ("0" * bits if bits else ""), None
    if base == "uuid":
        return uuid.UUID(int=0), series(lambda i: uuid.UUID(int=i + 1))
    if base in ("json", "jsonb"):
        return "{}", series(lambda i: str(i + 1))
    if base == "bytea":
        return "\\x", series(lambda i: f"\\x{i:08x}")
    return None


def _target_rows(cur: psycopg2.extensions.cursor, fk: ForeignKey) -> list[tuple[object, ...]]:
    """Distinct non-NULL key tuples of a foreign key's target, in a stable order."""
    cols = ", ".join(map(quote_ident, fk.target_columns))
    present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in fk.target_columns)
    cur.execute(
        f"SELECT DISTINCT {cols} FROM {fk.target} WHERE {present} "
        f"ORDER BY {cols} LIMIT {_MAX_TARGET_ROWS}"
    )
    return list(cur.fetchall())


def _family(type_name: str, category: str) -> str:
    """What kind of Python value a type holds: int, number, text, bool, timestamp, date…"""
    if type_name in ("smallint", "integer", "bigint"):
        return "int"
    if category == "N":
        return "number"
    if category == "S":
        return "text"
    if type_name == "boolean" or category == "B":
        return "bool"
    if type_name == "date":
        return "date"
    if type_name.startswith("timestamp"):
        return "timestamp"
    return category or type_name


def _length(type_name: str) -> int | None:
    """The length limit of ``character varying(n)``, ``character(n)``, ``bit(n)``."""
    parsed = parse_type(type_name)
    return parsed.length if parsed is not None else None


def _texts(limit: int | None) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, datetime):
            text = value.isoformat(sep=" ")
        else:
            text = str(value)
        return text if limit is None else text[:limit]

    return convert


def _detail(col: Column) -> str:
    text = col.type + (" NOT NULL" if col.nullable is False else "")
    return text + (f" DEFAULT {col.default}" if col.default is not None else "")


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat(sep=' ')}'"
    return f"'{value}'"


def _build(rows: list[tuple[object, ...]], outputs: list[_Output]) -> list[tuple[object, ...]]:
    """The rows to COPY, column by column; known rows as they are when nothing changes."""
    if all(out.source is not None and out.convert is None and out.fill is None for out in outputs):
        sources = [out.source for out in outputs]
        if rows and sources == list(range(len(rows[0]))):
            return rows
        pick = operator.itemgetter(*sources)
        if len(sources) == 1:
            return [(pick(row),) for row in rows]
        return list(map(pick, rows))
    columns: list[list[object]] = []
    for out in outputs:
        fill = out.fill
        if out.source is None:
            values: list[object] = (
                [fill(i) for i in range(len(rows))] if fill else [None] * len(rows)
            )
        else:
            values = [row[out.source] for row in rows]
            convert = out.convert
            if convert is not None:
                values = [None if v is None else convert(v) for v in values]
            if fill is not None:
                values = [fill(i) if v is None else v for i, v in enumerate(values)]
        columns.append(values)
    return list(zip(*columns, strict=True))


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
