"""Serializer shape snapshots: normalized JSON Schema, compact diffs, forbidden keys, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, create_model

from examples.fastapi_site import serializers
from examples.fastapi_site.source import SITE
from mirror.contracts import shapes
from mirror.contracts.shapes import (
    ShapeSnapshot,
    diff_snapshots,
    flatten,
    forbidden_in_schema,
    load_shape,
    normalize_schema,
    observed_problems,
)
from mirror.errors import ContractError

FORBIDDEN_KEYS = tuple(sorted(SITE.forbidden_fields))


def declared_schema(model: type[BaseModel]) -> dict[str, Any]:
    return normalize_schema(model.model_json_schema(mode="serialization"))


def snapshot_of(name: str, model: type[BaseModel]) -> ShapeSnapshot:
    """The snapshot the reference site's source pins for serializer ``model``."""
    return shapes.snapshot_of(name, model.model_json_schema(mode="serialization"), FORBIDDEN_KEYS)


def billig_event_with(
    *, price_group: dict[str, Any] | None = None, ticket_group: dict[str, Any] | None = None
) -> type[BaseModel]:
    """The BilligEvent serializer with some nested fields redefined (a deliberate mutation)."""
    price = create_model("PriceGroup", __base__=serializers.PriceGroup, **(price_group or {}))
    group = create_model(
        "TicketGroup",
        __base__=serializers.TicketGroup,
        price_groups=(list[price], ...),  # type: ignore[valid-type]
        **(ticket_group or {}),
    )
    return create_model(
        "BilligEvent",
        __base__=serializers.BilligEvent,
        ticket_groups=(list[group], ...),  # type: ignore[valid-type]
    )


PINNED = snapshot_of("BilligEvent", serializers.BilligEvent)


def test_declared_schema_is_inlined_and_strict() -> None:
    schema = declared_schema(serializers.Event)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    assert '"title": "' not in text  # the keyword; Event has a *property* named title

    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if "properties" in node:
                found.append(node)
            for sub in node.values():
                found += objects(sub)
        elif isinstance(node, list):
            for sub in node:
                found += objects(sub)
        return found

    assert len(objects(schema)) == 4  # Event, BilligEvent, TicketGroup, PriceGroup
    for node in objects(schema):
        assert node["required"] == sorted(node["properties"])
        assert node["additionalProperties"] is False


def test_snapshot_text_does_not_depend_on_field_order() -> None:
    class A(BaseModel):
        x: int
        y: str | None

    class B(BaseModel):
        y: str | None
        x: int

    assert snapshot_of("S", A).dump() == snapshot_of("S", B).dump()
    assert snapshot_of("S", A).dump().endswith("}\n")


def test_flat_view_names_data_paths() -> None:
    flat = flatten(PINNED.schema)
    assert flat["ticket_groups[].price_groups[].price"] == {"type": "integer", "required": True}
    assert flat["ticket_groups[].ticket_limit"] == {"type": "integer|null", "required": True}
    assert flat["sale_from"]["format"] == "date-time"


def test_changed_field_type_is_one_line_with_its_path() -> None:
    changed = snapshot_of("BilligEvent", billig_event_with(price_group={"price": (str, ...)}))
    assert diff_snapshots(PINNED, changed) == [
        "~ ticket_groups[].price_groups[].price: type integer → string"
    ]


def test_field_that_becomes_nullable_is_reported() -> None:
    changed = snapshot_of(
        "BilligEvent", billig_event_with(price_group={"price": (int | None, ...)})
    )
    assert diff_snapshots(PINNED, changed) == [
        "~ ticket_groups[].price_groups[].price: type integer → integer|null"
    ]


def test_renamed_field_is_a_removal_and_an_addition() -> None:
    fields = {k: (v.annotation, ...) for k, v in serializers.PriceGroup.model_fields.items()}
    fields["title"] = fields.pop("name")
    renamed = create_model("PriceGroup", **fields)  # type: ignore[call-overload]
    assert diff_snapshots(
        snapshot_of("PriceGroup", serializers.PriceGroup), snapshot_of("PriceGroup", renamed)
    ) == ["- name (string, required)", "+ title (string, required)"]


def test_removed_nested_list_is_folded_into_one_line() -> None:
    fields = {
        k: (v.annotation, ...)
        for k, v in serializers.TicketGroup.model_fields.items()
        if k != "price_groups"
    }
    group = create_model("TicketGroup", **fields)  # type: ignore[call-overload]
    event = create_model(
        "BilligEvent", __base__=serializers.BilligEvent, ticket_groups=(list[group], ...)
    )  # type: ignore[valid-type]
    assert diff_snapshots(PINNED, snapshot_of("BilligEvent", event)) == [
        "- ticket_groups[].price_groups (array, required, with 7 nested)"
    ]


