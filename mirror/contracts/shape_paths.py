"""The flat view of a shape: one entry per data path of a serializer's JSON Schema.

``ticket_groups[].price_groups[].price`` names a value as the API nests it; its entry holds the
type, format and bounds that path declares and whether it is required. Shape differences are
compared over this view, and the privacy contract looks up every declared key in it.
``anyOf``/``oneOf`` branches merge into one entry, and ``allOf`` parts (drf-spectacular's
wrapping of a nested read-only serializer) are the node's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any


def flatten(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """One entry per data path: ``{"ticket_groups[].price_groups[].price": {"type": ...}}``.

    The root is ``"(root)"``; array items add ``[]``, values of free-form maps add ``{}``.
    """
    out: dict[str, dict[str, Any]] = {}

    def visit(node: Mapping[str, Any], path: str, required: bool | None) -> None:
        node = _all_of(node)
        branches = [_all_of(b) for b in node.get("anyOf", node.get("oneOf", [node]))]
        types: list[str] = []
        info: dict[str, Any] = {}
        for branch in branches:
            types.append(_type_name(branch))
            for key in ("format", "enum", "const", "minimum", "maximum", "pattern"):
                if key in branch:
                    info[key] = branch[key]
        entry: dict[str, Any] = {"type": "|".join(sorted(set(types))), **info}
        if required is not None:
            entry["required"] = required
        out[path or "(root)"] = entry
        for branch in branches:
            props = branch.get("properties", {})
            needed = set(branch.get("required", ()))
            for prop, sub in props.items():
                visit(sub, f"{path}.{prop}" if path else prop, prop in needed)
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict):
                visit(extra, f"{path}{{}}", None)
            if isinstance(branch.get("items"), dict):
                visit(branch["items"], f"{path}[]", None)

    visit(schema, "", None)
    return out


def _all_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with its ``allOf`` parts merged in (drf-spectacular wraps a nested read-only
    serializer as ``allOf: [{...}]``): their properties and required keys are the node's."""
    parts = node.get("allOf")
    if not isinstance(parts, list):
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in parts:
        part = _all_of(part) if isinstance(part, Mapping) else {}
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", ()), *value})
            else:
                merged.setdefault(key, value)
    return merged


def _type_name(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return "|".join(sorted(kind))
    if kind:
        return str(kind)
    if "const" in node:
        return "const"
    if "enum" in node:
        return "enum"
    return "any"


def declared_keys(schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (data path, key name) of properties declared anywhere in the schema."""
    for path in flatten(schema):
        if path == "(root)":
            continue
        name = re.split(r"[.]", path.replace("[]", "").replace("{}", ""))[-1]
        yield path, name
