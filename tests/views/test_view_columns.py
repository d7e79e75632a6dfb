"""Columns through views: origin and nullability of every column of a corpus of view shapes.

Each shape is created in a real PostgreSQL and read back by introspection, so the analysis works
on the definitions exactly as ``pg_get_viewdef`` prints them (qualified names, added casts,
``CASE … ELSE NULL``). An expected column is ``(origin, nullable)``: the base column as
``"schema.table.column"``, ``"expression"``, or None for unknown.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mirror.catalog.model import Catalog, Kind, RelationKey
from mirror.contracts.columns import check_models_in_contract
from mirror.dsn import Dsn
from mirror.provision.providers import Server
from mirror.sources.introspect import introspect
from mirror.sources.sqlalchemy_models import catalog_from_models

BASE = """
CREATE SCHEMA s;
CREATE TABLE s.a (id integer PRIMARY KEY, name text NOT NULL, note text, n integer NOT NULL,
                  m integer);
CREATE TABLE s.b (id integer PRIMARY KEY, a_id integer NOT NULL REFERENCES s.a, label text NOT NULL,
                  extra text);
CREATE TABLE s.c (id integer NOT NULL, b_id integer, tag text NOT NULL);
CREATE FUNCTION s.shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT t || '!' $$;
CREATE VIEW s.inner_ab AS
    SELECT b.id, a.name, b.label, b.extra FROM s.a a JOIN s.b b ON b.a_id = a.id;
