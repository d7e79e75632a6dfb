"""Pure parts of introspection, no database: type spellings, Catalog equality, scope
parameters, assembling catalog rows into a Catalog, and DSN handling."""

from __future__ import annotations

import pytest

from mirror.catalog.model import (
    Catalog,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
)
from mirror.errors import UsageError
from mirror.sources.introspect import STATEMENTS, Scope, assemble
from mirror.sources.read_session import connect_params, statement_sql

# (spelling, canonical) – canonical is what PostgreSQL's format_type prints for such a column.
TYPE_SPELLINGS = [
    ("int", "integer"),
    ("int4", "integer"),
    ("INTEGER", "integer"),
    ("serial", "integer"),
    ("int8", "bigint"),
    ("bigserial", "bigint"),
    ("int2", "smallint"),
    ("bool", "boolean"),
    ("varchar(140)", "character varying(140)"),
    ("character varying(140)", "character varying(140)"),
    ("VARCHAR( 140 )", "character varying(140)"),
    ("varchar", "character varying"),
    ("char", "character(1)"),
    ("char(3)", "character(3)"),
    ("nchar(2)", "character(2)"),
    ("bpchar", "bpchar"),
    ("bpchar(4)", "character(4)"),
    ("float", "double precision"),
    ("float(10)", "real"),
    ("float(24)", "real"),
    ("float(25)", "double precision"),
    ("float4", "real"),
    ("float8", "double precision"),
    ("decimal", "numeric"),
    ("decimal(10,2)", "numeric(10,2)"),
    ("numeric(10, 2)", "numeric(10,2)"),
    ("numeric(5)", "numeric(5,0)"),
    ("timestamp", "timestamp without time zone"),
    ("timestamp without time zone", "timestamp without time zone"),
    ("timestamp(3)", "timestamp(3) without time zone"),
    ("timestamp(3) without time zone", "timestamp(3) without time zone"),
    ("timestamptz", "timestamp with time zone"),
    ("timestamptz(0)", "timestamp(0) with time zone"),
    ("TIMESTAMP  WITH  TIME ZONE", "timestamp with time zone"),
    ("time", "time without time zone"),
    ("time(2)", "time(2) without time zone"),
    ("timetz", "time with time zone"),
    ("interval", "interval"),
    ("interval year to month", "interval year to month"),
    ("bit", "bit(1)"),
    ("bit(4)", "bit(4)"),
    ("varbit(5)", "bit varying(5)"),
    ("int[]", "integer[]"),
    ("int[][]", "integer[]"),
    ("int[3]", "integer[]"),
    ("integer array", "integer[]"),
    ("integer ARRAY[4]", "integer[]"),
    ("_int4", "integer[]"),
    ("varchar(10)[]", "character varying(10)[]"),
    ("timestamptz[]", "timestamp with time zone[]"),
    ("jsonb", "jsonb"),
    ("uuid", "uuid"),
    ('"char"', '"char"'),
    ("billig.mood", "billig.mood"),
    ('"Kassé".mood', '"Kassé".mood'),
    ("tsvector", "tsvector"),
]


@pytest.mark.parametrize(("spelling", "canonical"), TYPE_SPELLINGS)
def test_equivalent_type_spellings_normalize_to_the_format_type_spelling(spelling, canonical):
    assert normalize_type(spelling) == canonical


@pytest.mark.parametrize("canonical", sorted({c for _, c in TYPE_SPELLINGS}))
def test_normalizing_a_canonical_type_keeps_it(canonical):
    assert normalize_type(canonical) == canonical


def _rel(name="event", kind=Kind.TABLE, **kw):
    cols = kw.pop("columns", (Column("event", "integer", False), Column("name", "text", True)))
    return Relation(RelationKey("billig", name), kind, cols, **kw)


FK_A = ForeignKey(("a",), RelationKey("billig", "x"), ("id",))
FK_B = ForeignKey(("b",), RelationKey("billig", "y"), ("id",))

