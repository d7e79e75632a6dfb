"""Serializer output for the seeded scenarios: the rules, the declared schemas, the lineage."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel
from sqlalchemy import select

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.events import Event as SiteEvent
from examples.fastapi_site.lineage import output_schemas
from examples.fastapi_site.prefetch import get_billig_event, relevant_billig_events
from examples.fastapi_site.routing import RoutedSession
from examples.fastapi_site.serializers import (
    FIELD_LINEAGE,
    SERIALIZER_SCHEMAS,
    BilligEvent,
    Event,
    PublicModel,
    column_usage,
    field_lineage,
    lineage_of,
    serialize_billig_event,
    serialize_billig_events,
    serialize_events,
    serialize_price_group,
    serialize_ticket_group,
    to_json,
)
from mirror.catalog.model import ColumnRef

from .conftest import scenario_id


def billig_json(reader: RoutedSession, scenario: str, now: datetime) -> dict[str, Any]:
    event = get_billig_event(reader, scenario_id(scenario))
    assert event is not None
    data: dict[str, Any] = to_json(serialize_billig_event(event, now))
    return data


def test_price_group_shape(reader: RoutedSession):
    pg = reader.scalars(select(orm.BilligPriceGroup).limit(1)).one()
    assert to_json(serialize_price_group(pg)) == {
        "id": pg.id,
        "name": pg.name,
        "can_be_put_on_card": pg.can_be_put_on_card,
        "membership_needed": pg.membership_needed,
        "netsale": pg.netsale,
        "price": pg.price,
    }


def test_ticket_group_shape(reader: RoutedSession):
    group = reader.scalars(select(orm.BilligTicketGroup).limit(1)).one()
    data = to_json(serialize_ticket_group(group))
    assert list(data) == ["id", "name", "is_sold_out", "is_almost_sold_out", "ticket_limit",
                          "price_groups"]  # fmt: skip
    assert [p["id"] for p in data["price_groups"]] == [p.id for p in group.price_groups]


def test_on_sale_event(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "on_sale", seed_now)
    assert list(data) == ["id", "name", "ticket_groups", "sale_from", "sale_to",
                          "in_sale_period", "is_almost_sold_out", "is_sold_out"]  # fmt: skip
    assert data["in_sale_period"] is True
    assert data["is_sold_out"] is False
    assert data["ticket_groups"]


def test_sold_out_event(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "sold_out", seed_now)
    assert data["is_sold_out"] is True and data["is_almost_sold_out"] is True
    assert all(g["is_sold_out"] for g in data["ticket_groups"])


def test_almost_sold_out_event(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "almost_sold_out", seed_now)
    assert data["is_almost_sold_out"] is True and data["is_sold_out"] is False
    assert all(g["is_almost_sold_out"] and not g["is_sold_out"] for g in data["ticket_groups"])


def test_group_with_zero_tickets_is_sold_out_without_failing(
    reader: RoutedSession, seed_now: datetime
):
    data = billig_json(reader, "zero_tickets_group", seed_now)
    zero, other = data["ticket_groups"]
    assert zero["is_sold_out"] is True
    assert other["is_sold_out"] is False
    assert data["is_sold_out"] is False  # not all groups are sold out


def test_event_without_ticket_groups(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "no_ticket_groups", seed_now)
    assert data["ticket_groups"] == []
    assert data["is_sold_out"] is True and data["is_almost_sold_out"] is False


@pytest.mark.parametrize(
    ("scenario", "in_period"),
    [("on_sale", True), ("future", False), ("recently_ended", False), ("long_past", False)],
)
def test_sale_period_at_the_injected_clock(
    reader: RoutedSession, seed_now: datetime, scenario: str, in_period: bool
):
    assert billig_json(reader, scenario, seed_now)["in_sale_period"] is in_period


def test_sale_period_follows_the_clock(reader: RoutedSession, seed_now: datetime):
    event = get_billig_event(reader, scenario_id("future"))
    assert event is not None
    assert serialize_billig_event(event, event.sale_from).in_sale_period is True
    assert serialize_billig_event(event, event.sale_to).in_sale_period is True
    assert serialize_billig_event(event, seed_now).in_sale_period is False


def test_null_and_zero_limits_are_emitted_as_stored(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "limits_and_non_netsale", seed_now)
    assert [g["ticket_limit"] for g in data["ticket_groups"]] == [None, 0]
    assert any(not p["netsale"] for g in data["ticket_groups"] for p in g["price_groups"])


def test_timestamps_carry_the_site_zone_offset(reader: RoutedSession, seed_now: datetime):
    event = get_billig_event(reader, scenario_id("on_sale"))
    assert event is not None
    out = serialize_billig_event(event, seed_now)
    assert out.sale_from.tzinfo is not None
    assert out.sale_from.replace(tzinfo=None) == event.sale_from
    assert to_json(out)["sale_from"].startswith(event.sale_from.isoformat())
    assert to_json(out)["sale_from"][-6] in "+-"


def test_site_events_nest_billig_or_null(
    reader: RoutedSession, seed_now: datetime, shown_billig_event_ids: list[int]
):
    site_events = list(reader.scalars(select(SiteEvent).order_by(SiteEvent.id)))
    out = to_json(serialize_events(reader, site_events, seed_now))
    assert len(out) == len(site_events)
    for event, data in zip(site_events, out, strict=True):
        assert list(data) == ["id", "title", "start_dt", "ticket_type", "billig"]
        assert data["id"] == event.id and data["ticket_type"] == event.ticket_type
        linked = event.sold_through_billig and event.billig_id in shown_billig_event_ids
        assert (data["billig"] is not None) is linked
        if linked:
            assert data["billig"]["id"] == event.billig_id
    assert any(d["billig"] is None for d in out) and any(d["billig"] for d in out)


@functools.cache
def validator(schema: type[BaseModel]) -> jsonschema.protocols.Validator:
    document = schema.model_json_schema(mode="serialization")
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document)


def validate(schema: type[BaseModel], data: Any) -> None:
    validator(schema).validate(data)
    schema.model_validate(data)  # and it round-trips through the declared model


def test_output_for_all_seeded_data_validates_against_the_declared_schemas(
    reader: RoutedSession, seed_now: datetime
):
    billig_events = list(reader.scalars(select(orm.BilligEvent).order_by(orm.BilligEvent.id)))
    serialized = serialize_billig_events(reader, billig_events, seed_now)
    assert len(serialized) == len(billig_events)
    for item in to_json(serialized):
        validate(SERIALIZER_SCHEMAS["BilligEvent"], item)
        for group in item["ticket_groups"]:
            validate(SERIALIZER_SCHEMAS["TicketGroup"], group)
            for price in group["price_groups"]:
                validate(SERIALIZER_SCHEMAS["PriceGroup"], price)
    site_events = list(reader.scalars(select(SiteEvent)))
    for item in to_json(serialize_events(reader, site_events, seed_now)):
        validate(Event, item)


def test_a_schema_rejects_undeclared_keys(reader: RoutedSession, seed_now: datetime):
    data = billig_json(reader, "on_sale", seed_now)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**data, "extra": 1}, BilligEvent.model_json_schema(mode="serialization")
        )
    with pytest.raises(ValueError, match="extra"):
        BilligEvent.model_validate({**data, "extra": 1})


def test_relevant_events_listing_serializes_with_three_queries(
    reader: RoutedSession, seed_now: datetime
):
    events = relevant_billig_events(reader, seed_now)
    out = serialize_billig_events(reader, events, seed_now)
    assert [e.id for e in out] == sorted(e.id for e in events)


# --------------------------------------------------------------------------- lineage


def test_lineage_names_the_billig_column_of_every_field():
    price = FIELD_LINEAGE["BilligEvent.ticket_groups[].price_groups[].price"]
    assert price.columns == (ColumnRef("billig", "price_group", "price"),)
    assert price.source.kind == "column" and price.non_null
    limit = FIELD_LINEAGE["TicketGroup.ticket_limit"]
    assert limit.columns == (ColumnRef("billig", "ticket_group", "ticket_limit"),)
    assert not limit.non_null
    sold_out = FIELD_LINEAGE["Event.billig.is_sold_out"]
    assert sold_out.source.kind == "derived"
    assert ColumnRef("billig", "ticket_group", "num") in sold_out.columns
    assert FIELD_LINEAGE["BilligEvent.name"].columns == (
        ColumnRef("billig", "event_lim_web", "event_name"),
    )
    assert FIELD_LINEAGE["Event.title"].source.kind == "site"
    assert not FIELD_LINEAGE["Event.billig"].non_null


def test_lineage_covers_every_field_of_every_output_schema():
    lineage = lineage_of(output_schemas())
    for name, schema in output_schemas().items():
        for field in schema.model_fields:
            assert f"{name}.{field}" in lineage or f"{name}.{field}[]" in lineage
    billig_kinds = {"column", "derived", "join"}
    for path, item in lineage.items():
        assert bool(item.columns) == (item.source.kind in billig_kinds), path


def test_lineage_columns_exist_in_the_models():
    mapped = {
        ColumnRef(orm.relation_key(m).schema, orm.relation_key(m).name, c.name)
        for m in orm.BILLIG_MODELS
        for c in m.__table__.columns
    }
    used = {ref for item in lineage_of(output_schemas()).values() for ref in item.columns}
    assert used <= mapped


def test_column_usage_combines_fields_and_models():
    usage = column_usage()
    price = usage[ColumnRef("billig", "price_group", "price")]
    assert "BilligPriceGroup.price" in price.models
    assert "PriceGroup.price" in price.fields and price.requires_not_null
    num = usage[ColumnRef("billig", "ticket_group", "num")]
    assert "TicketGroup.is_sold_out" in num.fields  # read, though never emitted
    limit = usage[ColumnRef("billig", "ticket_group", "ticket_limit")]
    assert not limit.requires_not_null
    email = usage[ColumnRef("billig", "purchase", "owner_email")]
    assert email.models and not email.fields
    assert ColumnRef("billig", "event", "event_name") in usage  # the base table is mapped too


def test_field_without_source_is_refused():
    class Unsourced(PublicModel):
        title: str

    with pytest.raises(TypeError, match="Source"):
        field_lineage(Unsourced)
