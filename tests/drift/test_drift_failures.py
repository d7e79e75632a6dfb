"""When production cannot be read, drift exits 3 and never prints a password; and it only reads.

Exit 3 is proven end to end through the CLI for a wrong password, a closed port, a statement
timeout and a server stopped in the middle of the catalog read; none of them writes a report
(no verdict on partial data). A server log with ``log_statement = 'all'`` for the login shows
that only read statements in read-only transactions reach the server.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy.engine import URL

from mirror.drift.check import Timeouts, check_drift
from mirror.dsn import Dsn
from mirror.errors import IntrospectionError
from mirror.provision.providers import Server, provision
from mirror.provision.schema import load_schema
from mirror.sources.read_session import APPLICATION_NAME

from .production import ROOT, Production, Run, execute, run_cli


def _assert_no_secret(secret: str, *texts: str) -> None:
    for form in {secret, quote(secret, safe=""), quote(secret)}:
        for text in texts:
            assert form not in text


def _dsn(url: URL) -> str:
    return Dsn.of(url).url()


def test_wrong_password_exits_3_without_printing_it(production: Production, tmp_path: Path):
    wrong = f"Wr0ng:{secrets.token_hex(8)}"
    report = tmp_path / "drift.json"
    done = run_cli("--output", f"json:{report}", dsn=_dsn(production.login.set(password=wrong)))
    assert done.code == 3
    assert "password authentication failed" in done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert not report.exists()
    _assert_no_secret(wrong, done.stdout, done.stderr)


def test_closed_port_exits_3_without_printing_the_password(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = f"Cl0sed/{secrets.token_hex(8)}"
    url = URL.create(
        "postgresql", "ro", password, "127.0.0.1", port, "billig"
    )  # nothing listens there
    report = tmp_path / "r.json"
    done = run_cli("--connect-timeout", "2", "--output", f"json:{report}", dsn=_dsn(url))
    assert done.code == 3
    assert "cannot connect to ro@127.0.0.1" in done.stderr
    assert not report.exists()
    _assert_no_secret(password, done.stdout, done.stderr)


@contextlib.contextmanager
def _catalog_locked(server: Server, database: str) -> Iterator[psycopg2.extensions.connection]:
    """Hold an ACCESS EXCLUSIVE lock on pg_attrdef, which the catalog read needs.

    A lock on a contracted *table* would not do: reading the catalog takes no lock on the
    relations it describes (so a long ALTER TABLE in production never blocks the nightly check).
    """
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE")
        yield conn
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()
        with contextlib.suppress(psycopg2.Error):
            conn.close()


def test_statement_timeout_exits_3(production: Production, tmp_path: Path):
    with _catalog_locked(production.server, production.database):
        done = run_cli(
            "--statement-timeout",
            "300",
            "--lock-timeout",
            "60000",
            "--output",
            f"json:{tmp_path / 'r.json'}",
            dsn=production.dsn,
        )
    assert done.code == 3
    assert "statement_timeout is 300 ms" in done.stderr
    assert not (tmp_path / "r.json").exists()
    _assert_no_secret(production.password, done.stdout, done.stderr)


def test_lock_timeout_is_an_introspection_error(production: Production, contract_dir: Path):
    with (
        _catalog_locked(production.server, production.database),
        pytest.raises(IntrospectionError, match="lock_timeout") as info,
    ):
        check_drift(production.login, contract=contract_dir, timeouts=Timeouts(lock_ms=200))
    assert info.value.exit_code == 3
    _assert_no_secret(production.password, str(info.value))


# --------------------------------------------------------------------------- server stops


def _private_server(stack: contextlib.ExitStack) -> Server:
    for provider in ("local", "embedded"):
        with contextlib.suppress(Exception):
            return stack.enter_context(provision(provider))
    pytest.skip("neither the local nor the embedded provider can start a private server")


def _wait_for_lock_wait(server: Server, proc: subprocess.Popen[str]) -> None:
    # Its own autocommit session: activity statistics are frozen within one transaction.
    with contextlib.closing(server.connect()) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            for _ in range(3000):  # bounded: 30 s
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = %s AND wait_event_type = 'Lock'",
                    (APPLICATION_NAME,),
                )
                if cur.fetchone() == (1,):
                    return
                assert proc.poll() is None, "drift ended before it waited on the lock"
                time.sleep(0.01)
    pytest.fail("the drift check never waited on the catalog lock")


def test_server_stopped_in_the_middle_of_a_check_exits_3(tmp_path: Path):
    password = f"St0p:{secrets.token_hex(8)}"
    report = tmp_path / "drift.json"
    with contextlib.ExitStack() as running:
        server = _private_server(running)
        url = server.create_database("prod")
        with contextlib.closing(server.connect("prod")) as conn:
            load_schema(conn)
        execute(
            server,
            "prod",
            sql.SQL(
                "CREATE ROLE ro LOGIN PASSWORD {}; GRANT USAGE ON SCHEMA billig TO ro; "
                "GRANT SELECT ON ALL TABLES IN SCHEMA billig TO ro"
            ).format(sql.Literal(password)),
        )
        environ = dict(os.environ, NO_COLOR="1")
        environ["BILLIG_PROD_DSN"] = _dsn(url.set(username="ro", password=password))
        # The lock is held until the server is gone: the check must still be waiting then.
        locker = server.connect("prod")
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [sys.executable, "-m", "mirror.cli", "drift", "--lock-timeout", "60000",
             "--statement-timeout", "60000", "--output", f"json:{report}"],
            cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _wait_for_lock_wait(server, proc)
            running.close()  # stops the postmaster while the check waits inside its transaction
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            with contextlib.suppress(psycopg2.Error):
                locker.close()
    done = Run(proc.returncode, stdout, stderr)
    assert done.code == 3, done
    assert "reading the catalog of ro@127.0.0.1" in done.stderr
    assert "the connection was lost" in done.stderr
    assert not report.exists()
    _assert_no_secret(password, done.stdout, done.stderr)


# --------------------------------------------------------------------------- read only


def _server_log(production: Production) -> Path:
    with contextlib.closing(production.server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SHOW data_directory")
        (data,) = cur.fetchone() or ("",)
    log = Path(data).parent / "postgres.log"
    if not log.is_file():
        pytest.skip("the server's log is not a local file (docker provider)")
    return log


_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (\w+):  ", re.M)
# SAVEPOINT and ROLLBACK TO SAVEPOINT frame the readability probe: they release its locks.
_ALLOWED = ("SELECT", "WITH", "SET", "SHOW", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|LOCK|CALL|DO)\b",
    re.I,
)


def _statements(log_text: str) -> list[str]:
    """The ``statement:`` entries of a PostgreSQL log (entries may span lines)."""
    starts = list(_ENTRY.finditer(log_text))
    out = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(log_text)
        body = log_text[match.end() : end]
        if match[1] == "LOG" and body.startswith("statement: "):
            out.append(body[len("statement: ") :].strip())
    return out


def _commands(statement: str) -> list[str]:
    body = "\n".join(re.sub(r"--.*$", "", line) for line in statement.splitlines())
    return [" ".join(part.split()) for part in body.split(";") if part.strip()]


def test_only_read_statements_in_read_only_transactions_reach_the_server(
    production: Production, tmp_path: Path
):
    log = _server_log(production)
    production.execute(
        "ALTER ROLE {role} IN DATABASE " + production.database + " SET log_statement = 'all'"
    )
    schema = tmp_path / "billig.sql"
    shutil.copy(ROOT / "schema" / "billig.sql", schema)
    offset = log.stat().st_size
    done = run_cli("--suggest", "--write-schema", "--schema-file", str(schema), dsn=production.dsn)
    assert done.code == 0, done.stderr
    statements = _statements(log.read_text(errors="replace")[offset:])
    commands = [c for s in statements for c in _commands(s)]
    assert any("pg_catalog.pg_attribute" in c for c in commands)  # the catalog read was seen
    assert any("pg_get_viewdef" in c for c in commands)  # and so was --suggest's
    assert all(c.upper().startswith(_ALLOWED) for c in commands), commands
    assert not [c for c in commands if _WRITES.search(c)]
    # Every query runs inside a transaction that was made read-only before it.
    read_only = None
    for command in commands:
        upper = command.upper()
        if upper == "BEGIN":
            read_only = False
        elif upper in ("ROLLBACK", "COMMIT"):
            read_only = None
        elif upper == "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY":
            assert read_only is False
            read_only = True
        elif upper.startswith(("SELECT", "WITH")):
            assert read_only is True, command
    # The drift read, --suggest's view definitions and --write-schema's constraint definitions.
    assert commands.count("BEGIN") == 3
