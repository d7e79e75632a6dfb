"""Scope arrays sent as single literals: any name survives, and large scopes stay correct.

Introspection sends the asked (schema, name) pairs and oids as PostgreSQL array literals, one
constant each, instead of psycopg2's element-by-element ``ARRAY[...]``; the names below are the
ones a hand-written literal could get wrong.
"""

from __future__ import annotations

import contextlib

from psycopg2 import sql
from sqlalchemy.engine import URL

from mirror.catalog.model import RelationKey
from mirror.provision.providers import connect_url
from mirror.sources.introspect import introspect

SCHEMA = 'we{ird,\\ "s"'
NAMES = ['a"b', "c\\d", "e{f}", "g,h", "i j", "NULL", "", "x\\u003a", "ÆØÅ"]


def _create(url: URL, names: list[str]) -> None:
    with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        for name in names:
            table = sql.Identifier(SCHEMA, name)
            cur.execute(sql.SQL("CREATE TABLE {} (x integer)").format(table))
        conn.commit()


def test_every_awkward_name_is_found_by_its_pair(fresh_database: URL) -> None:
    names = [n for n in NAMES if n]  # PostgreSQL has no empty identifiers
    _create(fresh_database, names)
    asked = [RelationKey(SCHEMA, n) for n in names] + [RelationKey(SCHEMA, "missing")]
    for namesakes in (True, False):
        catalog = introspect(fresh_database, relations=asked, namesakes=namesakes).catalog
        assert set(catalog.relations) == {RelationKey(SCHEMA, n) for n in names}
        assert catalog.schemas == {SCHEMA}


def test_a_large_scope_finds_exactly_the_asked_relations_and_their_namesakes(
    fresh_database: URL,
) -> None:
    names = [f"t{i}" for i in range(300)]
    _create(fresh_database, names)
    moved = RelationKey("other", "t8")  # same name as an asked one, in another schema
    dotted = RelationKey("public", f"{SCHEMA}.t10")  # an asked one quoted as one identifier
    stranger = RelationKey("other", "t7")  # same name as one not asked
    with contextlib.closing(connect_url(fresh_database)) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA other")
        for key in (moved, dotted, stranger):
            table = sql.Identifier(key.schema, key.name)
            cur.execute(sql.SQL("CREATE TABLE {} (x integer)").format(table))
        conn.commit()
    asked = [RelationKey(SCHEMA, n) for n in names[::2]]  # every other one
    found = set(introspect(fresh_database, relations=asked).catalog.relations)
    assert found == {*asked, moved, dotted}
    without = set(introspect(fresh_database, relations=asked, namesakes=False).catalog.relations)
    assert without == set(asked)
