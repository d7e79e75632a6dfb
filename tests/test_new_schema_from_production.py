"""``billig init --schema-from`` on a production whose columns use enums and domains (a domain
with NOT NULL, a default and CHECKs, a domain over an enum), with CHECKs of its own and a
partitioned table: the file it writes creates the types before the tables and loads into an
empty database, where the seed fills every table."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from mirror.provision.providers import connect_url
from mirror.provision.schema import load_schema
from mirror.provision.seed import seed_billig

PRODUCTION = """\
CREATE SCHEMA billig;
CREATE TYPE billig.state AS ENUM ('draft', 'on''sale', 'gone');
CREATE DOMAIN billig.state_d AS billig.state;
CREATE DOMAIN billig.money AS numeric(10,2) DEFAULT 0 NOT NULL
    CONSTRAINT money_positive CHECK (VALUE >= 0) CONSTRAINT money_bounded CHECK (VALUE < 1e6);
CREATE DOMAIN billig.email AS text CHECK (VALUE ~ '@');
CREATE TABLE billig.event (
    event integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_name text NOT NULL,
    state billig.state_d NOT NULL DEFAULT 'draft',
    price billig.money,
    contact billig.email,
    sale_from timestamp NOT NULL,
    sale_to timestamp NOT NULL,
    CONSTRAINT sale_window CHECK (sale_from < sale_to)
);
CREATE TABLE billig.sale (
    sale bigint NOT NULL,
    event integer NOT NULL REFERENCES billig.event,
    sold_at timestamp NOT NULL,
    amount billig.money,
    PRIMARY KEY (sale, sold_at)
) PARTITION BY RANGE (sold_at);
CREATE TABLE billig.sale_all PARTITION OF billig.sale DEFAULT;
"""


def _database(server, name: str, sql: str | None = None) -> str:  # type: ignore[no-untyped-def]
    url = server.create_database(name).url()
    if sql is not None:
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(sql)
            conn.commit()
    return url


def test_the_schema_written_from_production_creates_its_types_and_loads(
    billig_server, tmp_path: Path
) -> None:
    names = ["prod_types", "dev_types"]
    try:
        production = _database(billig_server, names[0], PRODUCTION)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BILLIG_")}
        done = subprocess.run(
            [sys.executable, "-m", "mirror.cli", "init", "--no-contracts",
             "--schema-from", production],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        written = (tmp_path / "schema" / "billig.sql").read_text()
        assert "CREATE TYPE billig.state AS ENUM ('draft', 'on''sale', 'gone');" in written
        assert written.index("CREATE DOMAIN billig.money") < written.index("CREATE TABLE")

        dev = _database(billig_server, names[1])
        with contextlib.closing(connect_url(dev)) as conn:
            load_schema(conn, tmp_path / "schema" / "billig.sql")
            result = seed_billig(conn, events=6, seed=1, now=datetime(2026, 11, 25))
        assert not result.warnings, [str(w) for w in result.warnings]
        assert result.counts["billig.event"] == 6
    finally:
        for name in names:
            with contextlib.suppress(Exception):
                billig_server.drop_database(name)
