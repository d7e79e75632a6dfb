"""The comparator: every finding kind and severity rule, on hand-built catalogs (no database)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.catalog.compare import compare_catalogs, confusable_keys
from mirror.catalog.findings import Finding, FindingKind, Severity, sort_findings
from mirror.catalog.model import (
    Catalog,
    CheckConstraint,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Origin,
    Relation,
    RelationKey,
    Usage,
)

K = FindingKind
BREAKING, WARNING, INFO = Severity.BREAKING, Severity.WARNING, Severity.INFO

EVENT = RelationKey("billig", "event")
WEB = RelationKey("billig", "event_lim_web")
GROUP = RelationKey("billig", "ticket_group")
PGEPG = RelationKey("billig", "payment_error_price_group")

EVENT_COLUMNS = (
    Column("event", "integer", False),
    Column("event_name", "character varying(140)", False),
    Column("event_location", "character varying(255)", True),
    Column("event_note", "text", True),
    Column("event_time", "timestamp without time zone", True),
    Column("sale_from", "timestamp without time zone", False),
    Column("sale_to", "timestamp without time zone", False),
    Column("hidden", "boolean", False),
)


def _relations() -> list[Relation]:
    return [
        Relation(EVENT, Kind.TABLE, EVENT_COLUMNS, primary_key=("event",)),
        Relation(
            WEB, Kind.VIEW, tuple(dataclasses.replace(c, nullable=None) for c in EVENT_COLUMNS)
        ),
        Relation(
            GROUP,
            Kind.TABLE,
            (
                Column("ticket_group", "integer", False),
                Column("event", "integer", False),
                Column("ticket_group_name", "character varying(140)", False),
                Column("is_theater_ticket_group", "boolean", False, "false"),
                Column("ticket_limit", "integer", True),
                Column("num_sold", "integer", False),
                Column("num", "integer", False),
            ),
            primary_key=("ticket_group",),
            foreign_keys=(ForeignKey(("event",), EVENT, ("event",)),),
        ),
        Relation(
            PGEPG,
            Kind.TABLE,
            (
                Column("error", "character varying(64)", False),
                Column("price_group", "integer", False),
                Column("number_of_tickets", "integer", False),
            ),
        ),
    ]


def _lineage() -> dict[ColumnRef, Usage]:
    """The site reads events through the view, ticket groups directly; event_note is unread."""
    lineage = {
        ColumnRef("billig", "event_lim_web", c.name): Usage(
            models=(f"BilligEvent.{c.name}",), requires_not_null=not c.nullable
        )
        for c in EVENT_COLUMNS
        if c.name not in ("event_note", "event_location")
    }
    lineage[ColumnRef("billig", "event_lim_web", "event_location")] = Usage(
        models=("BilligEvent.event_location",)
    )
    for c in ("ticket_group", "event", "ticket_group_name", "ticket_limit", "num_sold", "num"):
        lineage[ColumnRef("billig", "ticket_group", c)] = Usage(
            models=(f"TicketGroup.{c}",),
            fields=("TicketGroup.name",) if c == "ticket_group_name" else (),
            endpoints=("GET /billig/events",),
            requires_not_null=c != "ticket_limit",
        )
    for c in ("event", "event_name", "hidden", "sale_to"):
        lineage[ColumnRef("billig", "event", c)] = Usage(
            models=(f"Event.{c}",), requires_not_null=True
        )
    return lineage


# A contract pinned with `billig contracts snapshot`: no lineage, everything counts as read.
SNAPSHOT = Catalog.of(_relations(), schemas=["billig"])
# The project's own contract: lineage decides what we read.
CONTRACT = Catalog.of(_relations(), schemas=["billig"], lineage=_lineage())


# --------------------------------------------------------------------------- mutation helpers

Mutation = Callable[[Catalog], Catalog]


def _map(catalog: Catalog, key: RelationKey, fn: Callable[[Relation], Relation | None]) -> Catalog:
    rels = []
    for rel in catalog:
        if rel.key == key:
            new = fn(rel)
            if new is not None:
                rels.append(new)
        else:
            rels.append(rel)
    return Catalog.of(rels, schemas=catalog.schemas - {""})


def with_relation(key: RelationKey, **changes: object) -> Mutation:
    return lambda c: _map(c, key, lambda r: dataclasses.replace(r, **changes))  # type: ignore[arg-type]


def with_column(key: RelationKey, column: str, /, **changes: object) -> Mutation:
    def fn(rel: Relation) -> Relation:
        cols = tuple(
            dataclasses.replace(c, **changes) if c.name == column else c  # type: ignore[arg-type]
            for c in rel.columns
        )
        return dataclasses.replace(rel, columns=cols)

    return lambda c: _map(c, key, fn)


def without_column(key: RelationKey, name: str) -> Mutation:
    return lambda c: _map(
        c,
        key,
        lambda r: dataclasses.replace(r, columns=tuple(x for x in r.columns if x.name != name)),
    )


def appending_column(key: RelationKey, column: Column) -> Mutation:
    return lambda c: _map(c, key, lambda r: dataclasses.replace(r, columns=(*r.columns, column)))


def without_relation(key: RelationKey) -> Mutation:
    return lambda c: _map(c, key, lambda r: None)


def renaming_relation(key: RelationKey, new: RelationKey) -> Mutation:
    return lambda c: _map(c, key, lambda r: dataclasses.replace(r, key=new))


def adding_relation(rel: Relation) -> Mutation:
    return lambda c: Catalog.of([*c, rel], schemas=c.schemas)


def chain(*mutations: Mutation) -> Mutation:
    def run(catalog: Catalog) -> Catalog:
        for m in mutations:
            catalog = m(catalog)
        return catalog

    return run


def summary(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.kind.value, f.severity.label, f.object) for f in findings]


def drift(expected: Catalog, mutation: Mutation, **kw: bool) -> list[Finding]:
    # The actual side is a live catalog: it never carries lineage.
    actual = mutation(Catalog(expected.relations, expected.schemas))
    return compare_catalogs(expected, actual, **kw)


UNRELATED = Relation(
    RelationKey("billig", "seat"),
    Kind.TABLE,
    (Column("seat", "integer", False), Column("row_label", "text", True)),
    primary_key=("seat",),
)


LABELS = ("sad", "ok", "happy")
SOLD = CheckConstraint(("num", "num_sold"), "CHECK ((num_sold <= num))")
# Ticket groups whose name is an enum and whose count a domain over integer, with a CHECK.
TYPED = chain(
    with_column(GROUP, "ticket_group_name", type="billig.mood", labels=LABELS),
    with_column(GROUP, "num", type="billig.quantity", base_type="integer"),
    with_relation(GROUP, checks=(SOLD,)),
)(SNAPSHOT)


# --------------------------------------------------------------------------- the table

CASES: list[tuple[str, Catalog, Mutation, list[tuple[str, str, str]]]] = [
    # Columns
    (
        "column we read disappears",
        SNAPSHOT,
        without_column(EVENT, "event_note"),
        [("column_missing", "breaking", "billig.event.event_note")],
    ),
    (
        "column nothing reads disappears",
        CONTRACT,
        without_column(EVENT, "event_note"),
        [("column_missing", "warning", "billig.event.event_note")],
    ),
    (
        "new column is information",
        SNAPSHOT,
        appending_column(EVENT, Column("event_url", "text", True)),
        [("column_added", "info", "billig.event.event_url")],
    ),
    (
        "column renamed in place is one probable rename",
        CONTRACT,
        with_column(GROUP, "ticket_group_name", name="name"),
        [("column_renamed", "breaking", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "unread column renamed in place is a warning",
        CONTRACT,
        with_column(EVENT, "event_note", name="note"),
        [("column_renamed", "warning", "billig.event.event_note")],
    ),
    (
        "two adjacent columns renamed in place pair in order",
        SNAPSHOT,
        chain(
            with_column(GROUP, "num_sold", name="sold"),
            with_column(GROUP, "num", name="capacity"),
        ),
        [
            ("column_renamed", "breaking", "billig.ticket_group.num"),
            ("column_renamed", "breaking", "billig.ticket_group.num_sold"),
        ],
    ),
    (
        "dropped column and a new column elsewhere are not a rename",
        SNAPSHOT,
        chain(
            without_column(EVENT, "event_note"),
            appending_column(EVENT, Column("remark", "text", True)),
        ),
        [
            ("column_missing", "breaking", "billig.event.event_note"),
            ("column_added", "info", "billig.event.remark"),
        ],
    ),
    (
        "a new column of another type in the gap is not a rename",
        SNAPSHOT,
        with_column(EVENT, "event_note", name="note", type="integer"),
        [
            ("column_missing", "breaking", "billig.event.event_note"),
            ("column_added", "info", "billig.event.note"),
        ],
    ),
    # Types
    (
        "varchar widened",
        SNAPSHOT,
        with_column(EVENT, "event_name", type="character varying(255)"),
        [("type_changed", "warning", "billig.event.event_name")],
    ),
    (
        "varchar narrowed",
        SNAPSHOT,
        with_column(EVENT, "event_location", type="character varying(140)"),
        [("type_changed", "breaking", "billig.event.event_location")],
    ),
    (
        "narrowing a column nothing reads is at most a warning",
        CONTRACT,
        with_column(EVENT, "event_location", type="character varying(140)"),
        [("type_changed", "warning", "billig.event.event_location")],
    ),
    (
        "integer to text is incompatible",
        CONTRACT,
        with_column(GROUP, "num", type="text"),
        [("type_changed", "breaking", "billig.ticket_group.num")],
    ),
    (
        "boolean to integer is incompatible",
        SNAPSHOT,
        with_column(EVENT, "hidden", type="integer"),
        [("type_changed", "breaking", "billig.event.hidden")],
    ),
    (
        "integer to bigint is a widening",
        SNAPSHOT,
        with_column(GROUP, "num", type="bigint"),
        [("type_changed", "warning", "billig.ticket_group.num")],
    ),
    # Nullability
    (
        "NOT NULL to NULL without lineage is breaking (the contract promised NOT NULL)",
        SNAPSHOT,
        with_column(EVENT, "event_time", nullable=True),  # already nullable: no change
        [],
    ),
    (
        "NOT NULL to NULL without lineage is breaking",
        SNAPSHOT,
        with_column(EVENT, "sale_from", nullable=True),
        [("nullability_changed", "breaking", "billig.event.sale_from")],
    ),
    (
        "NOT NULL to NULL where a serializer declares non-null is breaking",
        CONTRACT,
        with_column(GROUP, "ticket_group_name", nullable=True),
        [("nullability_changed", "breaking", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "NOT NULL to NULL on a column nothing reads is information",
        CONTRACT,
        with_column(EVENT, "sale_from", nullable=True),
        [("nullability_changed", "info", "billig.event.sale_from")],
    ),
    (
        "NULL to NOT NULL is information",
        SNAPSHOT,
        with_column(GROUP, "ticket_limit", nullable=False),
        [("nullability_changed", "info", "billig.ticket_group.ticket_limit")],
    ),
    (
        "view column nullability known on one side is never a finding",
        SNAPSHOT,
        with_column(WEB, "event_name", nullable=True),
        [],
    ),
    # Defaults
    (
        "default changed",
        SNAPSHOT,
        with_column(GROUP, "is_theater_ticket_group", default="true"),
        [("default_changed", "warning", "billig.ticket_group.is_theater_ticket_group")],
    ),
    (
        "default removed",
        SNAPSHOT,
        with_column(GROUP, "is_theater_ticket_group", default=None),
        [("default_changed", "warning", "billig.ticket_group.is_theater_ticket_group")],
    ),
    (
        "default added",
        SNAPSHOT,
        with_column(GROUP, "num_sold", default="0"),
        [("default_changed", "warning", "billig.ticket_group.num_sold")],
    ),
    # Relations
    (
        "relation we read disappears",
        SNAPSHOT,
        without_relation(GROUP),
        [("relation_missing", "breaking", "billig.ticket_group")],
    ),
    (
        "relation nothing reads disappears",
        CONTRACT,
        without_relation(PGEPG),
        [("relation_missing", "warning", "billig.payment_error_price_group")],
    ),
    (
        "new relation in a contracted schema is information",
        SNAPSHOT,
        adding_relation(UNRELATED),
        [("relation_added", "info", "billig.seat")],
    ),
    (
        "new relation in another schema is not reported",
        SNAPSHOT,
        adding_relation(dataclasses.replace(UNRELATED, key=RelationKey("public", "kort"))),
        [],
    ),
    (
        "table becomes a view keeping its columns",
        SNAPSHOT,
        with_relation(
            EVENT,
            kind=Kind.VIEW,
            primary_key=(),
            columns=tuple(dataclasses.replace(c, nullable=None) for c in EVENT_COLUMNS),
        ),
        [("relation_kind_changed", "warning", "billig.event")],
    ),
    (
        "view becomes a table losing a column",
        SNAPSHOT,
        chain(
            with_relation(WEB, kind=Kind.TABLE, columns=EVENT_COLUMNS),
            without_column(WEB, "event_note"),
        ),
        [
            # The lost column is breaking on its own; the change of kind alone is not.
            ("relation_kind_changed", "warning", "billig.event_lim_web"),
            ("column_missing", "breaking", "billig.event_lim_web.event_note"),
        ],
    ),
    (
        "table renamed is one probable rename",
        CONTRACT,
        renaming_relation(GROUP, RelationKey("billig", "ticket_groups")),
        [
            # The foreign key's target is unaffected; the renamed table is reported once.
            ("relation_renamed", "breaking", "billig.ticket_group"),
        ],
    ),
    (
        "table moved to another schema is a probable move",
        SNAPSHOT,
        renaming_relation(PGEPG, RelationKey("archive", "payment_error_price_group")),
        [("relation_renamed", "breaking", "billig.payment_error_price_group")],
    ),
    (
        "a new relation sharing too few columns is not a rename",
        SNAPSHOT,
        chain(
            without_relation(GROUP),
            adding_relation(
                Relation(
                    RelationKey("billig", "groups"),
                    Kind.TABLE,
                    (
                        Column("ticket_group", "integer", False),
                        Column("event", "integer", False),
                        Column("label", "text", False),
                    ),
                )
            ),
        ),
        [
            ("relation_added", "info", "billig.groups"),
            ("relation_missing", "breaking", "billig.ticket_group"),
        ],
    ),
    # Keys
    (
        "primary key on other columns",
        SNAPSHOT,
        with_relation(GROUP, primary_key=("event", "ticket_group_name")),
        [("primary_key_changed", "breaking", "billig.ticket_group")],
    ),
    (
        "primary key dropped",
        SNAPSHOT,
        with_relation(GROUP, primary_key=()),
        [("primary_key_changed", "warning", "billig.ticket_group")],
    ),
    (
        "primary key added where there was none",
        SNAPSHOT,
        with_relation(PGEPG, primary_key=("error", "price_group")),
        [("primary_key_changed", "info", "billig.payment_error_price_group")],
    ),
    (
        "foreign key dropped",
        SNAPSHOT,
        with_relation(GROUP, foreign_keys=()),
        [("foreign_key_changed", "warning", "billig.ticket_group")],
    ),
    (
        "foreign key retargeted",
        SNAPSHOT,
        with_relation(GROUP, foreign_keys=(ForeignKey(("event",), WEB, ("event",)),)),
        [("foreign_key_changed", "breaking", "billig.ticket_group")],
    ),
    (
        "foreign key added",
        SNAPSHOT,
        with_relation(
            PGEPG,
            foreign_keys=(ForeignKey(("price_group",), RelationKey("billig", "pg"), ("pg",)),),
        ),
        [("foreign_key_changed", "info", "billig.payment_error_price_group")],
    ),
    # Privileges
    (
        "SELECT revoked on one column we read",
        CONTRACT,
        with_column(GROUP, "num_sold", selectable=False),
        [("privilege_missing", "breaking", "billig.ticket_group.num_sold")],
    ),
    (
        "SELECT revoked on a column nothing reads",
        CONTRACT,
        with_column(EVENT, "event_note", selectable=False),
        [("privilege_missing", "warning", "billig.event.event_note")],
    ),
    (
        "SELECT not checked (None) is not a finding",
        SNAPSHOT,
        with_column(GROUP, "num_sold", selectable=None),
        [],
    ),
    (
        "SELECT revoked on the whole relation is one finding",
        SNAPSHOT,
        with_relation(
            PGEPG,
            columns=(
                Column("error", "character varying(64)", False, selectable=False),
                Column("price_group", "integer", False, selectable=False),
                Column("number_of_tickets", "integer", False, selectable=False),
            ),
        ),
        [("privilege_missing", "breaking", "billig.payment_error_price_group")],
    ),
    # Inside a type that kept its name: enum labels, a domain's base type; CHECK constraints
    (
        "enum label removed",
        TYPED,
        with_column(GROUP, "ticket_group_name", labels=("sad", "happy")),
        [("enum_labels_changed", "breaking", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "enum label replaced",
        TYPED,
        with_column(GROUP, "ticket_group_name", labels=("sad", "fine", "happy")),
        [("enum_labels_changed", "breaking", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "enum label added",
        TYPED,
        with_column(GROUP, "ticket_group_name", labels=(*LABELS, "ecstatic")),
        [("enum_labels_changed", "warning", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "enum labels reordered",
        TYPED,
        with_column(GROUP, "ticket_group_name", labels=("happy", "ok", "sad")),
        [("enum_labels_changed", "info", "billig.ticket_group.ticket_group_name")],
    ),
    (
        "enum labels unknown on the actual side",
        TYPED,
        with_column(GROUP, "ticket_group_name", labels=None),
        [],
    ),
    (
        "domain base type changed incompatibly",
        TYPED,
        with_column(GROUP, "num", base_type="text"),
        [("type_changed", "breaking", "billig.ticket_group.num")],
    ),
    (
        "domain base type widened",
        TYPED,
        with_column(GROUP, "num", base_type="bigint"),
        [("type_changed", "warning", "billig.ticket_group.num")],
    ),
    (
        "CHECK constraint changed",
        TYPED,
        with_relation(
            GROUP, checks=(CheckConstraint(("num", "num_sold"), "CHECK ((num_sold <= (num + 5)))"),)
        ),
        [("check_changed", "breaking", "billig.ticket_group")],
    ),
    (
        "CHECK constraint removed",
        TYPED,
        with_relation(GROUP, checks=()),
        [("check_changed", "warning", "billig.ticket_group")],
    ),
    (
        "CHECK constraint added",
        TYPED,
        with_relation(GROUP, checks=(SOLD, CheckConstraint(("num",), "CHECK ((num > 0))"))),
        [("check_changed", "info", "billig.ticket_group")],
    ),
    (
        "CHECK constraint renamed or its columns reordered",
        TYPED,
        with_relation(GROUP, checks=(CheckConstraint(("num_sold", "num"), SOLD.definition),)),
        [],
    ),
]


@pytest.mark.parametrize(
    ("expected", "mutation", "findings"),
    [pytest.param(e, m, f, id=name) for name, e, m, f in CASES],
)
def test_mutation_gives_exactly_these_findings(
    expected: Catalog, mutation: Mutation, findings: list[tuple[str, str, str]]
) -> None:
    assert summary(drift(expected, mutation)) == sorted(
        findings, key=lambda t: (t[2], list(K).index(K(t[0])))
    )


@pytest.mark.parametrize("contract", [SNAPSHOT, CONTRACT], ids=["snapshot", "lineage"])
def test_a_catalog_compared_with_itself_has_no_findings(contract: Catalog) -> None:
    assert compare_catalogs(contract, contract) == []
    assert compare_catalogs(contract, Catalog(contract.relations, contract.schemas)) == []


def test_every_finding_kind_is_covered_by_the_table_or_a_test_below() -> None:
    seen = {kind for _, _, _, findings in CASES for kind, _, _ in findings}
    # Covered by the dedicated tests below.
    seen |= {"schema_missing", "quoting_confusion", "origin_changed"}
    # Findings about production's rows come from the data check, not from the comparator.
    assert seen == {k.value for k in FindingKind if not k.value.startswith("data_")}


# --------------------------------------------------------------------------- lineage & impact


def test_impact_names_the_readers_from_lineage() -> None:
    [finding] = drift(CONTRACT, without_column(GROUP, "ticket_group_name"))
    assert finding.impact == (
        "TicketGroup.ticket_group_name",
        "TicketGroup.name",
        "GET /billig/events",
    )


def test_relation_impact_is_the_union_of_its_column_readers() -> None:
    [finding] = drift(CONTRACT, without_relation(WEB))
    assert finding.kind is K.RELATION_MISSING
    assert "BilligEvent.event_name" in finding.impact
    assert "BilligEvent.hidden" in finding.impact
    assert list(finding.impact) == sorted(finding.impact)


def test_read_column_whose_readers_accept_null_loosening_is_a_warning() -> None:
    lineage = dict(_lineage())
    lineage[ColumnRef("billig", "event", "hidden")] = Usage(models=("Event.hidden",))
    contract = Catalog.of(_relations(), schemas=["billig"], lineage=lineage)
    [finding] = drift(contract, with_column(EVENT, "hidden", nullable=True))
    assert (finding.kind, finding.severity, finding.change) == (
        K.NULLABILITY_CHANGED,
        WARNING,
        "loosened",
    )


def test_snapshot_findings_carry_no_impact() -> None:
    [finding] = drift(SNAPSHOT, without_column(GROUP, "num"))
    assert finding.impact == ()


# --------------------------------------------------------------------------- views


def test_table_to_view_never_reports_nullability() -> None:
    """Views report every column nullable: unknown (None) must not look like loosening."""
    to_view = with_relation(
        GROUP,
        kind=Kind.VIEW,
        primary_key=(),
        foreign_keys=(),
        columns=tuple(
            dataclasses.replace(c, nullable=None, default=None)
            for c in SNAPSHOT.relations[GROUP].columns
        ),
    )
    findings = drift(SNAPSHOT, to_view)
    assert {f.kind for f in findings} <= {K.RELATION_KIND_CHANGED, K.DEFAULT_CHANGED}
    assert K.NULLABILITY_CHANGED not in {f.kind for f in findings}
    assert K.PRIMARY_KEY_CHANGED not in {f.kind for f in findings}


@pytest.mark.parametrize("nullable", [True, False, None])
def test_view_column_with_unknown_nullability_never_produces_a_finding(
    nullable: bool | None,
) -> None:
    contract = with_column(WEB, "event_name", nullable=nullable)(SNAPSHOT)
    actual = with_column(WEB, "event_name", nullable=None)(SNAPSHOT)
    assert compare_catalogs(contract, actual) == []
    assert compare_catalogs(actual, contract) == []


# --------------------------------------------------------------------------- renames


def test_relation_rename_is_not_a_missing_and_added_pair() -> None:
    findings = drift(SNAPSHOT, renaming_relation(GROUP, RelationKey("billig", "ticket_groups")))
    [rename] = findings
    assert rename.kind is K.RELATION_RENAMED
    assert (rename.expected, rename.actual) == ("billig.ticket_group", "billig.ticket_groups")
    assert rename.evidence == "7 of 7 expected columns match by name and type"
    assert "probably renamed to billig.ticket_groups" in rename.message


def test_relation_rename_evidence_names_the_columns_that_do_not_match() -> None:
    events = RelationKey("billig", "events")
    findings = drift(
        SNAPSHOT,
        chain(
            renaming_relation(EVENT, events),
            without_column(events, "event_note"),
            # PostgreSQL retargets foreign keys with the rename.
            with_relation(GROUP, foreign_keys=(ForeignKey(("event",), events, ("event",)),)),
        ),
    )
    assert K.FOREIGN_KEY_CHANGED not in {f.kind for f in findings}
    renames = [f for f in findings if f.kind is K.RELATION_RENAMED]
    assert [r.object for r in renames] == ["billig.event"]
    assert renames[0].evidence == (
        "7 of 8 expected columns match by name and type (not matching: event_note)"
    )
    assert K.RELATION_MISSING not in {f.kind for f in findings}
    assert K.RELATION_ADDED not in {f.kind for f in findings}


def test_relation_rename_to_a_view_says_so_in_the_evidence() -> None:
    view = dataclasses.replace(
        SNAPSHOT.relations[PGEPG],
        key=RelationKey("billig", "payment_error_price_groups"),
        kind=Kind.VIEW,
    )
    findings = drift(SNAPSHOT, chain(without_relation(PGEPG), adding_relation(view)))
    [rename] = findings
    assert rename.evidence is not None and "now a view, was a table" in rename.evidence


def test_two_equally_good_rename_candidates_name_neither() -> None:
    copy = SNAPSHOT.relations[PGEPG]
    findings = drift(
        SNAPSHOT,
        chain(
            without_relation(PGEPG),
            adding_relation(dataclasses.replace(copy, key=RelationKey("billig", "pepg_a"))),
            adding_relation(dataclasses.replace(copy, key=RelationKey("billig", "pepg_b"))),
        ),
    )
    assert summary(findings) == [
        ("relation_missing", "breaking", "billig.payment_error_price_group"),
        ("relation_added", "info", "billig.pepg_a"),
        ("relation_added", "info", "billig.pepg_b"),
    ]


def test_column_rename_evidence_and_values() -> None:
    [finding] = drift(SNAPSHOT, with_column(GROUP, "num", name="capacity"))
    assert (finding.kind, finding.column, finding.expected, finding.actual) == (
        K.COLUMN_RENAMED,
        "num",
        "num",
        "capacity",
    )
    assert finding.evidence == "same type integer and same position among the surviving columns"


def test_ambiguous_column_rename_falls_back_to_missing_and_added() -> None:
    # Two integer columns gone from the same gap, one integer column there now.
    findings = drift(
        SNAPSHOT,
        chain(
            without_column(GROUP, "num"),
            with_column(GROUP, "num_sold", name="tickets"),
        ),
    )
    assert summary(findings) == [
        ("column_missing", "breaking", "billig.ticket_group.num"),
        ("column_missing", "breaking", "billig.ticket_group.num_sold"),
        ("column_added", "info", "billig.ticket_group.tickets"),
    ]


# --------------------------------------------------------------------------- quoting and schemas


def _dotted(key: RelationKey) -> RelationKey:
    return RelationKey("public", f"{key.schema}.{key.name}")


def _dotted_in_public(catalog: Catalog) -> Catalog:
    """The whole billig schema recreated as single dotted identifiers in ``public`` (foreign
    keys follow, as they do when PostgreSQL renames or moves a table)."""
    return Catalog.of(
        [
            dataclasses.replace(
                r,
                key=_dotted(r.key),
                foreign_keys=tuple(
                    dataclasses.replace(fk, target=_dotted(fk.target)) for fk in r.foreign_keys
                ),
            )
            for r in catalog
        ],
        schemas=["public"],
    )


def test_schema_quoted_as_dotted_identifiers_in_public_is_quoting_confusion() -> None:
    findings = compare_catalogs(SNAPSHOT, _dotted_in_public(SNAPSHOT))
    assert summary(findings) == [
        ("schema_missing", "breaking", "billig"),
        ("quoting_confusion", "breaking", "billig.event"),
        ("quoting_confusion", "breaking", "billig.event_lim_web"),
        ("quoting_confusion", "breaking", "billig.payment_error_price_group"),
        ("quoting_confusion", "breaking", "billig.ticket_group"),
    ]
    confusion = findings[1]
    assert (confusion.expected, confusion.actual) == ("billig.event", 'public."billig.event"')
    assert "billig.event" in confusion.message
    assert 'public."billig.event"' in confusion.message
    assert "different relations" in confusion.message


def test_a_look_alike_is_compared_column_by_column() -> None:
    look_alike = _dotted(GROUP)
    actual = chain(
        renaming_relation(GROUP, look_alike),
        without_column(look_alike, "num"),
        with_column(look_alike, "ticket_group_name", type="text"),
    )(Catalog(SNAPSHOT.relations, SNAPSHOT.schemas))
    findings = compare_catalogs(SNAPSHOT, actual)
    assert summary(findings) == [
        ("quoting_confusion", "breaking", "billig.ticket_group"),
        ("column_missing", "breaking", "billig.ticket_group.num"),
        ("type_changed", "warning", "billig.ticket_group.ticket_group_name"),
    ]
    assert {f.evidence for f in findings[1:]} == {
        'compared with the look-alike public."billig.ticket_group"'
    }


def test_foreign_keys_that_follow_a_look_alike_have_not_changed() -> None:
    # billig.event is quoted as one identifier and billig.ticket_group's key points to it.
    look_alike = _dotted(EVENT)
    actual = chain(
        renaming_relation(EVENT, look_alike),
        with_relation(GROUP, foreign_keys=(ForeignKey(("event",), look_alike, ("event",)),)),
    )(Catalog(SNAPSHOT.relations, SNAPSHOT.schemas))
    assert summary(compare_catalogs(SNAPSHOT, actual)) == [
        ("quoting_confusion", "breaking", "billig.event"),
    ]


def test_quoting_confusion_in_reverse() -> None:
    """The contract (e.g. from a model with a dotted table name) expects public."billig.event"."""
    contract = _dotted_in_public(SNAPSHOT).restrict([RelationKey("public", "billig.event")])
    actual = Catalog.of([SNAPSHOT.relations[EVENT]], schemas=["public", "billig"])
    [finding] = compare_catalogs(contract, actual)
    assert finding.kind is K.QUOTING_CONFUSION
    assert finding.object == 'public."billig.event"'
    assert finding.actual == "billig.event"
    assert "different relations" in finding.message


def test_quoting_confusion_is_a_warning_for_a_relation_nothing_reads() -> None:
    actual = Catalog.of(
        [
            *[r for r in SNAPSHOT if r.key != PGEPG],
            dataclasses.replace(
                SNAPSHOT.relations[PGEPG],
                key=RelationKey("public", "billig.payment_error_price_group"),
            ),
        ]
    )
    [finding] = compare_catalogs(CONTRACT, actual)
    assert (finding.kind, finding.severity) == (K.QUOTING_CONFUSION, WARNING)


def test_missing_schema_reports_the_schema_and_each_relation() -> None:
    findings = compare_catalogs(SNAPSHOT, Catalog.of([], schemas=["public"]))
    assert summary(findings)[0] == ("schema_missing", "breaking", "billig")
    assert {f.kind for f in findings[1:]} == {K.RELATION_MISSING}
    assert len(findings) == 1 + len(SNAPSHOT)
    assert "4 contracted relations" in findings[0].message


def test_confusable_keys_cover_both_directions() -> None:
    assert confusable_keys(EVENT) == [RelationKey("public", "billig.event")]
    assert confusable_keys(RelationKey("public", "billig.event")) == [
        RelationKey("billig", "event"),
        RelationKey("public", "public.billig.event"),
    ]


# --------------------------------------------------------------------------- scope and order


def test_subset_semantics_report_nothing_that_only_actual_has() -> None:
    """Models ⊆ contract: the contract's extra relations, columns, keys and defaults are fine."""
    models = Catalog.of(
        [
            dataclasses.replace(
                SNAPSHOT.relations[GROUP],
                columns=tuple(
                    dataclasses.replace(c, default=None)
                    for c in SNAPSHOT.relations[GROUP].columns
                    if c.name != "num"
                ),
                foreign_keys=(),
            ),
            dataclasses.replace(SNAPSHOT.relations[PGEPG], primary_key=()),
        ]
    )
    contract = with_relation(PGEPG, primary_key=("error", "price_group"))(SNAPSHOT)
    assert compare_catalogs(models, contract, report_added=False) == []
    assert {f.kind for f in compare_catalogs(models, contract)} == {
        K.RELATION_ADDED,
        K.COLUMN_ADDED,
        K.DEFAULT_CHANGED,
        K.FOREIGN_KEY_CHANGED,
        K.PRIMARY_KEY_CHANGED,
    }


