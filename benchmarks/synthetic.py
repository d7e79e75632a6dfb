"""Synthetic production-sized Billig catalogs: N relations of DDL, deterministic for a seed.

The drift benchmark needs databases that look like a grown production Billig: thousands of
relations in schema ``billig`` next to the nine the site reads, 10–20 columns each of mixed
types (with NOT NULL, defaults, arrays, numerics, time zones), primary keys named after the
table as Billig does (some composite, some missing), foreign keys to earlier tables, one view in
forty, and a few identifiers that need quoting (upper case, a dot, a space). The DDL is one
script that runs in one transaction, which is what keeps creating 2,000 tables to seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mirror.catalog.model import quote_ident

SCHEMA = "billig"

_WORDS = (
    "seat", "theater", "organisation", "event_type", "layout", "discount", "membership", "venue",
    "invoice", "refund", "voucher", "sale", "settlement", "shift", "cashier", "terminal",
    "reservation", "queue", "campaign", "sponsor", "artist", "stage", "row", "section", "gate",
)  # fmt: skip

# (type, weight, may have a default) – the mix a ticketing schema tends to have.
_TYPES: tuple[tuple[str, int, str | None], ...] = (
    ("integer", 20, "0"),
    ("bigint", 4, None),
    ("smallint", 3, "1"),
    ("character varying(140)", 10, None),
    ("character varying(255)", 8, None),
    ("text", 8, "''::text"),
    ("boolean", 8, "false"),
    ("timestamp without time zone", 8, "now()"),
    ("timestamp with time zone", 3, "now()"),
    ("date", 4, None),
    ("numeric(10,2)", 4, "0"),
    ("double precision", 2, None),
    ("jsonb", 2, "'{}'::jsonb"),
    ("uuid", 2, None),
    ("integer[]", 2, None),
    ("bytea", 1, None),
    ("interval", 1, None),
    ("character(2)", 1, None),
)
_TYPE_NAMES = [t for t, _, _ in _TYPES]
_TYPE_WEIGHTS = [w for _, w, _ in _TYPES]
_DEFAULTS = {t: d for t, _, d in _TYPES}

_COLUMN_WORDS = (
    "name", "note", "amount", "price", "created", "updated", "valid_from", "valid_to", "code",
    "status", "owner_member_id", "owner_email", "external_id", "number", "label", "comment",
    "flags", "position", "count", "limit", "hidden", "sort_key", "payload", "reference", "kind",
)  # fmt: skip

VIEW_EVERY = 40  # one relation in forty is a view
QUOTED_EVERY = 250  # one relation in 250 has a name that needs quoting


@dataclass(frozen=True, slots=True)
class SyntheticSchema:
    """The DDL of ``relations`` relations and what it contains."""

    relations: int
    tables: int
    views: int
    columns: int
    ddl: str


@dataclass(slots=True)
class _Table:
    name: str
    columns: list[str]
    pk: tuple[str, ...]
    int_pk: bool  # a single integer primary key another table can reference


def _relation_name(i: int, rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    if i % QUOTED_EVERY == QUOTED_EVERY - 1:
        return rng.choice((f"{word.title()}Map_{i}", f"{word}.archive_{i}", f"{word} log {i}"))
    return f"{word}_{i:05d}"


def generate(relations: int, *, seed: int = 7, schema: str = SCHEMA) -> SyntheticSchema:
    """DDL for ``relations`` relations in ``schema`` (created by the caller or by schema.sql)."""
    rng = random.Random(seed)
    q_schema = quote_ident(schema)
    statements: list[str] = []
    tables: list[_Table] = []
    n_views = n_columns = 0
    for i in range(relations):
        name = _relation_name(i, rng)
        qualified = f"{q_schema}.{quote_ident(name)}"
        if tables and i % VIEW_EVERY == VIEW_EVERY - 1:
            base = rng.choice(tables)
            cols = rng.sample(base.columns, k=min(len(base.columns), rng.randint(5, 15)))
            select = ", ".join(quote_ident(c) for c in cols)
            statements.append(
                f"CREATE VIEW {qualified} AS SELECT {select} "
                f"FROM {q_schema}.{quote_ident(base.name)}"
            )
            n_views += 1
            n_columns += len(cols)
            continue
        table = _table(name, rng)
        statements.append(_create_table(q_schema, table, tables, rng))
        tables.append(table)
        n_columns += len(table.columns)
    return SyntheticSchema(
        relations=relations,
        tables=len(tables),
        views=n_views,
        columns=n_columns,
        ddl=";\n".join(statements) + ";\n" if statements else "",
    )


def _table(name: str, rng: random.Random) -> _Table:
    roll = rng.random()
    if roll < 0.05:
        return _Table(name, [name], (), False)  # no primary key, like payment_error_price_group
    if roll < 0.15:
        return _Table(name, [name, "line"], (name, "line"), False)  # composite key
    return _Table(name, [name], (name,), True)


def _create_table(q_schema: str, table: _Table, earlier: list[_Table], rng: random.Random) -> str:
    lines = [f"    {quote_ident(c)} integer NOT NULL" for c in table.columns]
    constraints: list[str] = []
    if table.pk:
        cols = ", ".join(quote_ident(c) for c in table.pk)
        pkey = quote_ident(table.name[:55] + "_pkey")
        constraints.append(f"    CONSTRAINT {pkey} PRIMARY KEY ({cols})")
    targets = [t for t in earlier if t.int_pk]
    n_fks = rng.choice((0, 0, 1, 1, 2)) if targets else 0
    for n in range(n_fks):
        target = rng.choice(targets)
        col = f"{target.name[:50]}_ref{n}"
        table.columns.append(col)
        lines.append(
            f"    {quote_ident(col)} integer" + (" NOT NULL" if rng.random() < 0.5 else "")
        )
        constraints.append(
            f"    CONSTRAINT {quote_ident(f'{table.name[:40]}_fk{n}')} FOREIGN KEY "
            f"({quote_ident(col)}) REFERENCES {q_schema}.{quote_ident(target.name)} "
            f"({quote_ident(target.name)})"
        )
    width = rng.randint(11, 20)
    used = set(table.columns)
    while len(table.columns) < width:
        word = rng.choice(_COLUMN_WORDS)
        col = word if word not in used else f"{word}_{len(table.columns)}"
        if col in used:
            continue
        used.add(col)
        type_ = rng.choices(_TYPE_NAMES, _TYPE_WEIGHTS)[0]
        spec = f"    {quote_ident(col)} {type_}"
        if rng.random() < 0.35:
            spec += " NOT NULL"
        default = _DEFAULTS[type_]
        if default is not None and rng.random() < 0.3:
            spec += f" DEFAULT {default}"
        lines.append(spec)
        table.columns.append(col)
    qualified = f"{q_schema}.{quote_ident(table.name)}"
    return f"CREATE TABLE {qualified} (\n" + ",\n".join(lines + constraints) + "\n)"
