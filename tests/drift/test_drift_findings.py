"""Drift against a real production: each mutation gives exactly its findings and exit code.

Every case clones the production database, mutates it as its owner, and checks it through the
read-only login with the project's own contract (``contracts/``, with lineage). The extra
columns production always has are information only (``BASELINE``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg2 import sql

from mirror.catalog.findings import FindingKind
from mirror.catalog.model import Kind, RelationKey
from mirror.drift.check import check_drift

from .production import BASELINE, QUOTE_WHOLE_SCHEMA, Production, execute, run_cli, triples

BREAKING, WARNING, INFO = "breaking", "warning", "info"

CONTRACTED = (
    "event",
    "event_lim_web",
    "payment_error",
    "payment_error_price_group",
    "price_group",
    "purchase",
    "ticket",
    "ticket_card",
    "ticket_group",
)


@dataclass(frozen=True)
class Mutation:
    name: str
    statements: str
    findings: frozenset[tuple[str, str, str]]
    exit_code: int
    baseline: bool = True  # production's extra columns still show up


MUTATIONS = [
    Mutation("unmodified", "", frozenset(), 0),
    Mutation(
        "schema missing",
        "DROP SCHEMA billig CASCADE",
        frozenset(
            {("schema_missing", BREAKING, "billig")}
            | {("relation_missing", BREAKING, f"billig.{name}") for name in CONTRACTED}
        ),
        1,
        baseline=False,
    ),
    Mutation(
        "whole schema quoted as dotted identifiers in public",
        QUOTE_WHOLE_SCHEMA,
        frozenset(
            {("schema_missing", BREAKING, "billig")}
            | {("quoting_confusion", BREAKING, f"billig.{name}") for name in CONTRACTED}
        ),
        1,
        # The look-alikes are compared column by column: their extra columns show up.
    ),
    Mutation(
        "one relation quoted as a dotted identifier",
        "ALTER TABLE billig.ticket_card SET SCHEMA public; "
        'ALTER TABLE public.ticket_card RENAME TO "billig.ticket_card"',
        frozenset({("quoting_confusion", BREAKING, "billig.ticket_card")}),
        1,
    ),
    Mutation(
        "one relation quoted as a dotted identifier, and a column of it dropped",
        "ALTER TABLE billig.ticket_card SET SCHEMA public; "
        'ALTER TABLE public.ticket_card RENAME TO "billig.ticket_card"; '
        'ALTER TABLE public."billig.ticket_card" DROP COLUMN membership_ends',
        frozenset(
            {
                ("quoting_confusion", BREAKING, "billig.ticket_card"),
                ("column_missing", BREAKING, "billig.ticket_card.membership_ends"),
            }
        ),
        1,
    ),
    Mutation(
        "relation dropped",
        "DROP TABLE billig.ticket_card",
        frozenset({("relation_missing", BREAKING, "billig.ticket_card")}),
        1,
    ),
    Mutation(
        "table renamed",
        "ALTER TABLE billig.purchase RENAME TO purchases",
        frozenset({("relation_renamed", BREAKING, "billig.purchase")}),
        1,
    ),
    Mutation(
        "table moved to another schema",
        "CREATE SCHEMA billig_archive; ALTER TABLE billig.ticket_card SET SCHEMA billig_archive",
        frozenset({("relation_renamed", BREAKING, "billig.ticket_card")}),
        1,
    ),
    Mutation(
        "table became a view",
        "ALTER TABLE billig.ticket_card RENAME TO ticket_card_data; "
        "CREATE VIEW billig.ticket_card AS SELECT * FROM billig.ticket_card_data",
        frozenset({("relation_kind_changed", WARNING, "billig.ticket_card")}),
        0,
    ),
    Mutation(
        "table became a view without one of its columns",
        "ALTER TABLE billig.ticket_card RENAME TO ticket_card_data; "
        "CREATE VIEW billig.ticket_card AS SELECT card, owner_member_id "
        "FROM billig.ticket_card_data",
        frozenset(
            {
                ("relation_kind_changed", WARNING, "billig.ticket_card"),
                ("column_missing", BREAKING, "billig.ticket_card.membership_ends"),
            }
        ),
        1,
    ),
    Mutation(
        "view became a table",
        "DROP VIEW billig.event_lim_web; CREATE TABLE billig.event_lim_web (LIKE billig.event)",
        frozenset({("relation_kind_changed", WARNING, "billig.event_lim_web")}),
        0,
    ),
    Mutation(
        "column dropped",
        "ALTER TABLE billig.ticket DROP COLUMN refunder",
        frozenset({("column_missing", BREAKING, "billig.ticket.refunder")}),
        1,
    ),
    Mutation(
        "column renamed",
        "ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO name",
        frozenset({("column_renamed", BREAKING, "billig.price_group.price_group_name")}),
        1,
    ),
    Mutation(
        "column added",
        "ALTER TABLE billig.ticket_card ADD COLUMN issued date",
        frozenset({("column_added", INFO, "billig.ticket_card.issued")}),
        0,
    ),
    Mutation(
        "type widened",
        "ALTER TABLE billig.ticket_group ALTER COLUMN ticket_group_name TYPE varchar(255)",
        frozenset({("type_changed", WARNING, "billig.ticket_group.ticket_group_name")}),
        0,
    ),
    Mutation(
        "type narrowed",
        "ALTER TABLE billig.payment_error ALTER COLUMN owner_email TYPE varchar(100)",
        frozenset({("type_changed", BREAKING, "billig.payment_error.owner_email")}),
        1,
    ),
    Mutation(
        "type changed incompatibly",
        "ALTER TABLE billig.price_group ALTER COLUMN price TYPE numeric(10, 2)",
        frozenset({("type_changed", BREAKING, "billig.price_group.price")}),
        1,
    ),
    Mutation(
        "NOT NULL dropped on a column a serializer declares non-null",
        "ALTER TABLE billig.price_group ALTER COLUMN price DROP NOT NULL",
        frozenset({("nullability_changed", BREAKING, "billig.price_group.price")}),
        1,
    ),
    Mutation(
        "NOT NULL added",
        "ALTER TABLE billig.purchase ALTER COLUMN owner_email SET NOT NULL",
        frozenset({("nullability_changed", INFO, "billig.purchase.owner_email")}),
        0,
    ),
    Mutation(
        "default changed",
        "ALTER TABLE billig.ticket_group ALTER COLUMN is_theater_ticket_group SET DEFAULT true",
        frozenset({("default_changed", WARNING, "billig.ticket_group.is_theater_ticket_group")}),
        0,
    ),
    Mutation(
        "primary key dropped",
        "ALTER TABLE billig.ticket_card DROP CONSTRAINT ticket_card_pkey",
        frozenset({("primary_key_changed", WARNING, "billig.ticket_card")}),
        0,
    ),
    Mutation(
        "primary key changed",
        "ALTER TABLE billig.ticket_card DROP CONSTRAINT ticket_card_pkey, "
        "ADD PRIMARY KEY (owner_member_id, card)",
        frozenset(
            {
                ("primary_key_changed", BREAKING, "billig.ticket_card"),
                ("nullability_changed", INFO, "billig.ticket_card.owner_member_id"),
            }
        ),
        1,
    ),
    Mutation(
        "foreign key dropped",
        "ALTER TABLE billig.ticket DROP CONSTRAINT ticket_purchase_fkey",
        frozenset({("foreign_key_changed", WARNING, "billig.ticket")}),
        0,
    ),
    Mutation(
        "foreign key added",
        "ALTER TABLE billig.payment_error_price_group ADD FOREIGN KEY (price_group) "
        "REFERENCES billig.price_group",
        frozenset({("foreign_key_changed", INFO, "billig.payment_error_price_group")}),
        0,
    ),
    Mutation(
        "SELECT revoked on one column",
        "REVOKE SELECT ON billig.purchase FROM {role}; "
        "GRANT SELECT (purchase, owner_member_id) ON billig.purchase TO {role}",
        frozenset({("privilege_missing", BREAKING, "billig.purchase.owner_email")}),
        1,
    ),
    Mutation(
        "SELECT revoked on a table",
        "REVOKE SELECT ON billig.price_group FROM {role}",
        frozenset({("privilege_missing", BREAKING, "billig.price_group")}),
        1,
    ),
    Mutation(
        "USAGE revoked on the schema",
        "REVOKE USAGE ON SCHEMA billig FROM {role}",
        frozenset({("privilege_missing", BREAKING, f"billig.{name}") for name in CONTRACTED}),
        1,
    ),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation_gives_exactly_its_findings_and_exit_code(
    production: Production, contract_dir: Path, mutation: Mutation
) -> None:
    if mutation.statements:
        production.execute(mutation.statements)
    report = check_drift(production.login, contract=contract_dir).report
    expected = mutation.findings | (BASELINE if mutation.baseline else frozenset())
    assert triples(report.findings) == sorted(expected)
    assert report.exit_code == mutation.exit_code
    assert {f"billig.{name}" for name in CONTRACTED} == {str(k) for k in report.checked}


def test_unmodified_production_reads_only_the_contracted_relations(
    production: Production, contract_dir: Path
) -> None:
    check = check_drift(production.login, contract=contract_dir)
    assert check.report.exit_code == 0
    assert max(f.severity for f in check.report.findings).label == "info"
    # Four statements, one for the contracted view's definition and sources, one proving the
    # contracted relations readable, and nothing of the relations the contract does not name.
    assert check.statements == (
        "session", "relations", "columns", "constraints", "view_sources", "readable"
    )  # fmt: skip
    assert {str(k) for k in check.actual.relations} == {f"billig.{n}" for n in CONTRACTED}


def test_a_rename_costs_one_more_bounded_read_and_reports_no_unrelated_additions(
    production: Production, contract_dir: Path
) -> None:
    production.execute("ALTER TABLE billig.purchase RENAME TO purchases")
    check = check_drift(production.login, contract=contract_dir)
    assert len(check.statements) == 11  # both reads see the view: view_sources twice
    (renamed,) = [f for f in check.findings if f.kind is FindingKind.RELATION_RENAMED]
    assert renamed.actual == "billig.purchases"
    assert renamed.evidence == "3 of 3 expected columns match by name and type"
    assert not [f for f in check.findings if f.kind is FindingKind.RELATION_ADDED]


def test_schema_option_reads_the_whole_schema_and_reports_added_relations(
    production: Production, contract_dir: Path
) -> None:
    report = check_drift(production.login, contract=contract_dir, schemas=["billig"]).report
    added = {f.object for f in report.findings if f.kind is FindingKind.RELATION_ADDED}
    assert added == {
        "billig.event_type",
        "billig.organisation",
        "billig.seat",
        "billig.theater",
        "billig.ticket_seat",
    }
    assert report.exit_code == 0


def test_findings_carry_the_impact_from_lineage(production: Production, contract_dir: Path):
    production.execute("ALTER TABLE billig.price_group ALTER COLUMN price DROP NOT NULL")
    report = check_drift(production.login, contract=contract_dir).report
    (loosened,) = [f for f in report.findings if f.kind is FindingKind.NULLABILITY_CHANGED]
    assert (loosened.expected, loosened.actual, loosened.change) == ("NOT NULL", "NULL", "loosened")
    assert "PriceGroup.price" in loosened.impact
    assert "BilligPriceGroup.price" in loosened.impact


def test_fail_on_warning_turns_a_widening_into_drift(production: Production, contract_dir: Path):
    production.execute(
        "ALTER TABLE billig.ticket_group ALTER COLUMN ticket_group_name TYPE varchar(255)"
    )
    assert check_drift(production.login, contract=contract_dir).report.exit_code == 0
    assert (
        check_drift(production.login, contract=contract_dir, fail_on="warning").report.exit_code
        == 1
    )


# --------------------------------------------------------------------------- snapshot contract


def test_snapshot_contract_counts_every_pinned_column_as_read(
    production: Production, tmp_path: Path
) -> None:
    from mirror.contracts.snapshot import snapshot_database

    pinned = tmp_path / "columns.json"
    snapshot_database(production.dsn, ["billig"], pinned)
    assert json.loads(pinned.read_text())["lineage"] is False
    clean = check_drift(production.login, contract=pinned).report
    assert clean.findings == () and clean.exit_code == 0

    # NOT NULL → NULL on a column nothing in our code names: the snapshot promised NOT NULL.
    production.execute(
        "ALTER TABLE billig.theater ALTER COLUMN theater_name DROP NOT NULL; "
        "DROP TABLE billig.event_type"
    )
    report = check_drift(production.login, contract=pinned).report
    assert triples(report.findings) == [
        ("nullability_changed", BREAKING, "billig.theater.theater_name"),
        ("relation_missing", BREAKING, "billig.event_type"),
    ]
    assert report.exit_code == 1


# --------------------------------------------------------------------------- through the CLI


def test_cli_unmodified_production_exits_0(production: Production) -> None:
    done = run_cli(dsn=production.dsn)
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("billig drift: OK (exit 0, fail on breaking)")
    assert "0 breaking, 0 warning, 2 info" in done.stdout


@pytest.mark.parametrize(
    ("statements", "args", "kind", "code"),
    [
        (
            "ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO name",
            (),
            "column_renamed",
            1,
        ),
        (
            "ALTER TABLE billig.ticket_card RENAME TO ticket_card_data; "
            "CREATE VIEW billig.ticket_card AS SELECT * FROM billig.ticket_card_data",
            ("--fail-on", "warning"),
            "relation_kind_changed",
            1,
        ),
        (
            "ALTER TABLE billig.ticket_card ADD COLUMN issued date",
            ("--fail-on", "warning"),
            "column_added",
            0,
        ),
    ],
    ids=["column renamed", "table to view, fail on warning", "column added, fail on warning"],
)
def test_cli_exit_code_and_json_report(
    production: Production,
    tmp_path: Path,
    statements: str,
    args: tuple[str, ...],
    kind: str,
    code: int,
) -> None:
    production.execute(statements)
    out = tmp_path / "reports" / "drift.json"
    done = run_cli(*args, "--output", f"json:{out}", dsn=production.dsn)
    assert done.code == code, done.stderr
    assert done.stdout.startswith("billig drift: ")  # the text report still goes to stdout
    data = json.loads(out.read_text())
    assert data["exit_code"] == code
    assert kind in {f["kind"] for f in data["findings"]}
    assert production.password not in out.read_text() + done.stdout + done.stderr


# --------------------------------------------------------------------------- schemas alone


@pytest.mark.parametrize(
    ("schemas", "findings"),
    [
        (["billig"], []),
        (["billig", "kasse"], [("schema_missing", "warning", "kasse")]),
    ],
    ids=["existing schema", "one of two missing"],
)
def test_a_contract_of_schemas_alone_reports_only_the_missing_ones(
    production: Production, tmp_path: Path, schemas: list[str], findings: list[tuple[str, ...]]
) -> None:
    pinned = tmp_path / "columns.json"
    pinned.write_text(
        json.dumps({"format_version": 1, "lineage": False, "relations": [], "schemas": schemas})
    )
    report = check_drift(production.login, contract=pinned).report
    assert triples(report.findings) == findings
    assert report.exit_code == 0


def test_a_view_the_login_can_no_longer_read_is_a_breaking_privilege_finding(
    production: Production, contract_dir: Path
) -> None:
    """The catalog says the login may SELECT the view, but the view's owner lost SELECT on the
    table it reads: every read of the site fails with "permission denied for table event"."""
    owner = f"view_owner_{secrets.token_hex(4)}"
    execute(production.server, "postgres", sql.SQL("CREATE ROLE {}").format(sql.Identifier(owner)))
    try:
        execute(
            production.server,
            production.database,
            sql.SQL(
                "GRANT USAGE ON SCHEMA billig TO {0}; GRANT SELECT ON billig.event TO {0};"
                " ALTER VIEW billig.event_lim_web OWNER TO {0};"
                " REVOKE SELECT ON billig.event FROM {0}"
            ).format(sql.Identifier(owner)),
        )
        check = check_drift(production.login, contract=contract_dir)
        done = run_cli("--format", "json", dsn=production.dsn)
    finally:
        execute(
            production.server,
            production.database,
            sql.SQL("REASSIGN OWNED BY {0} TO CURRENT_USER; DROP OWNED BY {0}").format(
                sql.Identifier(owner)
            ),
        )
        execute(
            production.server, "postgres", sql.SQL("DROP ROLE {}").format(sql.Identifier(owner))
        )
    lost = ("privilege_missing", BREAKING, "billig.event_lim_web")
    assert triples(check.report.findings) == sorted(BASELINE | {lost})
    (finding,) = [f for f in check.findings if f.kind is FindingKind.PRIVILEGE_MISSING]
    assert finding.evidence == "reading it fails: permission denied for table event"
    assert check.report.exit_code == 1
    # Only views are read to prove them readable (tables' privileges are in the catalog); one
    # statement more per contracted view, only to name the one that fails.
    assert check.statements[:6] == (
        "session", "relations", "columns", "constraints", "view_sources", "readable"
    )  # fmt: skip
    views = [k for k, r in check.expected.relations.items() if r.kind is Kind.VIEW]
    assert views == [RelationKey("billig", "event_lim_web")]
    assert check.statements.count("readable one") == len(views)
    assert len(check.statements) == 6 + 1 + len(views) + 1  # two savepoint rollbacks
    assert done.code == 1, done.stderr
    report = json.loads(done.stdout)
    assert [f["object"] for f in report["findings"] if f["kind"] == "privilege_missing"] == [
        "billig.event_lim_web"
    ]


# --------------------------------------------------------------------------- inside a type

# Production with an enum, a domain and a CHECK constraint on relations the site reads.
TYPED_PRODUCTION = """
CREATE TYPE billig.ticket_state AS ENUM ('reserved', 'paid', 'refunded');
ALTER TABLE billig.ticket ADD COLUMN state billig.ticket_state;
CREATE DOMAIN billig.quantity AS integer;
ALTER TABLE billig.ticket_group ADD COLUMN quota billig.quantity;
ALTER TABLE billig.ticket_group ADD CONSTRAINT sold_within CHECK (num_sold <= num);
CREATE DOMAIN billig.capacity AS integer CONSTRAINT sane CHECK (VALUE >= 0);
ALTER TABLE billig.ticket_group ADD COLUMN capacity billig.capacity;
"""
# A label replaced under the same type name: the type made anew, the column moved over.
REPLACE_LABEL = """
ALTER TYPE billig.ticket_state RENAME TO ticket_state_old;
CREATE TYPE billig.ticket_state AS ENUM ('reserved', 'paid', 'returned');
ALTER TABLE billig.ticket ALTER COLUMN state TYPE billig.ticket_state
    USING replace(state::text, 'refunded', 'returned')::billig.ticket_state;
