"""The catalog our models expect, its lineage, and the models ⊆ contract check (no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import ARRAY, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from examples.fastapi_site.billig_models import BilligBase
from examples.fastapi_site.lineage import billig_lineage, with_endpoints
from examples.fastapi_site.source import SITE
from mirror.catalog.model import Catalog, ColumnRef, Kind, RelationKey, Usage
from mirror.contracts.columns import check_models_in_contract
from mirror.sources.contract_file import load_contract
from mirror.sources.sqlalchemy_models import catalog_from_models


@pytest.fixture(scope="module")
def contract(project_root: Path):  # type: ignore[no-untyped-def]
    return load_contract(project_root / "contracts" / "columns.json")


def test_models_catalog_has_the_nine_relations_with_compiled_types() -> None:
    catalog = SITE.catalog()
    assert {k.name for k in catalog.relations} == {
        "event", "event_lim_web", "ticket_group", "price_group", "purchase", "ticket_card",
        "ticket", "payment_error", "payment_error_price_group",
    }  # fmt: skip
    group = catalog.get(("billig", "ticket_group"))
    assert group is not None
    assert group.column("ticket_group_name").type == "character varying(140)"  # type: ignore[union-attr]
    assert group.column("ticket_limit").nullable is True  # type: ignore[union-attr]
    assert group.column("num").nullable is False  # type: ignore[union-attr]
    card = catalog.get(("billig", "ticket_card"))
    assert card is not None and card.column("card").type == "bigint"  # type: ignore[union-attr]


def test_array_types_compile_with_the_postgresql_dialect() -> None:
    class Base(DeclarativeBase):
        metadata = MetaData(schema="s")

    class T(Base):
        __tablename__ = "t"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        tags: Mapped[list[str]] = mapped_column(ARRAY(String(20)))

    rel = catalog_from_models(Base).get(("s", "t"))
    assert rel is not None
    assert rel.column("tags").type == "character varying(20)[]"  # type: ignore[union-attr]


def test_a_dotted_table_name_is_one_identifier_in_public() -> None:
    class Base(DeclarativeBase):
        pass

    class Wrong(Base):
        __tablename__ = "billig.event"
        id: Mapped[int] = mapped_column("event", Integer, primary_key=True)

    assert list(catalog_from_models(Base).relations) == [RelationKey("public", "billig.event")]


def test_model_declared_view_keeps_the_models_nullability() -> None:
    class Base(DeclarativeBase):
        pass

    class V(Base):
        __tablename__ = "v"
        __table_args__: ClassVar[dict[str, Any]] = {"schema": "s", "info": {"kind": "view"}}
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        note: Mapped[str | None] = mapped_column(Text)

    # What the model requires, checked against the nullability derived for the view's columns.
    rel = catalog_from_models(Base).get(("s", "v"))
    assert rel is not None and rel.kind is Kind.VIEW
    assert [c.nullable for c in rel.columns] == [False, True]


def test_every_model_column_is_in_the_contract(contract) -> None:  # type: ignore[no-untyped-def]
    assert check_models_in_contract(contract, SITE.catalog()) == []


def _with_table(name: str, edit) -> Catalog:  # type: ignore[no-untyped-def]
    """The Billig models' catalog with one table's copy edited in place (order kept)."""
    metadata = MetaData()
    for table in BilligBase.metadata.tables.values():
        copy = table.to_metadata(metadata)
        if table.name == name:
            edit(copy)
    return catalog_from_models(metadata)


def test_renamed_model_column_fails_with_a_probable_rename(contract) -> None:  # type: ignore[no-untyped-def]
    class Base(DeclarativeBase):
        metadata = MetaData(schema="billig")

    class RenamedTicketGroup(Base):
        """BilligTicketGroup after someone renamed the column behind ``name``."""

        __tablename__ = "ticket_group"
        id: Mapped[int] = mapped_column("ticket_group", Integer, primary_key=True)
        event_id: Mapped[int] = mapped_column("event", Integer)
        name: Mapped[str] = mapped_column("ticket_group_title", String(140))
        is_theater_ticket_group: Mapped[bool] = mapped_column("is_theater_ticket_group")
        ticket_limit: Mapped[int | None] = mapped_column("ticket_limit", Integer)
        num_sold: Mapped[int] = mapped_column("num_sold", Integer)
        num: Mapped[int] = mapped_column("num", Integer)

    tables = [t for t in BilligBase.metadata.tables.values() if t.name != "ticket_group"]
    models = catalog_from_models([*tables, RenamedTicketGroup.__table__])  # type: ignore[list-item]
    findings = check_models_in_contract(contract, models)
    assert [f.message for f in findings] == [
        "column billig.ticket_group.ticket_group_title is missing; probably renamed to "
        "ticket_group_name"
    ]


def test_model_column_missing_from_the_contract_fails(contract) -> None:  # type: ignore[no-untyped-def]
    def add(table: Table) -> None:
        table.append_column(Column("event_subtitle", Text))

    findings = check_models_in_contract(contract, _with_table("event_lim_web", add))
    assert [f.message for f in findings] == [
        "column billig.event_lim_web.event_subtitle (text) is missing"
    ]


def test_model_type_incompatible_with_the_contract_fails(contract) -> None:  # type: ignore[no-untyped-def]
    def retype(table: Table) -> None:
        table.c.event_name.type = Integer()

    findings = check_models_in_contract(contract, _with_table("event_lim_web", retype))
    assert [f.message for f in findings] == [
        "column billig.event_lim_web.event_name type changed incompatibly: integer → "
        "character varying(140)"
    ]


def test_model_type_wider_than_the_contract_is_compatible(contract) -> None:  # type: ignore[no-untyped-def]
    # A model reading varchar(140) as an unlimited String can hold every value.
    def widen(table: Table) -> None:
        table.c.event_name.type = String()

    assert check_models_in_contract(contract, _with_table("event_lim_web", widen)) == []


def test_model_type_narrower_than_the_contract_fails(contract) -> None:  # type: ignore[no-untyped-def]
    def narrow(table: Table) -> None:
        table.c.ticket_group_name.type = String(100)

    findings = check_models_in_contract(contract, _with_table("ticket_group", narrow))
    assert [f.message for f in findings] == [
        "column billig.ticket_group.ticket_group_name type widened: character varying(100) → "
        "character varying(140)"
    ]


def test_model_not_null_on_a_nullable_contract_column_fails(contract) -> None:  # type: ignore[no-untyped-def]
    def require(table: Table) -> None:
        table.c.ticket_limit.nullable = False

    findings = check_models_in_contract(contract, _with_table("ticket_group", require))
    assert [f.message for f in findings] == [
        "column billig.ticket_group.ticket_limit now allows NULL (a reader declares it non-null)"
    ]


# --------------------------------------------------------------------------- lineage


def test_lineage_names_models_fields_and_not_null() -> None:
    usage = billig_lineage(endpoints={})[ColumnRef("billig", "price_group", "price")]
    assert usage.models == ("BilligPriceGroup.price",)
    assert "BilligEvent.ticket_groups[].price_groups[].price" in usage.fields
    assert "Event.billig.ticket_groups[].price_groups[].price" in usage.fields
    assert usage.requires_not_null


def test_unread_columns_have_no_serializer_fields() -> None:
    usage = billig_lineage(endpoints={})[ColumnRef("billig", "event_lim_web", "event_note")]
    assert usage.fields == () and usage.endpoints == ()


def test_endpoints_reach_every_column_behind_their_serializers() -> None:
    ref = ColumnRef("billig", "price_group", "price")
    other = ColumnRef("billig", "ticket", "used")
    lineage = {
        ref: Usage(
            fields=("Event.billig.ticket_groups[].price_groups[].price", "PriceGroup.price")
        ),
        other: Usage(models=("BilligTicket.used",)),
    }
    out = with_endpoints(lineage, {"GET /events": ["Event"], "GET /prices": ["PriceGroup"]})
    assert out[ref].endpoints == ("GET /events", "GET /prices")
    assert out[other].endpoints == ()
