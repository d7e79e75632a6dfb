"""``billig drift --data``: production's rows against the site's assumptions, counts only.

Production is seeded with rows that break what the site's readers assume; every report format
is searched for the seeded values, which must never appear.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mirror.catalog.findings import FindingKind, Severity
from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Relation, RelationKey, Usage
from mirror.drift.assertions import ASSERTIONS_FILE, load_assertions
from mirror.drift.check import check_drift
from mirror.drift.data import SAMPLE_ROWS, plan_probes, probe_statement
from mirror.errors import ContractError
from mirror.report import FORMATS
from mirror.sources.contract_file import load_contract, write_contract
from mirror.sources.introspect import introspect

from .production import Production, run_cli

EVENT_LIM_WEB = RelationKey("billig", "event_lim_web")
SECRETS = ("Seeded-Location-7781", "Seeded-Note-2291", "Seeded-Type-6604")
# Two events with a NULL name (the site's BilligEvent.name is non-null), values to search for.
SEED = (
    "ALTER TABLE billig.event ALTER COLUMN event_name DROP NOT NULL; "
    "INSERT INTO billig.event (event, event_name, event_location, event_note, event_type, "
    "sale_from, sale_to, hidden) VALUES "
    f"(9001, NULL, '{SECRETS[0]}', '{SECRETS[1]}', '{SECRETS[2]}', now(), now(), false), "
    f"(9002, NULL, '{SECRETS[0]}', '{SECRETS[1]}', '{SECRETS[2]}', now(), now(), false), "
    "(9003, 'named', NULL, NULL, NULL, now(), now(), false)"
)


def test_nulls_read_as_non_null_are_counted_with_their_readers(
    production: Production, contract_dir: Path
) -> None:
    production.execute(SEED)
    check = check_drift(production.login, contract=contract_dir, data=True)
    nulls = {f.object: f for f in check.findings if f.kind is FindingKind.DATA_NULLS}
    # The table column and, through the view, the column the site reads.
    assert set(nulls) == {"billig.event.event_name", "billig.event_lim_web.event_name"}
    view = nulls["billig.event_lim_web.event_name"]
    assert view.actual == "2 of 3 rows"
    assert view.severity is Severity.BREAKING
    assert {"BilligEvent.name", "GET /billig/events"} <= set(view.impact)
    assert "2 of 3 rows are NULL, read as non-null by" in view.message
    assert check.statements[-3:] == ("data sizes", "data", "data")


def test_without_data_no_row_is_read(production: Production, contract_dir: Path) -> None:
    production.execute(SEED)
    check = check_drift(production.login, contract=contract_dir)
    assert not [f for f in check.findings if f.kind is FindingKind.DATA_NULLS]
    assert "data" not in check.statements


def test_no_report_format_shows_a_row_value(production: Production) -> None:
    production.execute(SEED)
    for fmt in FORMATS:
        done = run_cli("--data", "--format", fmt, dsn=production.dsn)
        assert done.code == 1, done
        assert "data_nulls" in done.stdout or "NULL" in done.stdout, fmt
        for secret in SECRETS:
            assert secret not in done.stdout + done.stderr, (fmt, secret)
    report = json.loads(run_cli("--data", "--format", "json", dsn=production.dsn).stdout)
    kinds = {f["kind"] for f in report["findings"]}
    assert "data_nulls" in kinds


def test_values_outside_the_pinned_labels_are_probed_with_the_labels_as_parameters() -> None:
    key = RelationKey("shop", "order")
    contract = Catalog.of(
        [
            Relation(
                key,
                Kind.TABLE,
                (Column("state", "shop.state", False, labels=("new", "paid")),),
            )
        ],
        lineage={ColumnRef(*key, "state"): Usage(fields=("Order.state",))},
    )
    live = Catalog.of([Relation(key, Kind.TABLE, (Column("state", "shop.state", False),))])
    ((probe,),) = plan_probes(contract, live).values()
    assert probe.kind is FindingKind.DATA_OUTSIDE_LABELS
    assert list(probe.params.values()) == [["new", "paid"]]
    sql = probe_statement(key, Kind.TABLE, [probe], reltuples=50.0 * SAMPLE_ROWS)
    assert "TABLESAMPLE SYSTEM (4.000000)" in sql and f"LIMIT {SAMPLE_ROWS}" in sql
    assert "new" not in sql and "paid" not in sql


ASSERTED = json.dumps(
    {
        "format_version": 1,
        "assertions": [{"relation": "billig.ticket_group", "check": "num_sold <= num AND num > 0"}],
    }
)


def test_a_declared_assertion_is_counted_with_the_readers_it_protects(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(contract_dir / "columns.json", tmp_path / "columns.json")
    (tmp_path / ASSERTIONS_FILE).write_text(ASSERTED)
    production.execute(
        "INSERT INTO billig.event (event, event_name, sale_from, sale_to, hidden) "
        "VALUES (9100, 'Seeded-Event-4410', now(), now(), false); "
        "INSERT INTO billig.ticket_group (ticket_group, event, ticket_group_name, num_sold, num) "
        "VALUES (9100, 9100, 'Seeded-Group-5517', 5, 2), (9101, 9100, 'ok', 1, 2)"
    )
    check = check_drift(production.login, contract=tmp_path, data=True)
    (broken,) = [f for f in check.findings if f.kind is FindingKind.DATA_ASSERTION]
    assert broken.object == "billig.ticket_group"
    assert broken.actual == "1 of 2 rows"
    assert broken.severity is Severity.BREAKING  # the site reads num_sold and num
    assert "violates num_sold <= num AND num > 0" in broken.message
    assert broken.impact  # the readers of num_sold and num
    text = run_cli("--data", "--contract", str(tmp_path), dsn=production.dsn)
    assert "Seeded-Group-5517" not in text.stdout and "Seeded-Event-4410" not in text.stdout


@pytest.mark.parametrize(
    ("check", "says"),
    [
        ("lower(ticket_group_name) = 'x'", "FuncCall is not allowed"),
        ("(SELECT 1) = 1", "SubLink is not allowed"),
        ("num) FROM billig.ticket; SELECT (1", "not an SQL expression"),
        ("nope > 1", "no column 'nope' in billig.ticket_group"),
    ],
)
def test_an_assertion_is_one_expression_over_the_relations_columns(
    contract_dir: Path, tmp_path: Path, check: str, says: str
) -> None:
    document = {
        "format_version": 1,
        "assertions": [{"relation": "billig.ticket_group", "check": check}],
    }
    (tmp_path / ASSERTIONS_FILE).write_text(json.dumps(document))
    with pytest.raises(ContractError, match=r"data-assertions\.json:\d+:\d+: .*" + re.escape(says)):
        load_assertions(tmp_path, load_contract(contract_dir / "columns.json"))


def test_values_outside_the_pinned_labels_are_counted(
    production: Production, tmp_path: Path
) -> None:
    production.execute(
        "CREATE TYPE public.state AS ENUM ('new', 'paid'); "
        "CREATE TABLE public.orders (id integer NOT NULL, state public.state NOT NULL); "
        "INSERT INTO public.orders VALUES (1, 'new'), (2, 'paid')"
    )
    pinned = introspect(production.admin, relations=[RelationKey("public", "orders")]).catalog
    write_contract(tmp_path / "columns.json", pinned)
    production.execute(
        "ALTER TYPE public.state ADD VALUE 'Seeded-Label-3318'; COMMIT; "
        "INSERT INTO public.orders VALUES (3, 'Seeded-Label-3318'), (4, 'Seeded-Label-3318')"
    )
    check = check_drift(production.login, contract=tmp_path, data=True)
    (outside,) = [f for f in check.findings if f.kind is FindingKind.DATA_OUTSIDE_LABELS]
    assert outside.object == "public.orders.state"
    assert outside.actual == "2 of 4 rows"
    assert "Seeded-Label-3318" not in outside.message + str(outside.expected) + outside.actual


def test_an_assertion_failing_on_a_row_is_a_contract_error_that_shows_no_value(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(contract_dir / "columns.json", tmp_path / "columns.json")
    document = {
        "format_version": 1,
        "assertions": [{"relation": "billig.ticket_group", "check": "num / (num_sold - 5) >= 0"}],
    }
    (tmp_path / ASSERTIONS_FILE).write_text(json.dumps(document))
    production.execute(
        "INSERT INTO billig.event (event, event_name, sale_from, sale_to, hidden) "
        "VALUES (9200, 'Seeded-Event-6120', now(), now(), false); "
        "INSERT INTO billig.ticket_group (ticket_group, event, ticket_group_name, num_sold, num) "
        "VALUES (9200, 9200, 'Seeded-Group-8843', 5, 2)"
    )
    done = run_cli("--data", "--contract", str(tmp_path), dsn=production.dsn)
    assert done.code == 2, done
    assert f"{ASSERTIONS_FILE}: an assertion on billig.ticket_group fails" in done.stderr
    assert "DivisionByZero" in done.stderr and "num / (num_sold - 5) >= 0" in done.stderr
    assert "Seeded-" not in done.stdout + done.stderr


# One value per kind of broken assumption, none of which may ever be printed.
EVERY_KIND = {
    "data_nulls": "Seeded-Location-4471",  # a row whose event_name is NULL carries it elsewhere
    "data_outside_labels": "Seeded-Label-2093",
    "data_outside_choices": "Seeded-Type-7730",
    "data_assertion": "Seeded-Group-3356",
}


def test_every_kind_is_counted_and_no_format_shows_a_row_value(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    production.execute(
        "CREATE TYPE public.state AS ENUM ('new', 'paid'); "
        "CREATE TABLE public.orders (id integer NOT NULL, state public.state NOT NULL)"
    )
    orders = introspect(production.admin, relations=[RelationKey("public", "orders")]).catalog
    pinned = load_contract(contract_dir / "columns.json")
    lineage = dict(pinned.lineage or {})
    state, kind = ColumnRef("public", "orders", "state"), ColumnRef(*EVENT_LIM_WEB, "event_type")
    lineage[state] = Usage(fields=("Order.state",))
    lineage[kind] = replace(lineage[kind], choices=("concert", "theatre"))
    contract = Catalog.of([*pinned, *orders], lineage=lineage)
    write_contract(tmp_path / "columns.json", contract)
    (tmp_path / ASSERTIONS_FILE).write_text(ASSERTED)
    production.execute(
        f"ALTER TYPE public.state ADD VALUE '{EVERY_KIND['data_outside_labels']}'; COMMIT; "
        f"INSERT INTO public.orders VALUES (1, 'new'), "
        f"(2, '{EVERY_KIND['data_outside_labels']}'); "
        "ALTER TABLE billig.event ALTER COLUMN event_name DROP NOT NULL; "
        "INSERT INTO billig.event (event, event_name, event_location, event_type, sale_from, "
        f"sale_to, hidden) VALUES (9300, NULL, '{EVERY_KIND['data_nulls']}', "
        f"'{EVERY_KIND['data_outside_choices']}', now(), now(), false), "
        "(9301, 'named', NULL, 'concert', now(), now(), false); "
        "INSERT INTO billig.ticket_group (ticket_group, event, ticket_group_name, num_sold, num) "
        f"VALUES (9300, 9300, '{EVERY_KIND['data_assertion']}', 5, 2)"
    )
    report = json.loads(run_cli("--data", "--contract", str(tmp_path), "--format", "json",
                                dsn=production.dsn).stdout)  # fmt: skip
    found = {f["kind"]: f for f in report["findings"] if f["kind"].startswith("data_")}
    assert set(found) == set(EVERY_KIND)
    for finding in found.values():
        assert re.fullmatch(r"\d+ of \d+ rows", finding["actual"]), finding
        assert finding["impact"], finding
    assert found["data_outside_choices"]["object"] == "billig.event_lim_web.event_type"
    assert found["data_outside_choices"]["actual"] == "1 of 2 rows"
    for fmt in FORMATS:
        done = run_cli("--data", "--contract", str(tmp_path), "--format", fmt, dsn=production.dsn)
        assert done.code == 1, (fmt, done)
        for kind, value in EVERY_KIND.items():
            if kind == "data_outside_labels":
                # The enum's new label is catalog metadata the label finding names; the data
                # finding only counts the rows holding it.
                assert value not in found[kind]["message"] + str(found[kind]["expected"])
                continue
            assert value not in done.stdout + done.stderr, (fmt, value)


def test_a_pinned_check_production_dropped_is_counted_on_its_rows(
    production: Production, tmp_path: Path
) -> None:
    production.execute(
        "CREATE TABLE public.seats (id integer NOT NULL, kind character varying(20) NOT NULL, "
        "CONSTRAINT seats_kind CHECK (kind IN ('aisle', 'window')), "
        "CONSTRAINT seats_name CHECK (length(kind) > 0)); "
        "INSERT INTO public.seats VALUES (1, 'aisle')"
    )
    key = RelationKey("public", "seats")
    pinned = introspect(production.admin, relations=[key]).catalog
    assert len(pinned.relations[key].checks) == 2
    lineage = {ColumnRef(*key, "kind"): Usage(fields=("Seat.kind",))}
    write_contract(tmp_path / "columns.json", Catalog.of(pinned, lineage=lineage))
    production.execute(
        "ALTER TABLE public.seats DROP CONSTRAINT seats_kind, DROP CONSTRAINT seats_name; "
        "INSERT INTO public.seats VALUES (2, 'Seeded-Kind-6652'), (3, 'window')"
    )
    check = check_drift(production.login, contract=tmp_path, data=True)
    # The IN list is counted; the CHECK calling a function cannot be, safely, and is left out.
    (broken,) = [f for f in check.findings if f.kind is FindingKind.DATA_ASSERTION]
    assert broken.actual == "1 of 3 rows"
    assert broken.severity is Severity.BREAKING
    assert "violates the pinned CHECK" in broken.message and "'window'" in broken.message
    for fmt in FORMATS:
        done = run_cli("--data", "--contract", str(tmp_path), "--format", fmt, dsn=production.dsn)
        assert done.code == 1 and "Seeded-Kind-6652" not in done.stdout + done.stderr, fmt
