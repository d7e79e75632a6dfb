"""Fixing help: ``--suggest`` and ``--write-schema``.

The pure parts (types, model lines, the rewrite of the schema file) are tested on values; the
proof that counts is on a real server: after many mutations of production, the rewritten
``schema/billig.sql`` loads and re-introspects equal to production for the contracted relations.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from examples.fastapi_site.source import SITE
from mirror.catalog.compare import compare_catalogs
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import (
    Catalog,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
)
from mirror.drift.check import check_drift
from mirror.drift.suggest import (
    ViewDefinition,
    model_changes,
    read_view_definitions,
    relation_ddl,
    updated_schema,
    views_to_read,
    write_schema,
)
from mirror.errors import UsageError
from mirror.provision.providers import Server
from mirror.provision.schema import load_schema
from mirror.sources.contract_file import load_contract
from mirror.sources.introspect import introspect
from mirror.sources.sqlalchemy_models import mapped_column_line, sqlalchemy_type

from .production import QUOTE_WHOLE_SCHEMA, ROOT, Production, run_cli

SCHEMA_SQL = ROOT / "schema" / "billig.sql"

# --------------------------------------------------------------------------- models (pure)


@pytest.mark.parametrize(
    "pg_type",
    [
        "integer", "bigint", "smallint", "boolean", "text", "character varying(140)",
        "character varying", "character(3)", "timestamp without time zone",
        "timestamp with time zone", "date", "time without time zone", "time with time zone",
        "numeric(10,2)", "numeric", "double precision", "real", "json", "jsonb", "uuid",
        "bytea", "interval", "integer[]", "character varying(5)[]",
    ],
)  # fmt: skip
def test_suggested_sqlalchemy_type_compiles_back_to_the_production_type(pg_type: str) -> None:
    known = sqlalchemy_type(pg_type)
    assert known is not None
    namespace = {**vars(sqlalchemy), "JSONB": postgresql.JSONB}
    type_ = eval(known[0], namespace)
    if isinstance(type_, type):
        type_ = type_()
    assert normalize_type(type_.compile(dialect=postgresql.dialect())) == pg_type


def test_unknown_types_are_named_not_guessed() -> None:
    line = mapped_column_line("mood", Column("mood", '"Kassé".mood', True), nullable=True)
    assert line == (
        'mood: Mapped[Any | None] = mapped_column("mood", NullType())'
        '  # no SQLAlchemy type known for "Kassé".mood'
    )


def test_mapped_column_line_follows_nullability_keys_and_defaults() -> None:
    assert (
        mapped_column_line("id", Column("card", "bigint", False), nullable=False, primary_key=True)
        == 'id: Mapped[int] = mapped_column("card", BigInteger, primary_key=True, '
        "autoincrement=False)"
    )
    column = Column("is_theater", "boolean", False, "true")
    assert (
        mapped_column_line("flag", column, nullable=False, server_default=True)
        == 'flag: Mapped[bool] = mapped_column("is_theater", Boolean, server_default=text("true"))'
    )


def test_billig_models_know_their_attributes() -> None:
    models = {m.name: m for m in SITE.models()}
    assert models["BilligPriceGroup"].relation == RelationKey("billig", "price_group")
    assert models["BilligPriceGroup"].columns["price_group_name"] == ("name", False)
    assert models["BilligEvent"].relation == RelationKey("billig", "event_lim_web")


# --------------------------------------------------------------------------- schema file (pure)


@pytest.fixture(scope="module")
def contract() -> Catalog:
    return load_contract(ROOT / "contracts" / "columns.json")


def test_without_findings_the_schema_file_stays_as_it_is(contract: Catalog) -> None:
    source = SCHEMA_SQL.read_text()
    views = {
        RelationKey("billig", "event_lim_web"): ViewDefinition(
            RelationKey("billig", "event_lim_web"),
            " SELECT event.event FROM billig.event;",
            (RelationKey("billig", "event"),),
        )
    }
    assert updated_schema(source, contract, contract, [], views).text == source


def _tables(*rels: Relation) -> Catalog:
    return Catalog.of(rels)


A = RelationKey("s", "a")
B = RelationKey("s", "b")
ID = Column("id", "integer", False)


def _finding(kind: FindingKind, key: RelationKey, column: str | None = None) -> Finding:
    return Finding(kind, Severity.INFO, key.schema, key.name, column, None, None, "changed")


def test_a_new_dependency_on_a_later_relation_is_put_first() -> None:
    source = (
        "-- header\n\nCREATE SCHEMA s;\n\n-- about a\nCREATE TABLE s.a (id integer NOT NULL);\n\n"
        "CREATE TABLE s.b (id integer NOT NULL);\n"
    )
    expected = _tables(Relation(A, Kind.TABLE, (ID,)), Relation(B, Kind.TABLE, (ID,)))
    ref = Column("b", "integer", True)
    actual = _tables(
        Relation(A, Kind.TABLE, (ID, ref), foreign_keys=(ForeignKey(("b",), B, ("id",)),)),
        Relation(B, Kind.TABLE, (ID,), primary_key=("id",)),
    )
    findings = [
        _finding(FindingKind.COLUMN_ADDED, A, "b"),
        _finding(FindingKind.PRIMARY_KEY_CHANGED, B),
    ]
    text = updated_schema(source, expected, actual, findings).text
    assert text.startswith("-- header\n\nCREATE SCHEMA s;\n\n")
    assert text.index("CREATE TABLE s.b") < text.index("-- about a\nCREATE TABLE s.a")
    assert "    FOREIGN KEY (b) REFERENCES s.b (id)\n" in text  # named by PostgreSQL as production


def test_a_relation_gone_from_production_is_removed_with_a_note() -> None:
    source = "CREATE SCHEMA s;\nCREATE TABLE s.a (id integer);\nCREATE TABLE s.b (x int);\n"
    expected = _tables(Relation(A, Kind.TABLE, (ID,)), Relation(B, Kind.TABLE, (ID,)))
    actual = _tables(Relation(A, Kind.TABLE, (ID,)))
    update = updated_schema(source, expected, actual, [])
    assert "s.b" not in update.text
    assert update.relations == {A: A, B: None}
    assert "s.b is gone in production: its statement was removed" in update.notes


def test_nothing_of_the_contract_in_production_refuses_to_rewrite() -> None:
    expected = _tables(Relation(A, Kind.TABLE, (ID,)))
    with pytest.raises(UsageError, match="none of the contracted relations"):
        updated_schema("CREATE TABLE s.a (id int);", expected, Catalog(), [])


def test_foreign_keys_and_views_beyond_the_file_are_left_out_or_stood_in() -> None:
    outside = RelationKey("s", "outside")
    table = Relation(A, Kind.TABLE, (ID,), foreign_keys=(ForeignKey(("id",), outside, ("id",)),))
    text, notes = relation_ddl(table, defined={A})
    assert "FOREIGN KEY" not in text.split("CREATE TABLE")[1]
    assert text.startswith("-- production also has FOREIGN KEY (id) REFERENCES s.outside (id)")
    view = Relation(B, Kind.VIEW, (Column("id", "integer", None), Column("n", "text", None)))
    text, notes = relation_ddl(
        view, defined={A, B}, view=ViewDefinition(B, " SELECT 1;", (outside,))
    )
    assert "SELECT NULL::integer AS id,\n           NULL::text AS n\n     WHERE false;" in text
    assert notes == ("s.b is written as a stand-in view: it reads s.outside, which this file does "
                     "not define",)  # fmt: skip


def test_serial_columns_bring_their_sequence() -> None:
    seq = Column("no", "integer", False, "nextval('s.a_no_seq'::regclass)")
    text, _ = relation_ddl(Relation(A, Kind.TABLE, (seq,)), defined={A})
    assert text.startswith("CREATE SEQUENCE IF NOT EXISTS s.a_no_seq;\nCREATE TABLE s.a (")


# --------------------------------------------------------------------------- real production

MUTATIONS = """
ALTER TABLE billig.purchase RENAME TO purchases;
ALTER TABLE billig.purchases ADD COLUMN purchase_no serial;
ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO name;
ALTER TABLE billig.price_group ALTER COLUMN price DROP NOT NULL;
ALTER TABLE billig.ticket_group ALTER COLUMN ticket_group_name TYPE varchar(255);
ALTER TABLE billig.ticket_group ADD COLUMN theater integer REFERENCES billig.theater;
ALTER TABLE billig.ticket_group ALTER COLUMN is_theater_ticket_group SET DEFAULT true;
ALTER TABLE billig.ticket_card RENAME TO ticket_card_data;
CREATE VIEW billig.ticket_card AS SELECT * FROM billig.ticket_card_data;
CREATE OR REPLACE VIEW billig.event_lim_web AS
    SELECT event, event_name, event_location, event_note, event_time, event_type,
           external_id, organisation, a4_ticket_layout, receipt_ticket_layout,
           tp_ticket_layout, ticket_fee, sale_from, sale_to, hidden, event_name AS title
      FROM billig.event WHERE NOT hidden;
