"""Nothing the harness does to a production DSN writes, and a SELECT-only login is enough.

The login gets exactly CONNECT on the database (PUBLIC's default CONNECT and TEMP revoked),
USAGE on ``billig`` and SELECT on the nine contracted relations; ``log_statement = 'all'`` for
that role makes the server log every statement it receives from ``billig drift`` and ``billig
contracts snapshot``. (The drift-only variant, with ``--suggest``, is in
``tests/drift/test_drift_failures.py``.)
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from psycopg2 import sql
from sqlalchemy.engine import URL

from mirror.catalog.model import ColumnRef
from mirror.drift.assertions import ASSERTIONS_FILE
from mirror.provision.providers import Server
from mirror.sources.contract_file import load_contract, with_lineage, write_contract

from .sandbox import Result, admin, full, new_database, query

CONTRACTED = (
    "event", "event_lim_web", "ticket_group", "price_group", "purchase", "ticket_card",
    "ticket", "payment_error", "payment_error_price_group",
)  # fmt: skip

# A log entry starts with the default prefix ("%m [%p] "); statements may span lines.
_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (\w+):  ", re.M)
# SAVEPOINT and ROLLBACK TO SAVEPOINT frame drift's readability probe (releasing its locks).
_READS = ("SELECT", "WITH", "SET", "SHOW", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|LOCK|CALL|DO"
    r"|VACUUM|ANALYZE|CLUSTER|REINDEX|COMMENT|SECURITY|NOTIFY|LISTEN|PREPARE|EXECUTE)\b",
    re.I,
)


@dataclass(frozen=True)
class ReadOnlyLogin:
    url: URL
    role: str
    log: Path

    def statements_since(self, offset: int) -> list[str]:
        """Every command the server logged after byte ``offset``, comments stripped."""
        text = self.log.read_bytes()[offset:].decode(errors="replace")
        starts = list(_ENTRY.finditer(text))
        out = []
        for match, following in zip(starts, [*starts[1:], None], strict=True):
            body = text[match.end() : following.start() if following else len(text)]
            if match[1] == "LOG" and body.startswith("statement: "):
                code = "\n".join(re.sub(r"--.*$", "", line) for line in body[11:].splitlines())
                out += [" ".join(part.split()) for part in code.split(";") if part.strip()]
        return out


def assert_only_reads_in_read_only_transactions(commands: list[str]) -> None:
    """Every logged command reads, and every query runs after ``SET TRANSACTION … READ ONLY``
    in its transaction."""
    assert all(c.upper().startswith(_READS) for c in commands), commands
    assert not [c for c in commands if _WRITES.search(c)]
    read_only = False
    for command in commands:
        upper = command.upper()
        if upper == "BEGIN" or upper in ("COMMIT", "ROLLBACK"):
            read_only = False
        elif upper.startswith("SET TRANSACTION") and upper.endswith("READ ONLY"):
            read_only = True
        elif upper.startswith(("SELECT", "WITH")):
            assert read_only, command


@pytest.fixture
def select_only_login(billig_server: Server) -> Iterator[ReadOnlyLogin]:
    with contextlib.closing(admin(billig_server)) as conn:
        (data,) = query(conn, "SHOW data_directory")[0]
    log = Path(data).parent / "postgres.log"
    if not log.is_file():
        pytest.skip("the server's log is not a local file (docker provider)")
    token = secrets.token_hex(4)
    role, database = f"ro_{token}", f"readonly_{token}"
    password = secrets.token_urlsafe(12)
    url = new_database(billig_server, database)
    grants = sql.SQL(
        "CREATE ROLE {role} LOGIN PASSWORD {pw};"
        " ALTER ROLE {role} SET log_statement = 'all';"
        " REVOKE ALL ON DATABASE {db} FROM PUBLIC;"
        " GRANT CONNECT ON DATABASE {db} TO {role};"
    ).format(role=sql.Identifier(role), pw=sql.Literal(password), db=sql.Identifier(database))
    selects = sql.SQL("GRANT USAGE ON SCHEMA billig TO {role};").format(role=sql.Identifier(role))
    for name in CONTRACTED:
        selects += sql.SQL(" GRANT SELECT ON billig.{rel} TO {role};").format(
            rel=sql.Identifier(name), role=sql.Identifier(role)
        )
    try:
        with contextlib.closing(admin(billig_server)) as conn:
            query(conn, grants.as_string(conn))
        with contextlib.closing(admin(billig_server, database)) as conn:
            query(conn, selects.as_string(conn))
        yield ReadOnlyLogin(url.set(username=role, password=password), role, log)
    finally:
        billig_server.drop_database(database)
        with contextlib.closing(admin(billig_server)) as conn:
            drop = sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
            query(conn, drop.as_string(conn))


def test_the_login_has_no_privilege_beyond_connect_usage_and_select(
    billig_server: Server, select_only_login: ReadOnlyLogin
) -> None:
    login, database = select_only_login, select_only_login.url.database
    with contextlib.closing(admin(billig_server, database)) as conn:
        (row,) = query(
            conn,
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,"
            " has_database_privilege(%(r)s, current_database(), 'CREATE'),"
            " has_database_privilege(%(r)s, current_database(), 'TEMP'),"
            " has_schema_privilege(%(r)s, 'billig', 'CREATE'),"
            " has_schema_privilege(%(r)s, 'public', 'CREATE'),"
            " (SELECT bool_or(has_table_privilege(%(r)s, c.oid,"
            "   'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))"
            "   FROM pg_class c WHERE c.relnamespace = 'billig'::regnamespace)"
            " FROM pg_roles WHERE rolname = %(r)s",
            {"r": login.role},
        )
    assert row == (False,) * 10


def test_drift_and_snapshot_send_only_reads_inside_read_only_transactions(
    select_only_login: ReadOnlyLogin, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    login = select_only_login
    offset = login.log.stat().st_size
    drift = run_cli("drift", "--dsn", full(login.url), "--format", "json")
    assert drift.code == 0, drift
    report = json.loads(drift.out)
    assert not [f for f in report["findings"] if f["kind"] == "privilege_missing"]
    pinned = tmp_path / "pinned.json"
    snapshot = run_cli(
        "contracts", "snapshot", "--dsn", full(login.url), "--schema", "billig",
        "--output", str(pinned),
    )  # fmt: skip
    assert snapshot.code == 0, snapshot
    commands = login.statements_since(offset)
    # Both runs were seen: two catalog reads, each in its own transaction.
    assert commands.count("BEGIN") == 2, commands
    assert sum("pg_catalog.format_type" in c for c in commands) == 2
    assert_only_reads_in_read_only_transactions(commands)


def test_drift_data_sends_only_bounded_aggregates_inside_read_only_transactions(
    select_only_login: ReadOnlyLogin,
    billig_server: Server,
    run_cli: Callable[..., Result],
    tmp_path: Path,
) -> None:
    login = select_only_login
    with contextlib.closing(admin(billig_server, login.url.database)) as conn:
        # A column the site reads as non-null that production now lets be NULL: probed.
        query(conn, "ALTER TABLE billig.event ALTER COLUMN event_name DROP NOT NULL")
    # Every kind of probe: the readers' choices of a column and a declared assertion too.
    pinned = load_contract(Path(__file__).resolve().parents[2] / "contracts" / "columns.json")
    lineage = dict(pinned.lineage or {})
    kind = ColumnRef("billig", "event_lim_web", "event_type")
    lineage[kind] = replace(lineage[kind], choices=("concert", "theatre"))
    write_contract(tmp_path / "columns.json", with_lineage(pinned, lineage))
    assertion = {"relation": "billig.ticket_group", "check": "num_sold <= num"}
    (tmp_path / ASSERTIONS_FILE).write_text(
        json.dumps({"format_version": 1, "assertions": [assertion]})
    )
    offset = login.log.stat().st_size
    drift = run_cli(
        "drift", "--data", "--dsn", full(login.url), "--format", "json",
        "--contract", str(tmp_path),
    )  # fmt: skip
    assert drift.code == 1, drift
    commands = login.statements_since(offset)
    probes = [c for c in commands if "count(*) FILTER" in c]
    # billig.event; through it, billig.event_lim_web (NULLs and choices); billig.ticket_group.
    assert len(probes) == 3, commands
    assert any("<> ALL (" in p for p in probes) and any(
        "NOT (num_sold <= num)" in p for p in probes
    )
    for probe in probes:
        assert re.search(r"^SELECT count\(\*\), .* LIMIT \d+\) AS sampled$", probe), probe
    assert_only_reads_in_read_only_transactions(commands)
    assert sum("statement_timeout" in c for c in commands) == 2  # each read bounded alike
