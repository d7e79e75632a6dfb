"""Serializer shapes from drf-spectacular, made shapes of output."""

from __future__ import annotations

from mirror.contracts.shapes import flatten, normalize_schema


def flat(site, name):
    return flatten(normalize_schema(site.shapes()[name]))


def test_every_emitted_field_is_required_read_only_nullable_ones_too(site):
    shape = flat(site, "TicketGroupSerializer")
    assert shape["ticket_limit"] == {"type": "integer|null", "format": "int64", "required": True}
    assert shape["is_sold_out"]["required"] is True


def test_a_nullable_nested_serializer_is_an_object_or_null(site):
    shape = flat(site, "EventSerializer")
    assert shape["billig"]["type"] == "null|object"
    assert shape["billig.ticket_groups[].price_groups[].price"]["type"] == "integer"
    assert shape["ticket_type"]["required"] is True  # has a model default, still emitted


def test_no_shape_declares_a_forbidden_field(site):
    for name in site.shapes():
        leaves = {path.rsplit(".", 1)[-1].replace("[]", "") for path in flat(site, name)}
        assert not leaves & site.forbidden_fields, name