DROP TYPE billig.ticket_state_old;
"""
CHANGE_DOMAIN_BASE = """
ALTER TABLE billig.ticket_group ALTER COLUMN quota TYPE integer;
DROP DOMAIN billig.quantity;
CREATE DOMAIN billig.quantity AS text;
ALTER TABLE billig.ticket_group ALTER COLUMN quota TYPE billig.quantity USING quota::text;
"""
CHANGE_DOMAIN_CHECK = """
ALTER DOMAIN billig.capacity DROP CONSTRAINT sane;
ALTER DOMAIN billig.capacity ADD CONSTRAINT sane CHECK (VALUE > 0);
"""
CHANGE_CHECK = """
ALTER TABLE billig.ticket_group DROP CONSTRAINT sold_within;
ALTER TABLE billig.ticket_group ADD CONSTRAINT sold_within CHECK (num_sold <= num + 10);
"""


def _typed_contract(production: Production, folder: Path) -> Path:
    """A contract of production's ticket and ticket_group, read by the site's models."""
    from mirror.catalog.model import ColumnRef, Usage
    from mirror.sources.contract_file import with_lineage, write_contract
    from mirror.sources.introspect import introspect

    production.execute(TYPED_PRODUCTION)
    keys = [("billig", "ticket"), ("billig", "ticket_group")]
    catalog = introspect(production.login, relations=keys, namesakes=False).catalog
    lineage = {
        ColumnRef("billig", rel.key.name, col.name): Usage(
            models=(f"{rel.key.name.title().replace('_', '')}.{col.name}",)
        )
        for rel in catalog
        for col in rel.columns
    }
    path = folder / "columns.json"
    write_contract(path, with_lineage(catalog, lineage))
    return path


@pytest.mark.parametrize(
    ("statements", "finding", "words"),
    [
        (
            REPLACE_LABEL,
            ("enum_labels_changed", BREAKING, "billig.ticket.state"),
            ("removed 'refunded'", "added 'returned'", "Ticket.state"),
        ),
        (
            CHANGE_DOMAIN_BASE,
            ("type_changed", BREAKING, "billig.ticket_group.quota"),
            ("domain billig.quantity now over text, was integer", "TicketGroup.quota"),
        ),
        (
            CHANGE_CHECK,
            ("check_changed", BREAKING, "billig.ticket_group"),
            ("CHECK ((num_sold <= (num + 10)))", "TicketGroup.num_sold"),
        ),
        (
            CHANGE_DOMAIN_CHECK,
            ("check_changed", BREAKING, "billig.ticket_group"),
            ("billig.capacity: CHECK ((VALUE > 0))", "TicketGroup.capacity"),
        ),
    ],
    ids=[
        "enum label replaced",
        "domain base type changed",
        "check constraint changed",
        "domain check constraint changed",
    ],
)
def test_a_change_inside_a_type_or_a_check_is_drift_naming_it_and_its_readers(
    production: Production,
    tmp_path: Path,
    statements: str,
    finding: tuple[str, str, str],
    words: tuple[str, ...],
) -> None:
    contract = _typed_contract(production, tmp_path)
    assert check_drift(production.login, contract=contract).report.findings == ()
    production.execute(statements)
    report = check_drift(production.login, contract=contract).report
    assert triples(report.findings) == [finding]
    assert report.exit_code == 1
    done = run_cli("--contract", str(contract), dsn=production.dsn)
    assert done.code == 1, done.stderr
    for word in words:
        assert word in done.stdout, (word, done.stdout)


def test_an_added_enum_label_is_a_warning(production: Production, tmp_path: Path) -> None:
    contract = _typed_contract(production, tmp_path)
    production.execute("ALTER TYPE billig.ticket_state ADD VALUE 'cancelled'")
    report = check_drift(production.login, contract=contract).report
    assert triples(report.findings) == [("enum_labels_changed", WARNING, "billig.ticket.state")]
    assert report.exit_code == 0
    [finding] = report.findings
    assert "added 'cancelled'" in finding.message and finding.impact == ("Ticket.state",)