def test_unpinning_a_forbidden_key_is_a_difference() -> None:
    loosened = ShapeSnapshot(
        "BilligEvent", PINNED.schema, tuple(k for k in FORBIDDEN_KEYS if k != "owner_email")
    )
    assert diff_snapshots(PINNED, loosened) == [
        "forbidden: - owner_email (no longer pinned as forbidden)"
    ]


def test_forbidden_keys_are_the_integration_layers() -> None:
    assert set(FORBIDDEN_KEYS) == set(serializers.FORBIDDEN_FIELDS)
    assert {"num", "num_sold", "owner_email", "owner_member_id", "owner_cardno"} <= set(
        FORBIDDEN_KEYS
    )


def test_a_declared_forbidden_key_is_found_at_any_depth() -> None:
    # Plain pydantic: the integration layer's base class would refuse this at class creation.
    class Price(BaseModel):
        id: int
        num_sold: int

    class Group(BaseModel):
        price_groups: list[Price]

    snapshot = snapshot_of("Group", Group)
    assert forbidden_in_schema(snapshot) == [
        "price_groups[].num_sold: forbidden key 'num_sold' is declared (never public)"
    ]
    assert forbidden_in_schema(PINNED) == []


# --------------------------------------------------------------------------- observed output


def _event(**changes: Any) -> dict[str, Any]:
    price = {
        "id": 1,
        "name": "Student",
        "can_be_put_on_card": True,
        "membership_needed": False,
        "netsale": True,
        "price": 100,
    }
    group = {
        "id": 1,
        "name": "Main",
        "is_sold_out": False,
        "is_almost_sold_out": False,
        "ticket_limit": None,
        "price_groups": [price, dict(price, id=2)],
    }
    event = {
        "id": 1,
        "name": "Revy",
        "ticket_groups": [group],
        "sale_from": "2024-01-01T00:00:00+01:00",
        "sale_to": "2024-02-01T00:00:00+01:00",
        "in_sale_period": True,
        "is_almost_sold_out": False,
        "is_sold_out": False,
    }
    event.update(changes)
    return event


def test_valid_output_has_no_problems() -> None:
    assert observed_problems(PINNED, [_event(), _event(id=2, ticket_groups=[])]) == []


def test_wrong_nested_type_is_reported_with_the_concrete_path() -> None:
    bad = _event()
    bad["ticket_groups"][0]["price_groups"][1]["price"] = "100"
    assert observed_problems(PINNED, [_event(), bad], label="BilligEvent") == [
        "BilligEvent[1].ticket_groups[0].price_groups[1].price: '100' is not of type 'integer'"
    ]


def test_forbidden_key_in_output_is_reported_even_when_nested() -> None:
    leaky = _event()
    leaky["ticket_groups"][0]["num_sold"] = 3
    problems = observed_problems(PINNED, [leaky])
    assert "[0].ticket_groups[0].num_sold: forbidden key in output (never public)" in problems
    assert any("'num_sold' was unexpected" in p for p in problems)


def test_the_same_defect_in_many_items_is_reported_once() -> None:
    items = [_event(id=i, ticket_groups="none") for i in range(50)]
    assert observed_problems(PINNED, items) == ["[0].ticket_groups: 'none' is not of type 'array'"]


# --------------------------------------------------------------------------- snapshot files


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    return path


def test_snapshot_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "BilligEvent.json"
    path.write_text(PINNED.dump())
    assert load_shape(path) == PINNED


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(serializer="Other"), "$.serializer: serializer 'Other' does not match"),
        (lambda d: d.update(extra=1), "$.extra: unknown key 'extra'"),
        (lambda d: d.update(forbidden="num"), "$.forbidden: expected an array of key names"),
        (
            lambda d: d["schema"]["properties"]["id"].update(type=5),
            "$.schema.properties.id.type: not a valid JSON Schema",
        ),
        (lambda d: d.update(format_version=0), "$.format_version: unsupported format_version 0"),
    ],
    ids=["name", "unknown-key", "forbidden-type", "invalid-schema", "version"],
)
def test_hand_edited_snapshot_errors_are_located(tmp_path: Path, edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = PINNED.to_json()
    data["schema"] = json.loads(json.dumps(data["schema"]))
    edit(data)
    path = _write(tmp_path, "BilligEvent", data)
    with pytest.raises(ContractError) as info:
        load_shape(path)
    assert str(info.value).startswith(f"{path}:")
    assert expected in str(info.value)
