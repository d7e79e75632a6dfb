"""``billig mirror seed --dsn`` run twice on a database you own whose Billig lives in a schema of
another name (``ticketing``): the second run sees the schema file was loaded and says the
tables already have rows, instead of failing on ``CREATE SCHEMA`` as if nothing were there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCHEMA = """\
CREATE SCHEMA ticketing;
SET search_path = ticketing;
CREATE TABLE event (
    event integer PRIMARY KEY, event_name text NOT NULL,
    sale_from timestamp NOT NULL, sale_to timestamp NOT NULL
);
CREATE TABLE ticket_group (
    ticket_group integer PRIMARY KEY, event integer NOT NULL REFERENCES event,
    num integer NOT NULL, num_sold integer NOT NULL
);
"""


def _seed(folder: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLIG_")}
    return subprocess.run(
        [sys.executable, "-m", "mirror.cli", "mirror", "seed", "--dsn", url],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_seeding_a_seeded_database_again_says_it_has_rows(billig_server, tmp_path: Path) -> None:
    (tmp_path / "billig.sql").write_text(SCHEMA)
    (tmp_path / "pyproject.toml").write_text('[tool.billig]\nschema = "billig.sql"\n')
    url = billig_server.create_database("seed_again").url()
    try:
        first = _seed(tmp_path, url)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "ticketing.event 60" in first.stdout
        again = _seed(tmp_path, url)
        assert again.returncode == 2, again.stdout + again.stderr
        assert "ticketing.event already has rows" in again.stderr
    finally:
        billig_server.drop_database("seed_again")
