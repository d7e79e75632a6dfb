"""No forbidden field, and no owner data or card number, ever appears in any output."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.events import Event as SiteEvent
from examples.fastapi_site.lineage import output_schemas
from examples.fastapi_site.payment import Selection, payment_form, validate_selection
from examples.fastapi_site.payment_errors import lookup_payment_error
from examples.fastapi_site.prefetch import relevant_billig_events
from examples.fastapi_site.routing import RoutedSession
from examples.fastapi_site.serializers import (
    FORBIDDEN_FIELDS,
    PublicModel,
    find_forbidden,
    serialize_billig_events,
    serialize_events,
    to_json,
)
from examples.fastapi_site.tickets import purchase_tickets
from mirror.contracts.shapes import forbidden_in_schema, snapshot_of


def test_forbidden_set_pins_spec_section_3():
    assert {"num", "num_sold", "owner_email", "owner_member_id", "owner_cardno"} <= FORBIDDEN_FIELDS
    assert "card" in FORBIDDEN_FIELDS


def test_no_declared_schema_has_a_forbidden_field():
    for name, schema in output_schemas().items():
        shape = schema.model_json_schema(mode="serialization")
        assert forbidden_in_schema(snapshot_of(name, shape, FORBIDDEN_FIELDS)) == [], name


def test_a_schema_with_a_forbidden_field_cannot_be_declared():
    with pytest.raises(TypeError, match="never public"):

        class Leaky(PublicModel):
            num_sold: int

    with pytest.raises(TypeError, match="never public"):
        from pydantic import Field

        class Aliased(PublicModel):
            email_of_owner: str = Field(serialization_alias="owner_email")


def test_find_forbidden_reports_paths_at_any_depth():
    data = {"a": [{"b": {"num": 1}}], "owner_email": "x"}
    assert find_forbidden(data) == ["$.a[0].b.num", "$.owner_email"]
    assert find_forbidden({"price_groups": [{"price": 1}]}) == []


def all_outputs(session: RoutedSession, now: datetime) -> list[Any]:
    outputs: list[Any] = []
    site_events = list(session.scalars(select(SiteEvent)))
    outputs.append(to_json(serialize_events(session, site_events, now)))
    billig_events = list(session.scalars(select(orm.BilligEvent)))
    outputs.append(to_json(serialize_billig_events(session, billig_events, now)))
    for event in relevant_billig_events(session, now):
        outputs.append(to_json(payment_form(event, now)))
        web = [pg for g in event.ticket_groups for pg in g.price_groups if pg.netsale]
        # The buyer's own contact is echoed into the /pay fields; it is not in the seed.
        for ticket_type, contact in (("card", {"membercard": "5550001"}),
                                     ("paper", {"email": "me@example.org"})):  # fmt: skip
            selection = Selection(
                counts={pg.id: 1 for pg in web[:2]}, ticket_type=ticket_type, **contact
            )
            outputs.append(to_json(validate_selection(event, selection, now)))
    for key in session.scalars(select(orm.BilligPaymentError.error)):
        outputs.append(to_json(lookup_payment_error(session, key)))
    # Tickets are shown only for one purchase's complete set, of events the site shows.
    conn = session.connection(bind_arguments={"mapper": orm.BilligEvent.__mapper__})
    complete = conn.execute(
        text(
            "SELECT array_agg(t.ticket ORDER BY t.ticket) FROM billig.ticket AS t"
            " JOIN billig.price_group AS pg USING (price_group)"
            " JOIN billig.ticket_group AS tg USING (ticket_group)"
            " JOIN billig.event_lim_web AS e ON e.event = tg.event"
            " GROUP BY t.purchase HAVING bool_and(NOT e.hidden) ORDER BY t.purchase"
        )
    ).scalars()
    for tickets in complete:
        outputs.append(to_json(purchase_tickets(session, [f"{t}12345" for t in tickets])))
    return outputs


def test_no_output_contains_forbidden_fields_or_private_values(
    reader: RoutedSession, seed_now: datetime
):
    outputs = all_outputs(reader, seed_now)
    assert len(outputs) > 50
    assert find_forbidden(outputs) == []
    dumped = json.dumps(outputs)
    conn = reader.connection(bind_arguments={"mapper": orm.BilligEvent.__mapper__})
    private = set(
        conn.scalars(
            text(
                "SELECT owner_email FROM billig.purchase WHERE owner_email IS NOT NULL "
                "UNION SELECT owner_email FROM billig.payment_error "
                "WHERE owner_email IS NOT NULL "
                "UNION SELECT owner_cardno FROM billig.payment_error "
                "WHERE owner_cardno IS NOT NULL "
                "UNION SELECT card::text FROM billig.ticket_card"
            )
        )
    )
    assert private
    leaked = [value for value in private if value in dumped]
    assert leaked == []