# (left, right, equal?)
CATALOG_PAIRS = [
    pytest.param(
        Catalog.of([_rel("a"), _rel("b")]), Catalog.of([_rel("b"), _rel("a")]), True, id="order"
    ),
    pytest.param(
        Catalog.of([_rel(foreign_keys=(FK_A, FK_B))]),
        Catalog.of([_rel(foreign_keys=(FK_B, FK_A))]),
        True,
        id="fk-order",
    ),
    pytest.param(
        Catalog.of([_rel(unique=(("a",), ("b", "c")))]),
        Catalog.of([_rel(unique=(("b", "c"), ("a",)))]),
        True,
        id="unique-order",
    ),
    pytest.param(
        Catalog.of([_rel()], schemas=["billig"]), Catalog.of([_rel()]), True, id="implied-schema"
    ),
    pytest.param(
        Catalog.of([_rel()], schemas=["public"]), Catalog.of([_rel()]), False, id="extra-schema"
    ),
    pytest.param(
        Catalog.of([_rel(columns=(Column("a", "integer", True), Column("b", "text", True)))]),
        Catalog.of([_rel(columns=(Column("b", "text", True), Column("a", "integer", True)))]),
        False,
        id="column-order",
    ),
    pytest.param(
        Catalog.of([_rel(kind=Kind.VIEW)]), Catalog.of([_rel(kind=Kind.TABLE)]), False, id="kind"
    ),
    pytest.param(
        Catalog.of([_rel(columns=(Column("a", "integer", None),))]),
        Catalog.of([_rel(columns=(Column("a", "integer", True),))]),
        False,
        id="unknown-vs-nullable",
    ),
    pytest.param(
        Catalog.of([_rel(columns=(Column("a", "integer", True, selectable=False),))]),
        Catalog.of([_rel(columns=(Column("a", "integer", True, selectable=True),))]),
        False,
        id="privilege",
    ),
    pytest.param(
        Catalog.of([_rel(primary_key=("a", "b"))]),
        Catalog.of([_rel(primary_key=("b", "a"))]),
        False,
        id="pk-column-order",
    ),
    pytest.param(
        Catalog.of([Relation(RelationKey("public", "billig.event"), Kind.TABLE, ())]),
        Catalog.of([Relation(RelationKey("billig", "event"), Kind.TABLE, ())]),
        False,
        id="dotted-name-is-not-schema",
    ),
]


@pytest.mark.parametrize(("left", "right", "equal"), CATALOG_PAIRS)
def test_catalog_equality_ignores_only_meaningless_order(left, right, equal):
    assert (left == right) is equal


def test_scope_passes_pairs_and_schemas_as_separate_arrays():
    scope = Scope.of([("billig", "event"), RelationKey("Kassé", "a.b")], ["extra"])
    assert scope.params() == {
        "rel_schemas": ["billig", "Kassé"],
        "rel_names": ["event", "a.b"],
        "whole_schemas": ["extra"],
        "schemas": ["extra", "billig", "Kassé"],
        "everything": False,
        "namesakes": True,
    }


def test_scope_is_everything_only_when_nothing_is_asked():
    assert Scope.of().everything
    assert not Scope.of(relations=[]).everything
    assert not Scope.of(schemas=[]).everything


@pytest.mark.parametrize("bad", ["billig.event", ("billig", "event", "x")])
def test_scope_refuses_dotted_strings_and_triples(bad):
    with pytest.raises(UsageError, match="pairs"):
        Scope.of([bad])


def test_every_statement_has_its_sql_file():
    for name in STATEMENTS:
        assert statement_sql(name).strip()


def _scope_row(*rels):
    """relations.sql's one row for (oid, schema, name, relkind, usage) tuples."""
    return (
        sorted({r[1] for r in rels}),
        [r[0] for r in rels],
        [r[1] for r in rels],
        [r[2] for r in rels],
        [r[3] for r in rels],
        [r[4] for r in rels],
    )