ALTER TABLE billig.payment_error_price_group SET SCHEMA public;
ALTER TABLE public.payment_error_price_group RENAME TO "billig.payment_error_price_group";
ALTER TABLE public."billig.payment_error_price_group" ADD COLUMN note text;
"""
PEPG = RelationKey("billig", "payment_error_price_group")
PEPG_LOOK_ALIKE = RelationKey("public", "billig.payment_error_price_group")


def _superuser(production: Production) -> URL:
    return production.admin


def test_written_schema_loads_and_reintrospects_equal_to_production(
    production: Production, billig_server: Server, fresh_database: URL, tmp_path: Path
) -> None:
    production.execute(MUTATIONS)
    check = check_drift(production.login, contract=ROOT / "contracts")
    views = read_view_definitions(
        production.login, views_to_read(check.expected, check.actual, check.findings)
    )
    source = SCHEMA_SQL.read_text()
    update = updated_schema(source, check.expected, check.actual, check.findings, views)
    target = tmp_path / "billig.sql"
    target.write_text(source)
    diff = write_schema(target, update)
    assert "+CREATE TABLE billig.purchases (" in diff
    assert target.read_text() == update.text
    assert target.read_text().startswith(source.split("CREATE SCHEMA")[0])  # header kept

    written = sorted(k for k in update.relations.values() if k is not None)
    # The misquoted look-alike is written under the contracted name, with its columns.
    assert PEPG in written and PEPG_LOOK_ALIKE not in written
    assert '"billig.payment_error_price_group"' not in target.read_text()
    assert "CREATE TABLE billig.payment_error_price_group (" in target.read_text()
    assert "+    note text" in diff
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        load_schema(conn, target)
    # Both read as a superuser, so privileges are equal and only the DDL is compared.
    live = introspect(
        _superuser(production),
        relations=[PEPG_LOOK_ALIKE if k == PEPG else k for k in written],
        namesakes=False,
    ).catalog
    live = Catalog.of(
        dataclasses.replace(r, key=PEPG) if r.key == PEPG_LOOK_ALIKE else r for r in live
    )
    mirror = introspect(fresh_database, relations=written, namesakes=False).catalog
    assert len(mirror) == len(written) == 9
    differences = compare_catalogs(live, mirror)
    # The one thing not carried over: a foreign key to a relation the file does not define.
    assert [(f.kind, f.object, f.change) for f in differences] == [
        (FindingKind.FOREIGN_KEY_CHANGED, "billig.ticket_group", "removed")
    ]
    assert any("billig.theater" in note for note in update.notes)
    # Rewriting the rewritten file changes nothing.
    again = updated_schema(target.read_text(), check.expected, check.actual, check.findings, views)
    assert again.text == update.text


def test_suggested_model_changes_follow_production(production: Production) -> None:
    production.execute(MUTATIONS)
    check = check_drift(production.login, contract=ROOT / "contracts")
    changes = {
        (c.model, c.line) for c in model_changes(check.expected, check.actual, check.findings, SITE)
    }
    assert ("BilligPurchase", '__tablename__ = "purchases"') in changes
    assert ("BilligPriceGroup", 'name: Mapped[str] = mapped_column("name", String(140))') in changes
    assert (
        "BilligPriceGroup",
        'price: Mapped[int | None] = mapped_column("price", Integer)',
    ) in changes
    assert (
        "BilligTicketGroup",
        'name: Mapped[str] = mapped_column("ticket_group_name", String(255))',
    ) in changes
    assert (
        "BilligPaymentErrorPriceGroup",
        '__table_args__ = {"schema": "public"}',
    ) in changes


def test_a_misquoted_look_alike_keeps_the_contracted_name_in_the_file(contract: Catalog) -> None:
    source = SCHEMA_SQL.read_text()
    look_alike = dataclasses.replace(contract.relations[PEPG], key=PEPG_LOOK_ALIKE)
    actual = Catalog.of([*(r for r in contract if r.key != PEPG), look_alike])
    findings = compare_catalogs(contract, actual)
    assert [f.kind for f in findings] == [FindingKind.QUOTING_CONFUSION]
    update = updated_schema(source, contract, actual, findings)
    assert update.text == source
    assert update.relations[PEPG] == PEPG
    assert update.notes == (
        'billig.payment_error_price_group: production has only the look-alike public."billig.'
        'payment_error_price_group" (a dotted name quoted as one identifier); the file keeps '
        "the name billig.payment_error_price_group",
    )
    # The reader side follows production: the model's table name and schema.
    changes = model_changes(contract, actual, findings, SITE)
    assert [c.line for c in changes if c.model == "BilligPaymentErrorPriceGroup"] == [
        '__tablename__ = "billig.payment_error_price_group"',
        '__table_args__ = {"schema": "public"}',
    ]


def test_cli_suggest_for_a_schema_quoted_as_dotted_identifiers_never_copies_the_names(
    production: Production, tmp_path: Path
) -> None:
    production.execute(QUOTE_WHOLE_SCHEMA)
    schema = tmp_path / "billig.sql"
    shutil.copy(SCHEMA_SQL, schema)
    done = run_cli("--suggest", "--schema-file", str(schema), dsn=production.dsn)
    assert done.code == 1, done.stderr
    suggested = done.stdout[done.stdout.index(f"{schema}: suggested edit") :]
    edit = suggested.split("model fields")[0].splitlines()
    assert not [line for line in edit if line.startswith("+") and '"billig.' in line]
    # Only the columns production has beyond the contract change the file.
    assert "+    created timestamp without time zone," in edit
    assert '__tablename__ = "billig.event_lim_web"' in done.stdout
    assert schema.read_text() == SCHEMA_SQL.read_text()


def test_cli_suggest_prints_the_edits_and_writes_nothing(
    production: Production, tmp_path: Path
) -> None:
    production.execute("ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO name")
    schema = tmp_path / "billig.sql"
    shutil.copy(SCHEMA_SQL, schema)
    done = run_cli("--suggest", "--schema-file", str(schema), dsn=production.dsn)
    assert done.code == 1
    assert "suggested edit (apply with --write-schema)" in done.stdout
    assert "-    price_group_name character varying(140) NOT NULL," in done.stdout
    assert "+    name character varying(140) NOT NULL," in done.stdout
    assert 'name: Mapped[str] = mapped_column("name", String(140))' in done.stdout
    assert schema.read_text() == SCHEMA_SQL.read_text()
    assert production.password not in done.stdout + done.stderr


def test_cli_write_schema_rewrites_the_file_and_prints_the_diff(
    production: Production, tmp_path: Path
) -> None:
    schema = tmp_path / "billig.sql"
    shutil.copy(SCHEMA_SQL, schema)
    done = run_cli("--write-schema", "--schema-file", str(schema), dsn=production.dsn)
    assert done.code == 0  # only information: production has two more columns
    assert f"{schema}: rewritten" in done.stdout
    assert "+    created timestamp without time zone," in done.stdout
    text = schema.read_text()
    assert "    seat_note text,\n" in text
    assert not list(tmp_path.glob(".billig.sql.*"))  # no temporary file left behind
    again = run_cli("--write-schema", "--schema-file", str(schema), dsn=production.dsn)
    assert "already production's state" in again.stdout
    assert schema.read_text() == text


# The view the site reads now reads a table the contract does not name, and the login lost SELECT
# on it: the check neither reads nor locks that table, so a lock on it meets only --suggest's
# view reading (deparsing a view locks the relations it reads).
VIEW_ON_AN_UNCONTRACTED_TABLE = """
CREATE TABLE billig.event_archive AS SELECT * FROM billig.event;
CREATE OR REPLACE VIEW billig.event_lim_web AS
    SELECT event, event_name, event_location, event_note, event_time, event_type,
           external_id, organisation, a4_ticket_layout, receipt_ticket_layout,
           tp_ticket_layout, ticket_fee, sale_from, sale_to, hidden
      FROM billig.event_archive;
