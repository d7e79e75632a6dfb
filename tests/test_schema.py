"""Schema files as people have them: pg_dump output, psql meta-commands, located errors, one
transaction, and inputs that are not regular files."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.errors import SchemaLoadError
from mirror.provision.providers import connect_url, embedded_install
from mirror.provision.schema import load_schema, split_statements

ROOT = Path(__file__).resolve().parent.parent


def _relations(conn) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname || '.' || c.relname, c.relkind::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            " AND c.relkind IN ('r', 'v', 'p', 'm')"
        )
        rows = dict(cur.fetchall())
    conn.rollback()
    return rows


def test_split_respects_quotes_comments_and_dollar_quotes():
    sql = "select 'a;b'; -- c;d\nselect $x$ ; $x$;\n/* ; */ select \"q;\""
    stmts = list(split_statements(sql))
    assert [s.text for s in stmts] == ["select 'a;b';", "select $x$ ; $x$;", 'select "q;"']
    assert [s.line for s in stmts] == [1, 2, 3]


def test_split_follows_escape_strings_and_nested_comments():
    sql = (
        "select E'it\\'s; still a string';\n/* outer /* inner; */\n still a comment; */\nselect 2;"
    )
    stmts = list(split_statements(sql))
    assert [s.text.split()[-1] for s in stmts] == ["string';", "2;"]
    assert [s.line for s in stmts] == [1, 4]


def test_psql_meta_commands_are_left_out_and_lines_stay_right():
    sql = "\\restrict abcDEF123\n\nselect $x$\n\\q\n$x$;\n\\unrestrict abcDEF123\n"
    stmts = list(split_statements(sql))
    assert len(stmts) == 1
    assert "\\q" in stmts[0].text  # inside a dollar quote: data, not a meta-command
    assert stmts[0].line == 3


def test_schema_loads_and_can_be_reapplied_to_an_empty_database(billig_server, fresh_database):
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        assert load_schema(conn) > 9
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA billig CASCADE")
        conn.commit()
        load_schema(conn)
        kinds = _relations(conn)
    assert kinds["billig.event_lim_web"] == "v"
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


def test_error_lines_count_meta_commands_comments_and_strings(
    billig_server, fresh_database, tmp_path
):
    bad = tmp_path / "billig.sql"
    bad.write_text(
        "\\restrict Zx9\n"
        "CREATE SCHEMA billig;\n"
        "COMMENT ON SCHEMA billig IS E'line one;\\nline \\'two\\'';\n"
        "/* a comment /* nested; */\n over lines; */\n"
        "-- and a line comment;\n"
        "CREATE TABLE billig.x (id integr);\n"
        "\\unrestrict Zx9\n"
    )
    with (
        contextlib.closing(billig_server.connect(fresh_database.database)) as conn,
        pytest.raises(SchemaLoadError, match=r"^billig\.sql:7: statement `CREATE TABLE billig\.x"),
    ):
        load_schema(conn, bad)


def test_empty_schema_file_is_an_error(billig_server, fresh_database, tmp_path):
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing here\n")
    with (
        contextlib.closing(billig_server.connect(fresh_database.database)) as conn,
        pytest.raises(SchemaLoadError, match="no SQL statement"),
    ):
        load_schema(conn, empty)


DUMP_PREAMBLE = """\\restrict 8bGxq2
-- Dumped from database version 18.0
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;
SET default_tablespace = '';
"""


def test_dump_settings_ownership_and_privileges_load_and_settings_do_not_stay(
    billig_server, fresh_database, tmp_path
):
    ghost = f"ghost_{secrets.token_hex(4)}"
    path = tmp_path / "billig.sql"
    path.write_text(
        DUMP_PREAMBLE
        + "CREATE SCHEMA billig;\n"
        + f"ALTER SCHEMA billig OWNER TO {ghost};\n"
        + "CREATE TABLE billig.event (event integer PRIMARY KEY);\n"
        + f"ALTER TABLE billig.event OWNER TO {ghost};\n"
        + f"GRANT SELECT ON TABLE billig.event TO {ghost};\n"
        + f"ALTER DEFAULT PRIVILEGES FOR ROLE {ghost} IN SCHEMA billig GRANT SELECT ON TABLES TO"
        + " PUBLIC;\n"
        + "\\unrestrict 8bGxq2\n"
    )
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        with conn.cursor() as cur:
            cur.execute("SHOW search_path")
            before = cur.fetchone()
        conn.rollback()
        load_schema(conn, path)
        assert _relations(conn) == {"billig.event": "r"}
        with conn.cursor() as cur:
            cur.execute("SHOW search_path")
            assert cur.fetchone() == before


def test_real_pg_dump_schema_only_output_loads(billig_server, fresh_database, tmp_path):
    """pg_dump of PostgreSQL 18 writes \\restrict; the owner role does not exist where it loads."""
    owner = f"owner_{secrets.token_hex(4)}"
    source = f"dump_src_{secrets.token_hex(4)}"
    source_dsn = billig_server.create_database(source)
    try:
        with contextlib.closing(connect_url(source_dsn)) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"CREATE ROLE {owner}")
                cur.execute((ROOT / "schema" / "billig.sql").read_text())
                cur.execute(f"ALTER TABLE billig.event OWNER TO {owner}")
                cur.execute(f"GRANT SELECT ON billig.ticket TO {owner}")
                cur.execute(
                    "CREATE FUNCTION billig.f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$"
                )
        dump = subprocess.run(
            [str(embedded_install() / "bin" / "pg_dump"), "--schema-only", source_dsn.url()],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
    finally:
        billig_server.drop_database(source)
        with contextlib.closing(billig_server.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"DROP ROLE {owner}")
    assert dump.lstrip().startswith("\\restrict") or "\n\\restrict " in dump
    path = tmp_path / "billig.sql"
    path.write_text(dump)
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        load_schema(conn, path)
        kinds = _relations(conn)
    assert kinds["billig.event_lim_web"] == "v"
    assert len(kinds) == 9


# --------------------------------------------------------------------------- transactions

HALF_COMMITTED = (
    "BEGIN;\nCREATE SCHEMA billig;\n"
    "CREATE TABLE billig.event (event integer PRIMARY KEY, event_name text NOT NULL);\n"
    "COMMIT;\n"
    "CREATE TABLE billig.ticket_group (ticket_group integr);\n"
)


def test_a_file_that_commits_half_way_is_refused_before_anything_runs(
    billig_server, fresh_database, tmp_path
):
    path = tmp_path / "billig.sql"
    path.write_text(HALF_COMMITTED)
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        with pytest.raises(
            SchemaLoadError, match=r"^billig\.sql:1: `BEGIN;` manages a transaction"
        ):
            load_schema(conn, path)
        assert _relations(conn) == {}


def test_one_transaction_around_the_whole_file_is_accepted(billig_server, fresh_database, tmp_path):
    path = tmp_path / "billig.sql"
    path.write_text(
        "BEGIN;\nCREATE SCHEMA billig;\nCREATE TABLE billig.event (event integer);\nCOMMIT;\n"
    )
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        load_schema(conn, path)
        assert _relations(conn) == {"billig.event": "r"}


def _mirror_seed(dsn: str, schema: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``billig mirror seed --dsn`` as a process: a hang fails the test instead of the suite."""
    env = {**os.environ, "BILLIG_SCHEMA": str(schema)}
    return subprocess.run(
        [sys.executable, "-c", "from mirror.cli import main; main()", "mirror", "seed",
         "--dsn", dsn, "--events", "5"],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )  # fmt: skip