def test_subset_semantics_still_report_what_is_missing_or_changed() -> None:
    models = Catalog.of([SNAPSHOT.relations[GROUP]])
    contract = with_column(GROUP, "num", nullable=True)(SNAPSHOT)
    assert summary(compare_catalogs(models, contract, report_added=False)) == [
        ("nullability_changed", "breaking", "billig.ticket_group.num")
    ]


def test_a_whole_database_with_unrelated_relations_adds_nothing_outside_contracted_schemas() -> (
    None
):
    noise = [
        Relation(
            RelationKey(f"other_{i % 7}", f"table_{i}"),
            Kind.TABLE,
            (Column("id", "integer", False), Column("event", "integer", True)),
        )
        for i in range(500)
    ]
    actual = Catalog.of([*SNAPSHOT, *noise])
    assert compare_catalogs(SNAPSHOT, actual) == []


def test_findings_are_sorted_and_independent_of_input_order() -> None:
    mutation = chain(
        without_relation(PGEPG),
        with_column(EVENT, "event_name", type="text"),
        with_column(GROUP, "num", nullable=True),
        appending_column(GROUP, Column("zzz", "text", True)),
        adding_relation(UNRELATED),
    )
    findings = drift(SNAPSHOT, mutation)
    assert findings == sort_findings(findings)
    rels = list(mutation(SNAPSHOT))
    random.Random(7).shuffle(rels)
    assert compare_catalogs(SNAPSHOT, Catalog.of(rels, schemas=["billig"])) == findings


