"""`billig` run in the example Django site's folder: Django lineage, checks, drift, --suggest."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.dsn import Dsn
from mirror.provision.schema import load_schema

BILLIG = str(Path(sys.executable).with_name("billig"))


@pytest.fixture
def project(example_root: Path, tmp_path: Path) -> Path:
    """A copy of the example site, so that tests may edit its schema and contracts."""
    copy = tmp_path / "site"
    shutil.copytree(example_root, copy, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    return copy


def billig(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLIG_", "DJANGO_"))}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [BILLIG, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def test_update_pins_contracts_with_django_lineage(project, mirror_options):
    shutil.rmtree(project / "contracts")
    done = billig(project, "contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stderr
    columns = json.loads((project / "contracts" / "columns.json").read_text())
    relations = {(r["schema"], r["name"]): r for r in columns["relations"]}
    assert ("public", "billig.ticket_group") in relations  # what Django queries, pinned
    price = next(c for c in relations["billig", "price_group"]["columns"] if c["name"] == "price")
    assert price["lineage"]["models"] == ["BilligPriceGroup.price"]
    assert (
        "EventSerializer.billig.ticket_groups[].price_groups[].price"
        in (price["lineage"]["fields"])
    )
    assert "GET /api/events/" in price["lineage"]["endpoints"]
    shape = json.loads((project / "contracts" / "shapes" / "EventSerializer.json").read_text())
    assert {"num", "num_sold"} <= set(shape["forbidden"])


def test_the_example_contracts_hold(project, mirror_options):
    done = billig(project, "check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all contracts hold" in done.stdout


def test_a_column_deleted_from_the_schema_fails_naming_the_django_field(project, mirror_options):
    schema = project / "schema" / "billig.sql"
    text = schema.read_text()
    assert "    num_sold integer NOT NULL,\n" in text
    schema.write_text(text.replace("    num_sold integer NOT NULL,\n", "", 1))
    done = billig(project, "check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'column public."billig.ticket_group".num_sold (integer) is missing' in done.stdout
    assert "BilligTicketGroup.num_sold reads what the mirror lacks" in done.stdout


@pytest.fixture
def production(billig_server, fresh_database, project_root) -> str:
    """A production-shaped Billig: the repository's schema/billig.sql (schema billig)."""
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        load_schema(conn, project_root / "schema" / "billig.sql")
    return Dsn.of(fresh_database).url()


def test_drift_reports_the_dotted_db_table_as_quoting_confusion_with_the_fix(
    project, production, tmp_path
):
    report = tmp_path / "drift.json"
    done = billig(project, "drift", "--dsn", production, "--output", f"json:{report}", "--suggest")
    assert done.returncode == 1, done.stdout + done.stderr
    findings = json.loads(report.read_text())["findings"]
    confused = [f for f in findings if f["kind"] == "quoting_confusion"]
    assert len(confused) == 1, confused
    assert confused[0]["relation"] == "billig.ticket_group"
    assert any(reader.startswith("BilligTicketGroup.") for reader in confused[0]["impact"])
    assert """db_table = 'billig"."ticket_group'""" in done.stdout


# Runs billig's entry point; on the way out, also after an error, prints the loaded modules.
_AUDIT = """
import json, sys
try:
    from mirror.cli import main
    main(sys.argv[1:])
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_check_of_a_site_whose_contracts_hold_loads_no_sqlalchemy_or_deepdiff(
    project, mirror_options
):
    # The mirror is handed to the checks as a DSN; a structural diff only runs on a difference.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLIG_", "DJANGO_"))}
    done = subprocess.run(
        [sys.executable, "-c", _AUDIT, "check", *mirror_options],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    *err, modules = done.stderr.strip().splitlines()
    assert done.returncode == 0, done.stdout + "\n".join(err)
    assert "all contracts hold" in done.stdout
    loaded = set(json.loads(modules))
    assert "django" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in ("sqlalchemy", "deepdiff")) == []
