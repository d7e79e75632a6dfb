"""Django lineage: model fields, serializer fields through nested serializers and properties,
endpoints from the URLconf."""

from __future__ import annotations

TG = ("public", "billig.ticket_group")


def usage(site, schema, relation, column):
    return site.lineage()[(schema, relation, column)]


def test_model_fields_read_their_db_column(site):
    assert usage(site, "billig", "price_group", "price").models == ("BilligPriceGroup.price",)
    assert usage(site, "billig", "event_lim_web", "event_name").models == ("BilligEvent.name",)


def test_serializer_fields_are_followed_through_nested_serializers(site):
    fields = usage(site, "billig", "price_group", "price").fields
    assert "EventSerializer.billig.ticket_groups[].price_groups[].price" in fields
    assert "TicketGroupSerializer.price_groups[].price" in fields


def test_properties_used_by_serializers_read_the_columns_behind_them(site):
    for column in ("num", "num_sold"):
        fields = usage(site, *TG, column).fields
        assert "TicketGroupSerializer.is_sold_out" in fields
        assert "TicketGroupSerializer.is_almost_sold_out" in fields
        assert "EventSerializer.billig.is_sold_out" in fields  # via the event's ticket groups


def test_serializer_methods_read_the_columns_they_use(site):
    for column in ("sale_from", "sale_to"):
        assert (
            "BilligEventSerializer.in_sale_period"
            in usage(site, "billig", "event_lim_web", column).fields
        )


def test_columns_no_serializer_emits_are_read_by_models_only(site):
    email = usage(site, "billig", "purchase", "owner_email")
    assert email.models == ("BilligPurchase.owner_email",)
    assert not email.fields and not email.endpoints


def test_endpoints_come_from_the_urlconf(site):
    endpoints = usage(site, "billig", "price_group", "price").endpoints
    assert endpoints == ("GET /api/events/", "GET /api/events/{pk}/")


def test_non_null_fields_require_not_null_and_nullable_ones_do_not(site):
    assert usage(site, "billig", "price_group", "price").requires_not_null
    assert not usage(site, *TG, "ticket_limit").requires_not_null


def test_pinned_serializers_are_those_reaching_billig(site):
    assert list(site.serializers) == [
        "BilligEventSerializer", "EventSerializer", "PaymentErrorSerializer",
        "PriceGroupSerializer", "TicketGroupSerializer",
    ]  # fmt: skip
    assert "EventListSerializer" not in site.serializers


def test_lineage_runs_site_code_without_any_query(site):
    # The example's "billig" alias names a server that is not there: a query would raise.
    from django.db import connections

    site.__dict__.pop("_lineage", None)
    assert site.lineage()
    assert connections["billig"].connection is None