REVOKE SELECT ON billig.event_lim_web FROM {role};
"""


@pytest.mark.parametrize(
    ("bounds", "says"),
    [
        (["--lock-timeout", "300"], "waited longer than lock_timeout (300 ms) for a lock"),
        (
            ["--lock-timeout", "600000", "--statement-timeout", "500"],
            "a statement was cancelled (statement_timeout is 500 ms)",
        ),
    ],
    ids=["lock timeout", "statement timeout"],
)
def test_suggest_reads_views_within_the_users_bounds_when_a_base_table_is_locked(
    production: Production, tmp_path: Path, bounds: list[str], says: str
) -> None:
    production.execute(VIEW_ON_AN_UNCONTRACTED_TABLE)
    schema = tmp_path / "billig.sql"
    shutil.copy(SCHEMA_SQL, schema)
    assert run_cli("--suggest", "--schema-file", str(schema), dsn=production.dsn).code == 1
    with contextlib.closing(production.server.connect(production.database)) as locker:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE billig.event_archive IN ACCESS EXCLUSIVE MODE")
        done = run_cli("--suggest", "--schema-file", str(schema), *bounds, dsn=production.dsn)
        locker.rollback()
    assert done.code == 3, done
    (line,) = done.stderr.splitlines()
    # The catalog read itself deparses the contracted view, under the same bounds.
    assert line.startswith("billig: error: reading the catalog of "), line
    assert says in line
    assert done.stdout == ""  # no report of a half-done run
    assert schema.read_text() == SCHEMA_SQL.read_text()
