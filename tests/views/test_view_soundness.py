"""What the analysis promises holds on real rows: random view shapes over tables with NULLs and
unmatched keys, created in PostgreSQL, read back, and queried.

A column derived non-null never shows a NULL; a column whose origin is a base column only ever
shows values of that column. Shapes vary in join kinds, join order, filters and expressions.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror.catalog.model import RelationKey
from mirror.provision.providers import Server
from mirror.sources.introspect import introspect

TABLES = ("t1", "t2", "t3")
BASE = """
CREATE SCHEMA p;
CREATE TABLE p.t1 (id integer NOT NULL, k integer, a text NOT NULL, b text);
CREATE TABLE p.t2 (id integer NOT NULL, k integer, a text NOT NULL, b text);
CREATE TABLE p.t3 (id integer NOT NULL, k integer, a text NOT NULL, b text);
"""
# Keys that match some rows of the other tables and miss others; NULLs wherever allowed.
ROWS = [(1, 2, "x", None), (2, None, "y", "q"), (3, 9, "z", "r"), (4, 1, "w", None)]
JOINS = ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN")


@pytest.fixture(scope="module")
def database(billig_server: Server) -> Iterator[Any]:
    name = f"sound_{secrets.token_hex(6)}"
    dsn = billig_server.create_database(name)
    try:
        with contextlib.closing(billig_server.connect(name)) as conn:
            with conn.cursor() as cur:
                cur.execute(BASE)
                for i, table in enumerate(TABLES):
                    rows = ROWS[i:] + ROWS[:i]
                    for row in rows[: 3 + i % 2]:
                        cur.execute(f"INSERT INTO p.{table} VALUES (%s, %s, %s, %s)", row)
            conn.commit()
            conn.autocommit = True
            yield dsn, conn
    finally:
        billig_server.drop_database(name)


@st.composite
def shapes(draw: st.DrawFn) -> str:
    order = draw(st.permutations(TABLES))
    count = draw(st.integers(1, 3))
    used = list(order[:count])
    sql = f"p.{used[0]} {used[0]}"
    for i, table in enumerate(used[1:], start=1):
        kind = draw(st.sampled_from(JOINS))
        other = draw(st.sampled_from(used[:i]))
        sql += f" {kind} p.{table} {table} ON {other}.k = {table}.id"
    columns = [f"{t}.{c}" for t in used for c in ("id", "k", "a", "b")]
    targets = [f"{c} AS {c.replace('.', '_')}" for c in columns]
    extras = draw(
        st.lists(
            st.sampled_from(
                [
                    "coalesce({x}, {y})",
                    "upper({x})",
                    "CASE WHEN {y} IS NULL THEN {x} END",
                    "CASE WHEN {y} IS NULL THEN {x} ELSE 'e' END",
                    "{x} || {y}",
                    "nullif({x}, 'x')",
                ]
            ),
            max_size=3,
        )
    )
    texts = [c for c in columns if c.endswith((".a", ".b"))]
    for i, template in enumerate(extras):
        x, y = draw(st.sampled_from(texts)), draw(st.sampled_from(texts))
        targets.append(template.format(x=x, y=y) + f" AS e{i}")
    filters = draw(
        st.lists(
            st.sampled_from(
                [f"{c} IS NOT NULL" for c in columns]
                + [f"{c} > 0" for c in columns if c.endswith((".id", ".k"))]
                + [f"({c} IS NOT NULL OR {columns[0]} > 1)" for c in columns]
            ),
            max_size=2,
        )
    )
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    return f"SELECT {', '.join(targets)} FROM {sql}{where}"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=shapes())
def test_derived_promises_hold_on_the_rows(database: Any, shape: str) -> None:
    dsn, conn = database
    name = f"v_{secrets.token_hex(4)}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE VIEW p.{name} AS {shape}")
        try:
            view = introspect(dsn, relations=[RelationKey("p", name)], namesakes=False)
            rel = view.catalog.get(RelationKey("p", name))
            assert rel is not None
            for col in rel.columns:
                # Every column of these shapes can be followed.
                assert col.origin is not None and col.nullable is not None, (shape, col)
                if col.nullable is False:
                    cur.execute(f'SELECT count(*) FROM p.{name} WHERE "{col.name}" IS NULL')
                    assert cur.fetchone() == (0,), (shape, col.name)
                source = col.origin.column
                if source is not None:
                    cur.execute(
                        f'SELECT count(*) FROM p.{name} WHERE "{col.name}" IS NOT NULL AND '
                        f'"{col.name}" NOT IN (SELECT "{source.column}" FROM p.{source.relation} '
                        f'WHERE "{source.column}" IS NOT NULL)'
                    )
                    assert cur.fetchone() == (0,), (shape, col.name)
        finally:
            cur.execute(f"DROP VIEW p.{name}")
