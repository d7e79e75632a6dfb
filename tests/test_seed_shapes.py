"""Any Billig schema seeds: generated schemas of every shape a real one has, and named real ones.

Each generated schema is loaded into a fresh database of the session's server and seeded as
``billig mirror seed`` does; every base table must get rows (or the seed must name why not), and
every Billig scenario whose columns the schema has must show in the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed_scenarios import scenario_gaps

NOW = datetime(2026, 11, 25)
ROOT = Path(__file__).resolve().parent.parent

# (SQL type, whether two rows get distinct values: a unique column needs them)
TYPES = (
    "integer", "bigint", "smallint", "numeric(5,2)", "numeric(3,3)", "text", "varchar(12)",
    "character(3)", "boolean", "date", "timestamp", "timestamptz", "time", "interval", "uuid",
    "jsonb", "json", "bytea", "inet", "cidr", "money", "bit(4)", "varbit(6)", "int4range",
    "tsrange", "daterange", "integer[]", "text[]", "macaddr", "double precision", "real",
)  # fmt: skip


@dataclass
class Shape:
    """A schema being generated: its statements and the names of its base tables."""

    prefix: str  # how a table name is written: billig.x or public."billig.x"
    statements: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def name(self, bare: str) -> str:
        return f'public."billig.{bare}"' if self.prefix == "dotted" else f"billig.{bare}"

    def sql(self) -> str:
        head = "CREATE SCHEMA billig;\n" if self.prefix != "dotted" else ""
        return head + "\n".join(self.statements) + "\n"


@st.composite
def schemas(draw: st.DrawFn) -> Shape:
    shape = Shape(draw(st.sampled_from(["billig", "dotted"])))
    enum, domain = shape.name("mood"), shape.name("positive")
    shape.statements += [
        f"CREATE TYPE {enum} AS ENUM ('happy', 'sad', 'meh');",
        f"CREATE DOMAIN {domain} AS integer NOT NULL CHECK (VALUE > 10 AND VALUE < 100000);",
    ]
    # The Billig tables: an event table (base table, or a web table alone), groups, prices.
    event = shape.name(draw(st.sampled_from(["event", "event_lim_web", "show"])))
    event_key = draw(st.sampled_from(["event integer PRIMARY KEY", "id serial PRIMARY KEY"]))
    key_column = event_key.split()[0]
    event_cols = [event_key, "event_name varchar(140) NOT NULL"]
    if draw(st.booleans()):
        event_cols += ["sale_from timestamp NOT NULL", "sale_to timestamp NOT NULL"]
        if draw(st.booleans()):
            event_cols.append("CONSTRAINT sale_order CHECK (sale_from < sale_to)")
    if draw(st.booleans()):
        event_cols.append("hidden boolean NOT NULL DEFAULT false")
    shape.statements.append(f"CREATE TABLE {event} ({', '.join(event_cols)});")
    shape.tables.append(event)
    if draw(st.booleans()):
        view = shape.name("event_view")
        shape.statements.append(f"CREATE VIEW {view} AS SELECT * FROM {event};")
    groups = shape.name("ticket_group")
    group_cols = [
        "ticket_group integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        f"event integer NOT NULL REFERENCES {event} ({key_column})",
        "num integer NOT NULL", "num_sold integer NOT NULL",
    ]  # fmt: skip
    if draw(st.booleans()):
        group_cols.append("CHECK (num_sold <= num AND num_sold >= 0)")
    if draw(st.booleans()):
        group_cols.append("ticket_limit integer")
    if draw(st.booleans()):
        group_cols.append("hidden boolean")  # a meaning on another table than production's
    shape.statements.append(f"CREATE TABLE {groups} ({', '.join(group_cols)});")
    shape.tables.append(groups)
    if draw(st.booleans()):
        prices = shape.name("price_group")
        shape.statements.append(
            f"CREATE TABLE {prices} (price_group serial PRIMARY KEY, ticket_group integer NOT"
            f" NULL REFERENCES {groups}, netsale boolean NOT NULL, price_nok numeric(8,2) NOT"
            " NULL CHECK (price_nok >= 0));"
        )
        shape.tables.append(prices)
    # Tables of the site's own: every type, keys of every kind, checks, cycles, partitions.
    for index in range(draw(st.integers(1, 4))):
        _add_table(draw, shape, index, enum, domain, event, key_column)
    if draw(st.booleans()):
        _add_cycle(shape)
    if draw(st.booleans()):
        _add_partitioned(draw, shape)
    return shape


def _add_table(
    draw: st.DrawFn, shape: Shape, index: int, enum: str, domain: str, event: str, key: str
) -> None:
    name = shape.name(f"extra_{index}")
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=6))
    cols = [f"c{i} {t}{' NOT NULL' if draw(st.booleans()) else ''}" for i, t in enumerate(types)]
    cols += [f"mood {enum} NOT NULL", f"amount {domain}"]
    key_kind = draw(st.sampled_from(["serial", "identity", "composite", "none"]))
    if key_kind == "serial":
        cols.insert(0, "id serial PRIMARY KEY")
    elif key_kind == "identity":
        cols.insert(0, "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    elif key_kind == "composite":
        cols += [
            "part_a integer NOT NULL",
            "part_b varchar(8) NOT NULL",
            "PRIMARY KEY (part_a, part_b)",
        ]
    if draw(st.booleans()):
        cols += ["low integer NOT NULL", "high integer NOT NULL", "CHECK (low <= high)"]
    if draw(st.booleans()):
        cols += ["code varchar(5) NOT NULL UNIQUE", "CHECK (length(code) = 5)"]
    if draw(st.booleans()):
        cols += ["kind text NOT NULL CHECK (kind IN ('a', 'b', 'c'))"]
    if draw(st.booleans()):
        cols += ["twice integer GENERATED ALWAYS AS (amount * 2) STORED"]
    if draw(st.booleans()):
        cols += [f"event integer NOT NULL REFERENCES {event} ({key})"]
    if draw(st.booleans()):
        cols += ["label text NOT NULL", "flag boolean NOT NULL", "UNIQUE (label, flag)"]
    earlier = [t for t in shape.tables if "extra_" in t]
    if earlier and draw(st.booleans()):
        target = draw(st.sampled_from(earlier))
        cols += (
            [f"other integer REFERENCES {target} (id)"]
            if "serial" in _key_of(shape, target)
            else []
        )
    if key_kind in ("serial", "identity") and draw(st.booleans()):
        cols += [f"parent {'integer' if key_kind == 'serial' else 'bigint'} REFERENCES {name} (id)"]
    shape.statements.append(f"CREATE TABLE {name} ({', '.join(cols)});")
    if key_kind == "composite" and draw(st.booleans()):
        child = shape.name(f"extra_{index}_child")
        shape.statements.append(
            f"CREATE TABLE {child} (a integer NOT NULL, b varchar(8) NOT NULL, note text,"
            f" FOREIGN KEY (a, b) REFERENCES {name} (part_a, part_b));"
        )
        shape.tables.append(child)
    shape.tables.append(name)


def _key_of(shape: Shape, table: str) -> str:
    statement = next(s for s in shape.statements if s.startswith(f"CREATE TABLE {table} ("))
    return statement.split("(", 1)[1].split(",", 1)[0]


def _add_cycle(shape: Shape) -> None:
    left, right = shape.name("cycle_left"), shape.name("cycle_right")
    shape.statements += [
        f"CREATE TABLE {left} (id integer PRIMARY KEY, right_id integer);",
        f"CREATE TABLE {right} (id integer PRIMARY KEY,"
        f" left_id integer NOT NULL REFERENCES {left});",
        f"ALTER TABLE {left} ADD FOREIGN KEY (right_id) REFERENCES {right};",
    ]
    shape.tables += [left, right]


def _add_partitioned(draw: st.DrawFn, shape: Shape) -> None:
    parent = shape.name("measure")
    how = draw(st.sampled_from(["range", "list", "hash"]))
    if how == "range":
        shape.statements += [
            f"CREATE TABLE {parent} (k integer NOT NULL, v text) PARTITION BY RANGE (k);",
            f"CREATE TABLE {shape.name('measure_low')} PARTITION OF {parent}"
            " FOR VALUES FROM (MINVALUE) TO (1000);",
            f"CREATE TABLE {shape.name('measure_high')} PARTITION OF {parent}"
            " FOR VALUES FROM (1000) TO (MAXVALUE);",
        ]
    elif how == "list":
        shape.statements += [
            f"CREATE TABLE {parent} (region text NOT NULL, v integer) PARTITION BY LIST (region);",
            f"CREATE TABLE {shape.name('measure_no')} PARTITION OF {parent} FOR VALUES IN ('no');",
            f"CREATE TABLE {shape.name('measure_se')} PARTITION OF {parent}"
            " FOR VALUES IN ('se', 'dk');",
        ]
    else:
        shape.statements += [
            f"CREATE TABLE {parent} (k integer NOT NULL, v text) PARTITION BY HASH (k);",
            *(
                f"CREATE TABLE {shape.name(f'measure_{r}')} PARTITION OF {parent}"
                f" FOR VALUES WITH (MODULUS 2, REMAINDER {r});"
                for r in range(2)
            ),
        ]


def _empty_tables(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'"
        )
        names = [row[0] for row in cur.fetchall()]
        empty = []
        for name in names:
            cur.execute(f"SELECT NOT EXISTS (SELECT FROM {name})")
            if cur.fetchone()[0]:
                empty.append(name)
    conn.rollback()
    return empty


def _unexplained(gaps: dict[str, str]) -> dict[str, str]:
    """The scenarios missing although the schema has the columns that carry them."""
    return {
        scenario: why
        for scenario, why in gaps.items()
        if not why.startswith(("no table has", "no foreign key from"))
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=schemas())
def test_every_generated_schema_seeds_every_table_and_scenario(seeded_schema, shape):
    result, conn = seeded_schema(shape.sql(), now=NOW)
    assert [str(w) for w in result.warnings] == [], shape.sql()
    assert _empty_tables(conn) == [], shape.sql()
    assert _unexplained(scenario_gaps(conn, NOW)) == {}, shape.sql()


def _dev_schema() -> str:
    """A Django site's dev schema: every table a dotted public."billig.x", and the web view of
    the events a plain table with no base event table behind it."""
    return (
        'CREATE TABLE public."billig.event_lim_web" (event integer PRIMARY KEY,'
        " event_name varchar(140) NOT NULL, event_time timestamp, sale_from timestamp NOT NULL,"
        " sale_to timestamp NOT NULL, hidden boolean NOT NULL);\n"
        'CREATE TABLE public."billig.ticket_group" (ticket_group integer PRIMARY KEY,'
        ' event integer NOT NULL REFERENCES public."billig.event_lim_web",'
        " ticket_group_name varchar(140) NOT NULL, ticket_limit integer,"
        " num_sold integer NOT NULL, num integer NOT NULL);\n"
        'CREATE TABLE public."billig.price_group" (price_group integer PRIMARY KEY,'
        ' ticket_group integer NOT NULL REFERENCES public."billig.ticket_group",'
        " price_group_name varchar(140) NOT NULL, netsale boolean NOT NULL,"
        " price integer NOT NULL);\n"
        'CREATE TABLE public."billig.venue" (id serial PRIMARY KEY, name text NOT NULL UNIQUE);\n'
        'CREATE TABLE public."billig.event_venue" ('
        ' event integer NOT NULL REFERENCES public."billig.event_lim_web",'
        ' venue integer NOT NULL REFERENCES public."billig.venue", PRIMARY KEY (event, venue));\n'
    )


def test_a_dev_schema_without_a_base_event_table_seeds_every_scenario(seeded_schema):
    result, conn = seeded_schema(_dev_schema(), now=NOW)
    assert result.warnings == ()
    assert result.counts['public."billig.event_lim_web"'] == 12
    assert _empty_tables(conn) == []
    assert scenario_gaps(conn, NOW) == {}


def test_pg_dump_output_with_restrict_seeds_like_its_source(seeded_schema):
    """A pg_dump --schema-only file as PostgreSQL 18 writes it (\\restrict, SET, set_config)."""
    dump = (
        "\\restrict Qm1x8bGxq2\n\n"
        "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "SET default_table_access_method = heap;\n\n"
        + _dev_schema()
        + 'ALTER TABLE public."billig.venue" OWNER TO someone_else;\n'
        "\n\\unrestrict Qm1x8bGxq2\n"
    )
    result, conn = seeded_schema(dump, now=NOW)
    assert result.warnings == ()
    assert _empty_tables(conn) == []
    assert scenario_gaps(conn, NOW) == {}