def test_a_change_of_kind_counts_lost_columns_once_as_their_own_findings() -> None:
    to_view = chain(
        with_relation(
            GROUP,
            kind=Kind.VIEW,
            primary_key=(),
            foreign_keys=(),
            columns=tuple(
                dataclasses.replace(c, nullable=None, default=None)
                for c in SNAPSHOT.relations[GROUP].columns
                if c.name != "num"
            ),
        ),
    )
    findings = {f.kind: f for f in drift(SNAPSHOT, to_view)}
    changed = findings[K.RELATION_KIND_CHANGED]
    assert changed.severity is WARNING
    assert changed.message == "billig.ticket_group changed from a table to a view"
    assert findings[K.COLUMN_MISSING].severity is BREAKING


# --------------------------------------------------------------------------- foreign key text


def _group_pointing_to(target: RelationKey) -> Catalog:
    return with_relation(GROUP, foreign_keys=(ForeignKey(("event",), target, ("event",)),))(
        SNAPSHOT
    )


def test_a_retargeted_foreign_key_reads_as_was_then_now() -> None:
    [finding] = compare_catalogs(_group_pointing_to(WEB), _group_pointing_to(EVENT))
    assert (finding.kind, finding.change) == (K.FOREIGN_KEY_CHANGED, "changed")
    assert finding.expected == "billig.ticket_group (event) → billig.event_lim_web (event)"
    assert finding.actual == "billig.ticket_group (event) → billig.event (event)"
    assert finding.message == (
        "foreign key billig.ticket_group (event) → billig.event_lim_web (event) "
        "became → billig.event (event)"
    )


def test_a_dropped_and_an_added_foreign_key_read_as_one_key_each() -> None:
    without = with_relation(GROUP, foreign_keys=())(SNAPSHOT)
    [dropped] = compare_catalogs(SNAPSHOT, without)
    assert dropped.message == (
        "foreign key billig.ticket_group (event) → billig.event (event) is gone"
    )
    assert (dropped.expected, dropped.actual) == (
        "billig.ticket_group (event) → billig.event (event)",
        "(none)",
    )
    [added] = compare_catalogs(without, SNAPSHOT)
    assert added.message == "new foreign key billig.ticket_group (event) → billig.event (event)"
    assert (added.expected, added.actual) == (
        "(none)",
        "billig.ticket_group (event) → billig.event (event)",
    )


def test_a_removed_enum_label_names_the_labels_and_the_readers() -> None:
    lineage = {ColumnRef(*GROUP, "ticket_group_name"): Usage(models=("TicketGroup.name",))}
    contract = Catalog(TYPED.relations, TYPED.schemas, lineage)
    [finding] = drift(contract, with_column(GROUP, "ticket_group_name", labels=("sad", "glad")))
    assert finding.severity is BREAKING
    assert finding.impact == ("TicketGroup.name",)
    assert "removed 'ok', 'happy'" in finding.message and "added 'glad'" in finding.message
    assert (finding.expected, finding.actual) == ("'sad', 'ok', 'happy'", "'sad', 'glad'")


def test_a_removed_enum_label_nothing_reads_is_a_warning() -> None:
    contract = Catalog(TYPED.relations, TYPED.schemas, {})
    [finding] = drift(contract, with_column(GROUP, "ticket_group_name", labels=("sad",)))
    assert finding.severity is WARNING


def test_a_changed_check_names_the_readers_of_its_columns() -> None:
    lineage = {ColumnRef(*GROUP, "num_sold"): Usage(models=("TicketGroup.num_sold",))}
    contract = Catalog(TYPED.relations, TYPED.schemas, lineage)
    changed = CheckConstraint(("num", "num_sold"), "CHECK ((num_sold < num))")
    [finding] = drift(contract, with_relation(GROUP, checks=(changed,)))
    assert finding.severity is BREAKING and finding.impact == ("TicketGroup.num_sold",)
    assert finding.expected == SOLD.definition and finding.actual == changed.definition


@given(
    old=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True),
    new=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True),
)
def test_enum_labels_are_judged_by_what_a_reader_loses_or_meets(old: list[str], new: list[str]):
    contract = with_column(GROUP, "ticket_group_name", labels=tuple(old))(TYPED)
    findings = drift(contract, with_column(GROUP, "ticket_group_name", labels=tuple(new)))
    if old == new:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind is K.ENUM_LABELS_CHANGED
    if set(old) - set(new):  # a label a reader knew is gone
        assert finding.severity is BREAKING
    elif set(new) - set(old):  # a label a reader may now meet
        assert finding.severity is WARNING
    else:
        assert (finding.severity, finding.change) == (INFO, "reordered")


# --------------------------------------------------------------------------- view column origins


def _with_origins(
    catalog: Catalog, source: RelationKey, *, swap: tuple[str, str] = ("", "")
) -> Catalog:
    """``catalog`` whose view columns come from ``source``'s same-named columns (two swapped)."""
    a, b = swap
    names = {a: b, b: a} if a else {}
    web = catalog.relations[WEB]
    columns = tuple(
        dataclasses.replace(c, origin=Origin(ColumnRef(*source, names.get(c.name, c.name))))
        for c in web.columns
    )
    return Catalog(
        {**catalog.relations, WEB: dataclasses.replace(web, columns=columns)},
        catalog.schemas,
        catalog.lineage,
    )


def test_a_view_column_that_now_comes_from_another_column_is_an_origin_finding() -> None:
    expected = _with_origins(CONTRACT, EVENT)
    actual = _with_origins(CONTRACT, EVENT, swap=("event_note", "event_location"))
    found = [
        (f.kind, f.severity.label, f.object, f.actual) for f in compare_catalogs(expected, actual)
    ]
    # event_note is read by nothing: information only.
    assert found == [
        (
            K.ORIGIN_CHANGED,
            "warning",
            "billig.event_lim_web.event_location",
            "billig.event.event_note",
        ),
        (
            K.ORIGIN_CHANGED,
            "info",
            "billig.event_lim_web.event_note",
            "billig.event.event_location",
        ),
    ]


def test_origins_follow_a_renamed_base_relation() -> None:
    moved = RelationKey("billig", "events")
    expected = _with_origins(CONTRACT, EVENT)
    event = dataclasses.replace(expected.relations[EVENT], key=moved)
    relations = {k: r for k, r in expected.relations.items() if k != EVENT}
    actual = _with_origins(
        Catalog({**relations, moved: event}, expected.schemas, expected.lineage), moved
    )
    kinds = {f.kind for f in compare_catalogs(expected, actual)}
    assert K.RELATION_RENAMED in kinds and K.ORIGIN_CHANGED not in kinds
