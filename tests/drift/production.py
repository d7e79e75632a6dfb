"""A "production" Billig for the drift tests, and how to run ``billig drift`` against it.

Production is ``schema/billig.sql`` plus what real Billig has beyond the site's contract:
relations the site never reads (``billig.event_type``, ``billig.organisation``,
``billig.theater``, ``billig.seat``, ``billig.ticket_seat``, ``public.kort``) and extra columns
on contracted tables. The read-only login has CONNECT, USAGE on ``billig`` and SELECT on its
relations (also on relations created later), nothing else, and a distinctive password that no
output may ever show.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql
from sqlalchemy.engine import URL

from mirror.catalog.findings import Finding
from mirror.dsn import Dsn
from mirror.provision.providers import Server

ROOT = Path(__file__).resolve().parent.parent.parent

EXTRAS = """
CREATE TABLE billig.event_type (
    event_type character varying(255) PRIMARY KEY,
    description text
);
CREATE TABLE billig.organisation (
    organisation integer PRIMARY KEY,
    organisation_name character varying(140) NOT NULL
);
CREATE TABLE billig.theater (
    theater integer PRIMARY KEY,
    theater_name character varying(140) NOT NULL
);
CREATE TABLE billig.seat (
    seat integer PRIMARY KEY,
    theater integer NOT NULL REFERENCES billig.theater,
    seat_row smallint NOT NULL,
    seat_number smallint NOT NULL
);
CREATE TABLE billig.ticket_seat (
    ticket integer NOT NULL REFERENCES billig.ticket,
    seat integer NOT NULL REFERENCES billig.seat,
    PRIMARY KEY (ticket, seat)
);
CREATE TABLE public.kort (kort bigint PRIMARY KEY, eier text);
ALTER TABLE billig.payment_error ADD COLUMN created timestamp without time zone;
ALTER TABLE billig.ticket ADD COLUMN seat_note text;
"""

GRANTS = """
GRANT USAGE ON SCHEMA billig TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA billig TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA billig GRANT SELECT ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role};
"""

# Every billig relation (contracted or not) becomes public."billig.<name>".
QUOTE_WHOLE_SCHEMA = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS what
             FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE n.nspname = 'billig' AND c.relkind IN ('r', 'v')
  LOOP
    EXECUTE format('ALTER %s billig.%I RENAME TO %I', r.what, r.relname, 'billig.' || r.relname);
    EXECUTE format('ALTER %s billig.%I SET SCHEMA public', r.what, 'billig.' || r.relname);
  END LOOP;
END $$;
DROP SCHEMA billig;
"""

# What the unmodified production adds to the contract: extra columns, information only.
BASELINE = frozenset(
    {
        ("column_added", "info", "billig.payment_error.created"),
        ("column_added", "info", "billig.ticket.seat_note"),
    }
)


def execute(server: Server, database: str, statements: str | sql.Composable) -> None:
    """Run statements as the superuser in ``database`` and commit."""
    with contextlib.closing(server.connect(database)) as conn:
        with conn.cursor() as cur:
            cur.execute(statements)
        conn.commit()


def triples(findings: tuple[Finding, ...] | list[Finding]) -> list[tuple[str, str, str]]:
    """Findings as sorted (kind, severity, object) triples: what the tests assert exactly."""
    return sorted((f.kind.value, f.severity.label, f.object) for f in findings)


@dataclass(frozen=True)
class Production:
    """One test's production database: its superuser URL, the read-only login, the role."""

    server: Server
    admin: URL
    login: URL
    role: str

    @property
    def database(self) -> str:
        assert self.admin.database
        return self.admin.database

    @property
    def password(self) -> str:
        assert self.login.password
        return str(self.login.password)

    @property
    def dsn(self) -> str:
        """The login as a plain libpq URL, as an operator would put it in BILLIG_PROD_DSN."""
        return Dsn.of(self.login).url()

    def execute(self, statements: str) -> None:
        """Mutate production as its owner; ``{role}`` names the read-only login."""
        execute(
            self.server,
            self.database,
            sql.SQL(statements.replace("{role}", "{0}")).format(sql.Identifier(self.role)),
        )


@dataclass(frozen=True)
class Run:
    """A finished ``billig drift`` process."""

    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, dsn: str | None = None, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> Run:
    """``python -m mirror.cli drift ARGS`` with the DSN in ``$BILLIG_PROD_DSN`` (not argv)."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("BILLIG_PROD_DSN", "GITHUB_STEP_SUMMARY")
    }
    environ["NO_COLOR"] = "1"
    if dsn is not None:
        environ["BILLIG_PROD_DSN"] = dsn
    environ.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "mirror.cli", "drift", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