def test_mirror_seed_never_calls_a_half_loaded_schema_seeded(fresh_database, tmp_path):
    path = tmp_path / "billig.sql"
    path.write_text(HALF_COMMITTED)
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    for _ in range(2):  # the second run finds nothing left behind by the first
        done = _mirror_seed(dsn, path, tmp_path)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "manages a transaction" in done.stderr
        assert "seeded" not in done.stdout
    with contextlib.closing(connect_url(fresh_database)) as conn:
        assert _relations(conn) == {}


# --------------------------------------------------------------------------- not a regular file


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "schema.fifo"
    os.mkfifo(path)
    return path


def _loop(tmp_path: Path) -> Path:
    (tmp_path / "a.sql").symlink_to(tmp_path / "b.sql")
    (tmp_path / "b.sql").symlink_to(tmp_path / "a.sql")
    return tmp_path / "a.sql"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_fifo, "not a regular file"),
        (lambda _tmp: Path("/dev/zero"), "not a regular file"),
        (_loop, "cannot read the schema file (Too many levels of symbolic links)"),
        (lambda tmp: tmp, "not a regular file"),
    ],
    ids=["fifo", "dev-zero", "symlink-loop", "directory"],
)
def test_only_a_regular_file_is_read_as_schema(make, said, fresh_database, tmp_path):
    schema = make(tmp_path)
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    done = _mirror_seed(dsn, schema, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], lines
    with contextlib.closing(connect_url(fresh_database)) as conn:
        assert _relations(conn) == {}
