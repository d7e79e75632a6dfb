"""schema/billig.sql: production shape, loads in one transaction, located errors."""

from __future__ import annotations

import contextlib

import pytest

from mirror.errors import SchemaLoadError
from mirror.provision.schema import load_schema, split_statements


def test_split_respects_quotes_comments_and_dollar_quotes():
    sql = "select 'a;b'; -- c;d\nselect $x$ ; $x$;\n/* ; */ select \"q;\""
    stmts = list(split_statements(sql))
    assert [s.text for s in stmts] == ["select 'a;b';", "select $x$ ; $x$;", 'select "q;"']
    assert [s.line for s in stmts] == [1, 2, 3]


def test_schema_loads_and_can_be_reapplied_to_an_empty_database(billig_server, fresh_database):
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        assert load_schema(conn) > 9
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA billig CASCADE")
        conn.commit()
        load_schema(conn)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'billig' AND c.relkind IN ('r','v')"
            )
            kinds = dict(cur.fetchall())
    assert kinds["event_lim_web"] == "v"
    assert len(kinds) == 9


def test_payment_error_price_group_has_no_primary_key(billig_session):
    from sqlalchemy import text

    pk = billig_session.execute(
        text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'p'"
            " AND conrelid = 'billig.payment_error_price_group'::regclass"
        )
    ).scalar_one()
    assert pk == 0


def test_syntax_error_names_statement_and_line_and_loads_nothing(
    billig_server, fresh_database, tmp_path
):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE SCHEMA billig;\n\nCREATE TABLE billig.x (\n  id integr NOT NULL\n);\n")
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        with pytest.raises(SchemaLoadError, match=r"bad\.sql:3: statement `CREATE TABLE billig\.x"):
            load_schema(conn, bad)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'billig'")
            assert cur.fetchone() == (0,)


def test_empty_schema_file_is_an_error(billig_server, fresh_database, tmp_path):
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing here\n")
    with (
        contextlib.closing(billig_server.connect(fresh_database.database)) as conn,
        pytest.raises(SchemaLoadError, match="no SQL statement"),
    ):
        load_schema(conn, empty)
