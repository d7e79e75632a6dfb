"""What the example site's Django models expect: relations as Django queries them, read types."""

from __future__ import annotations

import pytest

from mirror.catalog.model import RelationKey


def relation(site, schema, name):
    found = site.catalog().get((schema, name))
    assert found is not None, f"{schema}.{name} not in {list(site.catalog().relations)}"
    return found


def test_billig_models_are_the_ones_the_router_sends_to_the_billig_alias(site):
    names = {m.name for m in site.models()}
    assert names == {
        "BilligEvent", "BilligTicketGroup", "BilligPriceGroup", "BilligPurchase",
        "BilligTicket", "BilligPaymentError",
    }  # fmt: skip
    assert "Event" not in names  # the site's own model stays in "default"


def test_a_dotted_db_table_is_one_identifier_in_public(site):
    groups = next(m for m in site.models() if m.name == "BilligTicketGroup")
    assert groups.relation == RelationKey("public", "billig.ticket_group")


def test_a_quoted_schema_in_db_table_reaches_schema_billig(site):
    keys = {m.name: m.relation for m in site.models()}
    assert keys["BilligEvent"] == RelationKey("billig", "event_lim_web")
    assert keys["BilligPriceGroup"] == RelationKey("billig", "price_group")


def test_datetime_fields_read_naive_timestamps(site):
    event = relation(site, "billig", "event_lim_web")
    assert event.column("sale_from").type == "timestamp without time zone"
    assert event.column("event_time").type == "timestamp without time zone"


def test_char_fields_read_character_varying_of_their_length(site):
    assert relation(site, "billig", "event_lim_web").column("event_name").type == (
        "character varying(140)"
    )
    assert relation(site, "billig", "purchase").column("owner_email").type == (
        "character varying(254)"
    )


def test_nullability_is_what_the_fields_require(site):
    groups = relation(site, "public", "billig.ticket_group")
    assert groups.column("ticket_limit").nullable is True
    assert groups.column("num").nullable is False


def test_python_defaults_are_no_database_defaults(site):
    groups = relation(site, "public", "billig.ticket_group")
    assert groups.column("is_theater_ticket_group").default is None


def test_foreign_keys_between_unmanaged_models_are_not_required_constraints(site):
    assert all(not rel.foreign_keys for rel in site.catalog())
    lineage = site.lineage()
    ref = ("public", "billig.ticket_group", "event")
    assert "BilligTicketGroup.event" in lineage[ref].models


def test_primary_keys_are_the_mapped_ones(site):
    assert relation(site, "billig", "price_group").primary_key == ("price_group",)
    assert relation(site, "billig", "payment_error").primary_key == ("error",)


@pytest.mark.parametrize(
    ("db_table", "expected"),
    [
        ("billig.ticket_group", ("public", "billig.ticket_group")),
        ('billig"."ticket_group', ("billig", "ticket_group")),
        ('"billig"."ticket_group"', ("billig", "ticket_group")),
        ("event", ("public", "event")),
        ("Event", ("public", "Event")),
    ],
)
def test_db_table_spellings_name_the_relation_django_queries(site, db_table, expected):
    from mirror.adapters.django.models import relation_key

    assert relation_key(db_table, site.connection) == RelationKey(*expected)