CREATE VIEW s.outer_ab AS SELECT a.name, b.label FROM s.a a LEFT JOIN s.b b ON b.a_id = a.id;
"""

Expected = list[tuple[str, str | None, bool | None]]

# name → (definition, expected columns in order: (column, origin, nullable))
SHAPES: dict[str, tuple[str, Expected]] = {
    "plain_columns_keep_origin_and_not_null": (
        "SELECT id, name, note FROM s.a",
        [("id", "s.a.id", False), ("name", "s.a.name", False), ("note", "s.a.note", True)],
    ),
    "aliases_rename_but_keep_origin": (
        "SELECT x.id AS ident, x.name AS title FROM s.a AS x",
        [("ident", "s.a.id", False), ("title", "s.a.name", False)],
    ),
    "inner_join_keeps_not_null": (
        "SELECT a.name, b.label, b.extra FROM s.a a JOIN s.b b ON b.a_id = a.id",
        [("name", "s.a.name", False), ("label", "s.b.label", False), ("extra", "s.b.extra", True)],
    ),
    "left_join_makes_the_right_side_nullable": (
        "SELECT a.name, b.label, b.id FROM s.a a LEFT JOIN s.b b ON b.a_id = a.id",
        [("name", "s.a.name", False), ("label", "s.b.label", True), ("id", "s.b.id", True)],
    ),
    "right_join_makes_the_left_side_nullable": (
        "SELECT a.name, b.label FROM s.a a RIGHT JOIN s.b b ON b.a_id = a.id",
        [("name", "s.a.name", True), ("label", "s.b.label", False)],
    ),
    "full_join_makes_both_sides_nullable": (
        "SELECT a.name, b.label FROM s.a a FULL JOIN s.b b ON b.a_id = a.id",
        [("name", "s.a.name", True), ("label", "s.b.label", True)],
    ),
    "a_filter_on_the_outer_side_makes_the_join_inner": (
        "SELECT a.name, b.label, b.extra FROM s.a a LEFT JOIN s.b b ON b.a_id = a.id "
        "WHERE b.id > 0",
        [("name", "s.a.name", False), ("label", "s.b.label", False), ("extra", "s.b.extra", True)],
    ),
    "a_filter_on_one_side_of_a_full_join_leaves_the_other_nullable": (
        "SELECT a.name, b.label FROM s.a a FULL JOIN s.b b ON b.a_id = a.id WHERE a.name <> ''",
        [("name", "s.a.name", False), ("label", "s.b.label", True)],
    ),
    "is_not_null_filter_makes_a_nullable_column_not_null": (
        "SELECT note, m FROM s.a WHERE note IS NOT NULL AND m = ANY (ARRAY[1, 2])",
        [("note", "s.a.note", False), ("m", "s.a.m", False)],
    ),
    "an_or_filter_proves_nothing": (
        "SELECT note FROM s.a WHERE note IS NOT NULL OR n > 0",
        [("note", "s.a.note", True)],
    ),
    "coalesce_with_a_non_null_argument_is_not_null": (
        "SELECT coalesce(note, name) AS t, coalesce(note, 'none') AS u, coalesce(note, note) AS v "
        "FROM s.a",
        [("t", "expression", False), ("u", "expression", False), ("v", "expression", True)],
    ),
    "case_without_else_is_nullable": (
        "SELECT CASE WHEN n > 0 THEN name END AS t, "
        "CASE WHEN n > 0 THEN name ELSE 'x' END AS u FROM s.a",
        [("t", "expression", True), ("u", "expression", False)],
    ),
    "functions": (
        "SELECT upper(name) AS u, upper(note) AS un, s.shout(name) AS sh, now() AS t, "
        "nullif(name, '') AS nn, name || 'x' AS cat, n + 1 AS plus FROM s.a",
        [
            ("u", "expression", False),
            ("un", "expression", True),
            ("sh", "expression", True),
            ("t", "expression", False),
            ("nn", "expression", True),
            ("cat", "expression", False),
            ("plus", "expression", False),
        ],
    ),
    "casts_keep_origin": (
        "SELECT name::varchar(10) AS short, n::bigint AS big FROM s.a",
        [("short", "s.a.name", False), ("big", "s.a.n", False)],
    ),
    "constants": (
        "SELECT 1 AS one, NULL::text AS nothing, 'x'::text AS x FROM s.a",
        [("one", "expression", False), ("nothing", "expression", True), ("x", "expression", False)],
    ),
    "a_view_over_an_inner_join_view_keeps_origins": (
        "SELECT v.name, v.label, v.extra FROM s.inner_ab v",
        [("name", "s.a.name", False), ("label", "s.b.label", False), ("extra", "s.b.extra", True)],
    ),
    "a_view_over_an_outer_join_view_keeps_its_nullability": (
        "SELECT o.name, o.label FROM s.outer_ab o",
        [("name", "s.a.name", False), ("label", "s.b.label", True)],
    ),
    "an_outer_join_to_a_view_makes_its_columns_nullable": (
        "SELECT c.tag, v.label FROM s.c c LEFT JOIN s.inner_ab v ON v.id = c.b_id",
        [("tag", "s.c.tag", False), ("label", "s.b.label", True)],
    ),
    "an_inner_join_nested_in_an_outer_join": (
        "SELECT a.name, b.label, c.tag FROM s.a a "
        "LEFT JOIN (s.b b JOIN s.c c ON c.b_id = b.id) ON b.a_id = a.id",
        [("name", "s.a.name", False), ("label", "s.b.label", True), ("tag", "s.c.tag", True)],
    ),
    "a_filter_on_the_nested_side_proves_the_whole_nested_row": (
        "SELECT a.name, b.label, c.b_id FROM s.a a "
        "LEFT JOIN (s.b b LEFT JOIN s.c c ON c.b_id = b.id) ON b.a_id = a.id WHERE c.tag = 'x'",
        [("name", "s.a.name", False), ("label", "s.b.label", False), ("b_id", "s.c.b_id", False)],
    ),
    "subquery_in_from": (
        "SELECT q.t, q.k FROM (SELECT name AS t, note AS k FROM s.a) q",
        [("t", "s.a.name", False), ("k", "s.a.note", True)],
    ),
    "lateral_subquery_under_a_left_join": (
        "SELECT a.name, l.label FROM s.a a LEFT JOIN LATERAL "
        "(SELECT b.label FROM s.b b WHERE b.a_id = a.id LIMIT 1) l ON true",
        [("name", "s.a.name", False), ("label", "s.b.label", True)],
    ),
    "common_table_expression": (
        "WITH w AS (SELECT id, note FROM s.a) SELECT w.id, w.note FROM w",
        [("id", "s.a.id", False), ("note", "s.a.note", True)],
    ),
    "union_of_different_columns_is_an_expression": (
        "SELECT name FROM s.a UNION ALL SELECT label FROM s.b",
        [("name", "expression", False)],
    ),
    "union_with_a_nullable_branch_is_nullable": (
        "SELECT name FROM s.a UNION SELECT extra FROM s.b",
        [("name", "expression", True)],
    ),
    "union_of_the_same_column_keeps_its_origin": (
        "SELECT name FROM s.a WHERE n > 0 UNION SELECT name FROM s.a WHERE n < 0",
        [("name", "s.a.name", False)],
    ),
    "aggregates": (
        "SELECT a_id, count(*) AS k, count(extra) AS ke, max(label) AS top FROM s.b GROUP BY a_id",
        [
            ("a_id", "s.b.a_id", False),
            ("k", "expression", False),
            ("ke", "expression", False),
            ("top", "expression", True),
        ],
    ),
    "rollup_makes_grouped_columns_nullable": (
        "SELECT a_id, count(*) AS k FROM s.b GROUP BY ROLLUP (a_id)",
        [("a_id", "s.b.a_id", True), ("k", "expression", False)],
    ),
    "sublinks": (
        "SELECT EXISTS (SELECT 1 FROM s.b WHERE b.a_id = a.id) AS has, "
        "(SELECT max(b.label) FROM s.b WHERE b.a_id = a.id) AS top FROM s.a",
        [("has", "expression", False), ("top", "expression", True)],
    ),
    "join_using": (
        "SELECT id, a.name, b.label FROM s.a JOIN s.b USING (id)",
        [("id", "s.a.id", False), ("name", "s.a.name", False), ("label", "s.b.label", False)],
    ),
    "full_join_using_merges_into_an_expression": (
        "SELECT id, b.label FROM s.a FULL JOIN s.b USING (id)",
        [("id", "expression", False), ("label", "s.b.label", True)],
    ),
    "values_list": (
        "SELECT * FROM (VALUES (1, 'x'), (2, NULL)) AS v (k, t)",
        [("k", "expression", False), ("t", "expression", True)],
    ),
    "a_set_returning_function_cannot_be_followed": (
        "SELECT g.g, a.name FROM s.a a, generate_series(1, 3) g(g)",
        [("g", None, None), ("name", "s.a.name", False)],
    ),
    "a_recursive_query_cannot_be_followed": (
        "WITH RECURSIVE r (k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r WHERE k < 3) "
        "SELECT k FROM r",
        [("k", None, None)],
    ),
    "a_query_without_rows_promises_nothing": (
        "SELECT NULL::integer AS k, name FROM s.a WHERE false",
        [("k", None, None), ("name", None, None)],
    ),
    "a_system_catalog_cannot_be_followed": (
        "SELECT relname FROM pg_catalog.pg_class",
        [("relname", None, None)],
    ),
}


@pytest.fixture(scope="module")
def corpus_database(billig_server: Server) -> Iterator[Dsn]:
    """Every shape created as a view (and one also as a materialized view)."""
    name = f"views_{secrets.token_hex(6)}"
    dsn = billig_server.create_database(name)
    try:
        with contextlib.closing(billig_server.connect(name)) as conn, conn.cursor() as cur:
            cur.execute(BASE)
            for view, (definition, _) in SHAPES.items():
                cur.execute(f"CREATE VIEW s.{view} AS {definition}")
            inner = SHAPES["inner_join_keeps_not_null"][0]
            cur.execute(f"CREATE MATERIALIZED VIEW s.mat AS {inner}")
            conn.commit()
        yield dsn
    finally:
        billig_server.drop_database(name)


@pytest.fixture(scope="module")
def corpus(corpus_database: Dsn) -> Catalog:
    """The corpus read back by introspection of its whole schema."""
    return introspect(corpus_database, schemas=["s"]).catalog


def _derived(catalog: Catalog, name: str) -> Expected:
    rel = catalog.get(RelationKey("s", name))
    assert rel is not None
    return [
        (col.name, None if col.origin is None else str(col.origin), col.nullable)
        for col in rel.columns
    ]


@pytest.mark.parametrize("shape", SHAPES)
def test_each_view_column_gets_its_origin_and_nullability(corpus: Catalog, shape: str) -> None:
    assert _derived(corpus, shape) == SHAPES[shape][1]


def test_materialized_views_are_analysed_like_views(corpus: Catalog) -> None:
    rel = corpus.get(RelationKey("s", "mat"))
    assert rel is not None and rel.kind is Kind.MATERIALIZED_VIEW
    assert _derived(corpus, "mat") == SHAPES["inner_join_keeps_not_null"][1]


def test_a_view_asked_alone_is_followed_through_relations_out_of_scope(
    corpus_database: Dsn,
) -> None:
    # Only the outer view is asked: the nested view and the tables come from its rewrite rule.
    key = RelationKey("s", "an_outer_join_to_a_view_makes_its_columns_nullable")
    asked = introspect(corpus_database, relations=[key], namesakes=False)
    assert set(asked.catalog.relations) == {key}
    assert _derived(asked.catalog, key.name) == SHAPES[key.name][1]
    assert asked.statements[-1] == "view_sources"


def test_tables_alone_need_no_view_statement(corpus_database: Dsn) -> None:
    asked = introspect(corpus_database, relations=[RelationKey("s", "a")], namesakes=False)
    assert "view_sources" not in asked.statements


def test_the_models_check_compares_a_non_null_field_with_the_derived_nullability(
    corpus: Catalog,
) -> None:
    class Base(DeclarativeBase):
        pass

    class OuterAB(Base):
        __tablename__ = "outer_ab"
        __table_args__: ClassVar[dict[str, Any]] = {"schema": "s", "info": {"kind": "view"}}
        name: Mapped[str] = mapped_column(Text, primary_key=True)
        label: Mapped[str] = mapped_column(Text)  # non-null, over the outer join's side

    found = check_models_in_contract(corpus, catalog_from_models(Base))
    assert [(f.object, f.change) for f in found] == [("s.outer_ab.label", "loosened")]
    assert "may now be NULL (via s.b.label" in found[0].message
    OuterAB.__table__.c.label.nullable = True  # the model allows NULL: nothing to say
    assert check_models_in_contract(corpus, catalog_from_models(Base)) == []
