"""``billig init --schema-from``: the schema file written from a production-shaped database loads
into a mirror that holds exactly the contracts pinned from that database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mirror.dsn import Dsn

from .production import Production

# Beyond the drift tests' production: a quoted mixed-case table with a sequence default, a
# unique key, a foreign key and a numeric type; a view over it and a view over that view.
MORE = """
CREATE SEQUENCE billig.voucher_seq;
CREATE TABLE billig."Voucher" (
    voucher integer DEFAULT nextval('billig.voucher_seq'::regclass) NOT NULL PRIMARY KEY,
    code text NOT NULL UNIQUE,
    event integer REFERENCES billig.event,
    amount numeric(10,2) DEFAULT 0 NOT NULL,
    created timestamp without time zone DEFAULT now()
);
CREATE VIEW billig.voucher_web AS SELECT voucher, code, amount FROM billig."Voucher"
    WHERE amount > 0;
CREATE VIEW billig.voucher_codes AS SELECT code FROM billig.voucher_web;
GRANT SELECT ON ALL TABLES IN SCHEMA billig TO {role};
"""


def billig(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLIG_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "mirror.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_schema_from_production_loads_a_mirror_equal_to_production(
    production: Production, billig_server: Any, tmp_path: Path
) -> None:
    production.execute(MORE)
    mirror = ["--provider", "dsn", "--dsn", Dsn.of(billig_server.admin_url).url()]
    done = billig(
        "init", "--schema-from", production.dsn, "--schema", "billig", "--no-contracts",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    schema = tmp_path / "schema" / "billig.sql"
    text = schema.read_text()
    assert 'CREATE TABLE billig."Voucher"' in text and production.password not in text
    assert "CREATE VIEW billig.voucher_codes AS" in text
    assert text.index("billig.voucher_web AS") < text.index("billig.voucher_codes AS")
    done = billig(
        "contracts", "snapshot", "--dsn", production.dsn, "--schema", "billig",
        "--output", "contracts/columns.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    done = billig("contracts", "check", *mirror, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all contracts hold" in done.stdout
    # Run again: the file exists and is kept as it is, unless --force.
    done = billig(
        "init", "--schema-from", production.dsn, "--schema", "billig", "--no-contracts",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unchanged" in done.stdout.split("schema/billig.sql")[0].splitlines()[-1]
    assert schema.read_text() == text


def test_a_schema_production_lacks_is_a_usage_error(production: Production, tmp_path: Path) -> None:
    done = billig("init", "--schema-from", production.dsn, "--schema", "kasse", cwd=tmp_path)
    assert done.returncode == 2
    assert "schema 'kasse' does not exist" in done.stderr
    assert production.password not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []
