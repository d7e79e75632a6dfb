"""Compatible reads: a model is judged by what reading a column gives it (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.catalog.findings import FindingKind
from mirror.catalog.model import Catalog, Column, ForeignKey, Kind, Relation, RelationKey
from mirror.catalog.reads import incompatible_reads

GROUP = RelationKey("billig", "ticket_group")
EVENT = RelationKey("billig", "event")


def _relation(column: Column, *, primary_key: tuple[str, ...] = ("id",), **kw: object) -> Relation:
    return Relation(
        GROUP,
        Kind.TABLE,
        (Column("id", "integer", False), column),
        primary_key=primary_key,
        **kw,  # type: ignore[arg-type]
    )


def _reads(model: Relation, pinned: Relation) -> list[tuple[str, str | None]]:
    found = incompatible_reads(Catalog.of([pinned]), Catalog.of([model]))
    return [(f.kind.value, f.change) for f in found]


_LENGTHS = st.integers(1, 500)


@given(declared=_LENGTHS, stored=_LENGTHS, base=st.sampled_from(["character varying", "character"]))
def test_a_text_field_reads_a_text_column_whose_values_fit_it(
    declared: int, stored: int, base: str
):
    model = _relation(Column("name", f"character varying({declared})", False))
    found = _reads(model, _relation(Column("name", f"{base}({stored})", False)))
    # Values longer than the field declares break its serializers' and API schema's bound.
    assert found == ([] if stored <= declared else [("type_changed", "widening")])


@given(labels=st.lists(st.text(min_size=1, max_size=30), min_size=1, unique=True))
def test_a_text_field_reads_an_enum_whose_labels_fit_it(labels: list[str]):
    stored = _relation(Column("state", "billig.sale_state", False, labels=tuple(labels)))
    assert _reads(_relation(Column("state", "character varying(30)", False)), stored) == []
    assert _reads(_relation(Column("state", "text", False)), stored) == []
    short = _relation(Column("state", "character varying(1)", False))
    assert _reads(short, stored) == (
        [] if max(map(len, labels)) == 1 else [("type_changed", "incompatible")]
    )


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("bigint", "integer"),
        ("bigint", "smallint"),
        ("numeric", "numeric(10,2)"),
        ("numeric(12,2)", "numeric(10,2)"),
        ("double precision", "real"),
        ("bigint[]", "integer[]"),
        ("text", "character(5)"),
    ],
)
def test_a_field_reads_any_column_of_its_kind_of_value(declared: str, stored: str):
    model = _relation(Column("n", declared, False))
    assert _reads(model, _relation(Column("n", stored, False))) == []


@pytest.mark.parametrize(
    ("declared", "stored", "base_type"),
    [
        ("integer", "billig.quantity", "integer"),
        ("character varying(5)", "billig.code", "character(5)"),
    ],
)
def test_a_field_reads_a_domain_over_its_kind_of_value(declared: str, stored: str, base_type: str):
    pinned = _relation(Column("n", stored, False, base_type=base_type))
    assert _reads(_relation(Column("n", declared, False)), pinned) == []


@pytest.mark.parametrize(
    ("declared", "stored", "base_type"),
    [
        ("character varying(10)", "integer", None),
        ("integer", "bigint", None),
        ("integer", "numeric(10,2)", None),
        ("timestamp without time zone", "timestamp with time zone", None),
        ("integer", "integer[]", None),
        ("integer", "billig.quantity", "text"),
        ("text", "billig.unknown_type", None),
    ],
)
def test_a_value_of_another_kind_is_incompatible(declared: str, stored: str, base_type: str | None):
    pinned = _relation(Column("n", stored, False, base_type=base_type))
    found = _reads(_relation(Column("n", declared, False)), pinned)
    assert [kind for kind, _ in found] == ["type_changed"]


def test_a_model_key_over_a_table_without_one_reads_the_same_rows():
    model = _relation(Column("note", "text", False))
    assert _reads(model, _relation(Column("note", "text", False), primary_key=())) == []


def test_a_model_key_over_a_unique_constraint_reads_the_same_rows():
    pinned = _relation(Column("code", "text", False), primary_key=(), unique=(("id",),))
    assert _reads(_relation(Column("code", "text", False)), pinned) == []


def test_a_model_key_on_other_columns_than_the_tables_is_incompatible():
    model = _relation(Column("code", "text", False), primary_key=("code",))
    assert _reads(model, _relation(Column("code", "text", False))) == [
        ("primary_key_changed", "changed")
    ]


def test_a_declared_foreign_key_the_table_lacks_still_reads():
    model = _relation(
        Column("event", "integer", False),
        foreign_keys=(ForeignKey(("event",), EVENT, ("event",)),),
    )
    assert _reads(model, _relation(Column("event", "integer", False))) == []


def test_null_where_the_model_declares_not_null_is_incompatible():
    model = _relation(Column("name", "text", False))
    found = incompatible_reads(
        Catalog.of([_relation(Column("name", "text", True))]), Catalog.of([model])
    )
    assert [f.kind for f in found] == [FindingKind.NULLABILITY_CHANGED]


def test_a_model_default_the_table_lacks_is_no_concern_of_a_reader():
    model = _relation(Column("hidden", "boolean", False, "false"))
    assert _reads(model, _relation(Column("hidden", "boolean", False))) == []


def test_a_field_whose_choices_cover_the_enum_reads_it():
    stored = _relation(Column("state", "billig.s", False, labels=("open", "closed")))
    declared = Column("state", "character varying(10)", False, labels=("closed", "open", "gone"))
    assert _reads(_relation(declared), stored) == []


def test_an_enum_label_the_choices_lack_is_named():
    stored = _relation(Column("state", "billig.s", False, labels=("open", "closed", "sold out")))
    declared = Column("state", "character varying(10)", False, labels=("open", "closed"))
    [finding] = incompatible_reads(Catalog.of([stored]), Catalog.of([_relation(declared)]))
    assert finding.kind is FindingKind.ENUM_LABELS_CHANGED
    assert finding.message == (
        "column billig.ticket_group.state holds labels of billig.s that the model's choices "
        "lack: choices 'open', 'closed'; labels 'open', 'closed', 'sold out'"
    )