def test_assemble_orders_columns_by_number_and_names_constraint_columns():
    scope = _scope_row((10, "billig", "event", "r", True), (11, "billig", "ticket", "r", True))
    columns = [
        (11, 3, "event", "integer", True, None, True),
        (10, 2, "name", "character varying(140)", True, None, True),
        (11, 1, "ticket", "integer", True, None, True),
        (10, 1, "event", "integer", True, None, True),
        (11, 2, "note", "text", False, "'x'::text", True),
    ]
    constraints = [
        (10, "p", [1], 0, None, None, None, None),
        (11, "p", [1], 0, None, None, None, None),
        (11, "u", [3, 1], 0, None, None, None, None),
        (11, "f", [3], 10, "billig", "event", [1], None),
    ]
    catalog = assemble(scope, columns, constraints)
    ticket = catalog.get(("billig", "ticket"))
    assert ticket is not None
    assert ticket.column_names == ("ticket", "note", "event")
    assert ticket.column("note") == Column("note", "text", True, "'x'::text", True)
    assert ticket.primary_key == ("ticket",)
    assert ticket.unique == (("event", "ticket"),)
    assert ticket.foreign_keys == (
        ForeignKey(("event",), RelationKey("billig", "event"), ("event",)),
    )
    assert catalog.schemas == frozenset({"billig"})


def test_assemble_takes_target_column_names_of_out_of_scope_targets_from_the_row():
    scope = _scope_row((11, "billig", "ticket", "r", True))
    columns = [(11, 1, "purchase", "integer", True, None, True)]
    constraints = [(11, "f", [1], 99, "billig", "purchase", [1], ["purchase"])]
    (ticket,) = assemble(scope, columns, constraints)
    assert ticket.foreign_keys[0].target_columns == ("purchase",)


@pytest.mark.parametrize(
    ("relkind", "kind", "nullable"),
    [
        ("r", Kind.TABLE, False),
        ("p", Kind.PARTITIONED_TABLE, False),
        ("f", Kind.FOREIGN_TABLE, False),
        ("v", Kind.VIEW, None),
        ("m", Kind.MATERIALIZED_VIEW, None),
    ],
)
def test_assemble_gives_view_columns_unknown_nullability(relkind, kind, nullable):
    scope = _scope_row((1, "billig", "x", relkind, True))
    (rel,) = assemble(scope, [(1, 1, "a", "integer", True, None, True)], [])
    assert rel.kind is kind
    assert rel.columns[0].nullable is nullable


@pytest.mark.parametrize(
    ("usage", "column_privilege", "selectable"),
    [(True, True, True), (True, False, False), (False, True, False), (True, None, False)],
)
def test_assemble_needs_schema_usage_and_column_privilege_to_call_a_column_selectable(
    usage, column_privilege, selectable
):
    scope = _scope_row((1, "billig", "x", "r", usage))
    (rel,) = assemble(scope, [(1, 1, "a", "integer", True, None, column_privilege)], [])
    assert rel.columns[0].selectable is selectable


def test_assemble_keeps_relations_without_columns_and_empty_scopes():
    scope = _scope_row((1, "public", "empty", "r", True))
    (rel,) = assemble(scope, [], [])
    assert rel.columns == ()
    assert len(assemble((None, None, None, None, None, None), [], [])) == 0


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql+psycopg2://ro:s3cret@db.example:5433/billig?sslmode=require",
        "postgresql://ro:s3cret@db.example:5433/billig?sslmode=require",
        "host=db.example port=5433 user=ro password=s3cret dbname=billig sslmode=require",
    ],
)
def test_connect_params_read_dsns_in_every_spelling_and_force_read_only(dsn):
    params = connect_params(dsn, 2.5)
    assert params["host"] == "db.example"
    assert params["port"] == "5433"
    assert params["user"] == "ro"
    assert params["password"] == "s3cret"
    assert params["dbname"] == "billig"
    assert params["sslmode"] == "require"
    assert params["connect_timeout"] == 3
    assert "-c default_transaction_read_only=on" in params["options"]


def test_connect_params_keep_the_callers_options():
    params = connect_params("postgresql://h/db?options=-c%20work_mem%3D8MB", 5)
    assert params["options"] == "-c work_mem=8MB -c default_transaction_read_only=on"


def test_malformed_dsn_is_a_usage_error_without_the_password():
    with pytest.raises(UsageError) as info:
        connect_params("host=h password=hunter2 dbname", 5)
    assert "hunter2" not in str(info.value)
