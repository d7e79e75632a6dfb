"""`billig contracts …` and `billig check`: exit codes, summaries, snapshots of any database."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from mirror.cli import main
from mirror.dsn import Dsn
from mirror.provision.providers import connect_url
from mirror.sources.contract_file import load_contract


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _full(url: URL) -> str:
    return Dsn.of(url).url()


def test_check_passes_on_the_project_contracts_and_writes_a_report(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path, tmp_path: Path
) -> None:
    report = tmp_path / "reports" / "contracts.md"
    code, out, err = run(
        capsys, "check", *dsn_mirror, "--contracts", str(contracts_copy), "--report", str(report)
    )
    assert code == 0, err
    assert re.search(r"^contracts: \d+ checks, all contracts hold$", out, re.M), out
    assert "ok    shapes   declared serializer shapes equal their snapshots" in out
    assert "mirror: provider dsn" in out
    assert re.match(r"## Contracts\n\n\d+ checks, all contracts hold\.", report.read_text())


def test_check_fails_with_exit_1_and_the_diff(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path
) -> None:
    path = contracts_copy / "columns.json"
    path.write_text(path.read_text().replace('"type": "character varying(254)"', '"type": "text"'))
    code, out, _ = run(
        capsys, "contracts", "check", *dsn_mirror, "--contracts", str(contracts_copy),
        "--kind", "columns",
    )  # fmt: skip
    assert code == 1
    assert "FAIL  columns  schema.sql in the mirror satisfies columns.json exactly" in out
    assert (
        "        [breaking] column billig.purchase.owner_email type narrowed: "
        "text → character varying(254)" in out
    )
    # The models read owner_email as varchar(254), which a text column no longer guarantees.
    assert "FAIL  columns  every model column is in columns.json" in out
    assert "contracts: 3 checks, 2 of 3 failed" in out


def test_malformed_contract_exits_2_with_its_location(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path
) -> None:
    path = contracts_copy / "columns.json"
    path.write_text(path.read_text()[:700])
    code, out, err = run(capsys, "check", *dsn_mirror, "--contracts", str(contracts_copy))
    assert code == 2
    assert err.startswith(f"billig: error: {path}:")
    assert ": invalid JSON: " in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert out == ""  # rejected before any mirror was started


def test_malformed_shape_snapshot_exits_2_with_its_location(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path
) -> None:
    path = contracts_copy / "shapes" / "PriceGroup.json"
    path.write_text(path.read_text().replace('"format_version": 1', '"format_version": 7'))
    code, out, err = run(
        capsys, "contracts", "check", *dsn_mirror, "--contracts", str(contracts_copy)
    )
    assert code == 2 and out == ""
    assert err == (
        f"billig: error: {path}:12:21: $.format_version: unsupported format_version 7 "
        "(this harness reads 1)\n"
    )


def test_unknown_snapshot_kind_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path
) -> None:
    code, _, err = run(
        capsys, "contracts", "check", *dsn_mirror, "--contracts", str(contracts_copy),
        "--kind", "nope",
    )  # fmt: skip
    assert code == 2
    assert "unknown snapshot kind 'nope' (known: assertions, columns, " in err and "shapes" in err


def test_update_creates_the_files_then_check_is_clean(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], tmp_path: Path
) -> None:
    folder = tmp_path / "contracts"
    mine = ["--contracts", str(folder), "--kind", "columns", "--kind", "shapes"]
    code, out, err = run(capsys, "contracts", "update", *dsn_mirror, *mine)
    assert code == 0, err
    assert out.splitlines()[0] == "added     contracts/columns.json"
    assert out.endswith("contracts: 5 file(s) updated\n")
    code, out, _ = run(capsys, "contracts", "update", *dsn_mirror, *mine)
    assert code == 0 and out.endswith("contracts: already up to date\n")
    code, out, _ = run(capsys, "contracts", "check", *dsn_mirror, *mine)
    assert code == 0, out
    assert out.splitlines()[-2] == "contracts: 5 checks, all contracts hold"


# --------------------------------------------------------------------------- snapshot


def test_snapshot_pins_every_relation_of_the_schema_without_lineage(
    capsys: pytest.CaptureFixture[str], billig_database: URL, tmp_path: Path, project_root: Path
) -> None:
    output = tmp_path / "pinned.json"
    code, out, err = run(
        capsys, "contracts", "snapshot", "--dsn", _full(billig_database), "--schema", "billig",
        "--output", str(output),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("pinned 9 relations (66 columns) of schema(s) billig from ")
    assert str(billig_database.password) not in out
    pinned = load_contract(output)
    assert pinned.lineage is None
    data = json.loads(output.read_text())
    assert data["lineage"] is False
    assert all("lineage" not in c for r in data["relations"] for c in r["columns"])
    # The same relations, columns and keys as the project's contract, minus its lineage.
    project = load_contract(project_root / "contracts" / "columns.json")
    assert pinned == project


def test_snapshot_of_several_schemas_with_awkward_names(
    capsys: pytest.CaptureFixture[str], fresh_database: URL, tmp_path: Path
) -> None:
    with contextlib.closing(connect_url(fresh_database)) as conn, conn.cursor() as cur:
        cur.execute(
            '''
            CREATE SCHEMA "Other Schema";
            CREATE TABLE "Other Schema"."we.ird ""T""" ("Ä col" integer PRIMARY KEY, b text);
            CREATE SCHEMA s2;
            CREATE TABLE s2.parent (id bigint PRIMARY KEY);
            CREATE TABLE s2.child (id int, parent bigint REFERENCES s2.parent);
            CREATE VIEW s2.v AS SELECT id FROM s2.child;
            CREATE TABLE public.not_pinned (id int);
            '''
        )
        conn.commit()
    output = tmp_path / "pinned.json"
    code, _, err = run(
        capsys, "contracts", "snapshot", "--dsn", _full(fresh_database),
        "--schema", "Other Schema", "--schema", "s2", "--output", str(output),
    )  # fmt: skip
    assert code == 0, err
    pinned = load_contract(output)
    assert [tuple(k) for k in pinned.relations] == [
        ("Other Schema", 'we.ird "T"'), ("s2", "child"), ("s2", "parent"), ("s2", "v")
    ]  # fmt: skip
    assert pinned.schemas == frozenset({"Other Schema", "s2"})
    odd = pinned.get(("Other Schema", 'we.ird "T"'))
    assert odd is not None and odd.primary_key == ("Ä col",)
    view = pinned.get(("s2", "v"))
    assert view is not None and view.columns[0].nullable is True  # derived from s2.child.id
    assert str(view.columns[0].origin) == "s2.child.id"
    child = pinned.get(("s2", "child"))
    assert child is not None and child.foreign_keys[0].target == ("s2", "parent")


def test_snapshot_of_a_missing_schema_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], fresh_database: URL, tmp_path: Path
) -> None:
    output = tmp_path / "pinned.json"
    code, _, err = run(
        capsys, "contracts", "snapshot", "--dsn", _full(fresh_database), "--schema", "billig",
        "--output", str(output),
    )  # fmt: skip
    assert code == 2
    assert "schema 'billig' does not exist in " in err
    assert str(fresh_database.password) not in err
    assert not output.exists()


def test_snapshot_of_an_unreachable_database_exits_3_without_the_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "pinned.json"
    code, out, err = run(
        capsys, "contracts", "snapshot", "--dsn",
        "postgresql://billig:s3cret-pw@127.0.0.1:1/billig", "--schema", "billig",
        "--output", str(output),
    )  # fmt: skip
    assert code == 3
    assert "s3cret-pw" not in out + err
    assert not output.exists()


def test_a_changed_schema_is_reported_column_by_column_and_observed_checks_still_run(
    capsys: pytest.CaptureFixture[str],
    dsn_mirror: list[str],
    contracts_copy: Path,
    project_root: Path,
    tmp_path: Path,
) -> None:
    """What the seed note's checklist leads to: Billig changed, schema.sql was edited to match
    (a column dropped, one renamed in the table and its view, a NOT NULL column added)."""
    sql = (project_root / "schema" / "billig.sql").read_text()
    edited = (
        sql.replace("    netsale boolean NOT NULL,\n", "")
        .replace(
            "event_name character varying(140) NOT NULL,",
            "event_title character varying(140) NOT NULL,",
        )
        .replace("SELECT event, event_name,", "SELECT event, event_title,")
        .replace(
            "    ticket_limit integer,\n",
            "    ticket_limit integer,\n    sales_channel text NOT NULL,\n",
        )
    )
    assert (
        edited.count("event_title") == 2 and "netsale" not in edited.split("price_group (")[1][:400]
    )
    schema = tmp_path / "billig.sql"
    schema.write_text(edited)
    code, out, err = run(
        capsys, "contracts", "check", *dsn_mirror, "--contracts", str(contracts_copy),
        "--schema-file", str(schema),
    )  # fmt: skip
    assert code == 1, err
    assert "billig.price_group.netsale" in out
    assert "event_title" in out and "event_name" in out
    assert "billig.ticket_group.sales_channel" in out
    observed = [line for line in out.splitlines() if "real serializer output" in line]
    assert observed, out  # the observed check ran on what could be seeded
    assert (
        "the serializers cannot read the seeded mirror: model column BilligEvent.name "
        "(billig.event_lim_web.event_name) is not in the mirror"
    ) in out
    assert "internal error" not in err


def test_a_schema_without_the_contracted_tables_still_gets_its_columns_checked(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path, tmp_path: Path
) -> None:
    schema = tmp_path / "billig.sql"
    schema.write_text(
        "CREATE SCHEMA billig;\nCREATE TABLE billig.kort (kort bigint PRIMARY KEY);\n"
    )
    code, out, err = run(
        capsys, "check", *dsn_mirror, "--contracts", str(contracts_copy), "--kind", "columns",
        "--schema-file", str(schema),
    )  # fmt: skip
    assert code == 1, err
    assert "[breaking] table billig.event is missing" in out
    assert "Traceback" not in err  # the seed fills what the schema has, warning of nothing else
