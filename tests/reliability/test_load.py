"""Load: drift against a 5,000-relation database, 1,950 renamed tables, seeding 50,000 events,
20 drifts at once, a drift policy of 40,000 entries.

Marked ``slow``: run by ``tox -e load`` (which CI runs), not by the default test command. Each
``billig`` process's peak resident memory comes from the kernel (see ``billig_measured``); the
figures are printed in the run's summary ("reliability figures") and stored as JUnit
properties. The memory bounds are generous on purpose: they catch a harness that holds a whole
catalog or seed many times over, not noise.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.findings import FindingKind
from mirror.catalog.model import Catalog, Column, Kind, Relation, RelationKey
from mirror.drift.policy import load_policy, parse_policy
from mirror.errors import PolicyError
from mirror.provision.providers import Server, connect_url

from .sandbox import Measured, billig_measured, full, new_database, query

pytestmark = pytest.mark.slow

RELATIONS = 5_000
RENAMED = 1_950
EVENTS = 50_000
PARALLEL = 20
POLICY_ENTRIES = 40_000
MAX_DRIFT_MB = 400
MAX_SEED_MB = 1_000

Figure = Callable[[str, str], None]


@pytest.fixture(scope="module")
def big_database(billig_server: Server) -> Iterator[URL]:
    """schema/billig.sql plus 5,000 more tables of six columns in schema billig (30,000 columns);
    every tenth has a foreign key to billig.event."""
    name = "load_5000"
    billig_server.drop_database(name)
    url = new_database(billig_server, name)
    try:
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "DO $$ BEGIN FOR i IN 1..%(n)s LOOP EXECUTE format("
                "'CREATE TABLE billig.%%I (id integer PRIMARY KEY,"
                " name character varying(140) NOT NULL, note text, created timestamp,"
                " amount numeric(10,2), event integer %%s)', 'extra_' || i,"
                " CASE WHEN i %% 10 = 0 THEN 'REFERENCES billig.event' ELSE '' END);"
                " END LOOP; END $$",
                {"n": RELATIONS},
            )
            conn.commit()
        yield url
    finally:
        billig_server.drop_database(name)


def _note(figure: Figure, what: str, run: Measured) -> None:
    figure(what, f"{run.seconds:.2f} s, peak RSS {run.peak_mb:.0f} MB")


def test_drift_of_the_project_contract_in_a_5000_relation_database(
    big_database: URL, figure: Figure
) -> None:
    run = billig_measured("drift", "--dsn", full(big_database), "--format", "json")
    _note(figure, f"drift, 9-relation contract, {RELATIONS + 9} relations in the database", run)
    assert run.result.code == 0, run.result.err
    report = json.loads(run.result.out)
    assert report["findings"] == []
    assert run.peak_mb < MAX_DRIFT_MB


def test_drift_of_the_whole_schema_reports_5000_added_relations(
    big_database: URL, figure: Figure
) -> None:
    run = billig_measured(
        "drift", "--dsn", full(big_database), "--schema", "billig", "--format", "json"
    )
    _note(figure, f"drift --schema billig, {RELATIONS} added relations", run)
    assert run.result.code == 0, run.result.err  # additions are information
    findings = json.loads(run.result.out)["findings"]
    assert len(findings) == RELATIONS
    assert {f["kind"] for f in findings} == {"relation_added"}
    assert run.peak_mb < MAX_DRIFT_MB


def test_snapshot_and_drift_of_a_5009_relation_contract(
    big_database: URL, figure: Figure, tmp_path: Path
) -> None:
    pinned = tmp_path / "pinned.json"
    snapshot = billig_measured(
        "contracts", "snapshot", "--dsn", full(big_database), "--schema", "billig",
        "--output", str(pinned),
    )  # fmt: skip
    _note(figure, f"contracts snapshot of {RELATIONS + 9} relations", snapshot)
    assert snapshot.result.code == 0, snapshot.result.err
    assert f"pinned {RELATIONS + 9} relations" in snapshot.result.out
    figure("pinned contract size", f"{pinned.stat().st_size / 1e6:.1f} MB")
    run = billig_measured(
        "drift", "--dsn", full(big_database), "--contract", str(pinned), "--format", "json"
    )
    _note(figure, f"drift, {RELATIONS + 9}-relation contract", run)
    assert run.result.code == 0, run.result.err
    assert json.loads(run.result.out)["findings"] == []
    assert max(snapshot.peak_mb, run.peak_mb) < MAX_DRIFT_MB


def test_twenty_drift_runs_at_once_against_one_server_all_succeed(
    big_database: URL, figure: Figure
) -> None:
    args = ("drift", "--dsn", full(big_database), "--schema", "billig", "--format", "json")
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = list(pool.map(lambda _: billig_measured(*args), range(PARALLEL)))
    figure(
        f"{PARALLEL} parallel drift runs",
        f"slowest {max(r.seconds for r in runs):.2f} s, "
        f"peak RSS {max(r.peak_mb for r in runs):.0f} MB each at most",
    )
    assert [r.result.code for r in runs] == [0] * PARALLEL, [r.result.err for r in runs]
    reports = [json.loads(r.result.out) for r in runs]
    assert all(r["findings"] == reports[0]["findings"] for r in reports)
    assert len(reports[0]["findings"]) == RELATIONS


def test_drift_names_each_of_1950_renamed_tables_that_share_most_columns(
    billig_server: Server, figure: Figure, tmp_path: Path
) -> None:
    """Every table shares five of its six columns with all the others, so each renamed table
    has 1,950 candidates above the rename threshold and exactly one that matches wholly."""
    name = "load_renames"
    billig_server.drop_database(name)
    url = new_database(billig_server, name)
    try:
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "DO $$ BEGIN FOR i IN 1..%(n)s LOOP EXECUTE format("
                "'CREATE TABLE billig.%%I (id integer PRIMARY KEY,"
                " name character varying(140) NOT NULL, note text, created timestamp,"
                " amount numeric(10,2), %%I integer)', 'shared_' || i, 'code_' || i);"
                " END LOOP; END $$",
                {"n": RENAMED},
            )
            conn.commit()
        pinned = tmp_path / "pinned.json"
        snapshot = billig_measured(
            "contracts", "snapshot", "--dsn", full(url), "--schema", "billig",
            "--output", str(pinned),
        )  # fmt: skip
        assert snapshot.result.code == 0, snapshot.result.err
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "DO $$ BEGIN FOR i IN 1..%(n)s LOOP EXECUTE format("
                "'ALTER TABLE billig.%%I RENAME TO %%I', 'shared_' || i, 'renamed_' || i);"
                " END LOOP; END $$",
                {"n": RENAMED},
            )
            conn.commit()
        run = billig_measured(
            "drift", "--dsn", full(url), "--contract", str(pinned), "--format", "json"
        )
        _note(figure, f"drift, {RENAMED} renamed tables sharing 5 of 6 columns", run)
        assert run.result.code == 1, run.result.err
        report = json.loads(run.result.out)
        figure("of which compare", f"{report['timings']['compare']:.2f} s")
        findings = report["findings"]
        assert {f["kind"] for f in findings} == {"relation_renamed"}
        assert sorted((f["expected"], f["actual"]) for f in findings) == sorted(
            (f"billig.shared_{i}", f"billig.renamed_{i}") for i in range(1, RENAMED + 1)
        )
        assert run.peak_mb < MAX_DRIFT_MB
    finally:
        billig_server.drop_database(name)


def test_1950_renamed_tables_with_the_same_columns_are_each_missing_not_guessed() -> None:
    """Equal candidates are told apart by nothing: no rename is named, every one is missing."""
    columns = (
        Column("id", "integer", False),
        Column("name", "character varying(140)", False),
        Column("note", "text", True),
    )

    def tables(prefix: str) -> Catalog:
        return Catalog.of(
            Relation(RelationKey("billig", f"{prefix}_{i}"), Kind.TABLE, columns)
            for i in range(RENAMED)
        )

    findings = compare_catalogs(tables("shared"), tables("renamed"))
    assert Counter(f.kind for f in findings) == {
        FindingKind.RELATION_MISSING: RENAMED,
        FindingKind.RELATION_ADDED: RENAMED,
    }


def test_seeding_50000_events(fresh_database: URL, figure: Figure) -> None:
    run = billig_measured("mirror", "seed", "--dsn", full(fresh_database), "--events", str(EVENTS))
    _note(figure, f"mirror seed --events {EVENTS}", run)
    assert run.result.code == 0, run.result.err
    with contextlib.closing(connect_url(fresh_database)) as conn:
        (events, tickets) = query(
            conn, "SELECT (SELECT count(*) FROM billig.event), (SELECT count(*) FROM billig.ticket)"
        )[0]
    figure("seeded rows", f"{events} events, {tickets} tickets")
    assert events == EVENTS and tickets > EVENTS
    assert run.peak_mb < MAX_SEED_MB


def test_a_policy_of_40000_entries_loads_with_every_entry_and_error_located(
    tmp_path: Path, figure: Figure
) -> None:
    entries = [
        {
            "kind": "column_missing",
            "object": f"billig.extra_{i}.note",
            "reason": "kept for the archive",
            "owner": "web team",
            "expires": "2099-01-01",
        }
        for i in range(POLICY_ENTRIES)
    ]
    text = json.dumps({"format_version": 1, "tolerate": entries}, indent=2)
    path = tmp_path / "drift-policy.json"
    path.write_text(text)
    figure("policy file size", f"{len(text) / 1e6:.1f} MB, {POLICY_ENTRIES} entries")
    policy = load_policy(path)
    assert len(policy.entries) == POLICY_ENTRIES
    # Seven lines per entry after the three opening lines: entry i opens on line 4 + 7 i.
    assert [e.source for e in policy.entries] == [
        f"{path}:{4 + 7 * i}" for i in range(POLICY_ENTRIES)
    ]
    assert policy.entries[-1].object == f"billig.extra_{POLICY_ENTRIES - 1}.note"

    last = POLICY_ENTRIES - 1
    broken = text[: text.rindex('"2099-01-01"')] + '"2099-02-30"' + text[text.rindex("\n    }") :]
    with pytest.raises(PolicyError) as info:
        parse_policy(broken, str(path))
    assert str(info.value) == (
        f"{path}:{4 + 7 * last + 5}:18: $.tolerate[{last}].expires: "
        "'2099-02-30' is not a valid date"
    )
