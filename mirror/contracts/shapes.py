"""Serializer shapes: the JSON Schema of each serializer's output, pinned as a snapshot.

A shape is the pydantic serialization schema of a serializer, normalized so that it changes only
when the JSON the API emits changes: ``$ref`` inlined, titles, descriptions and defaults dropped,
``anyOf`` branches sorted, every property required (a dump always emits every field) and no
undeclared keys. Each snapshot also pins the privacy contract: the ``forbidden`` keys
that must never appear, at any depth, in the declared schema or in real output. Differences are
rendered by deepdiff over a flat view of the schema (one entry per data path, such as
``ticket_groups[].price_groups[].price``), one compact line per change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from mirror.contracts.shape_paths import declared_keys, flatten
from mirror.sources.contract_file import FORMAT_VERSION, read_json
from mirror.sources.json_locator import JsonDocument, dump_json, json_path

SHAPES_DIR = "shapes"

# JSON Schema keywords that describe documentation or input, not the shape of output.
_DROPPED_KEYWORDS = frozenset(
    {"title", "description", "default", "examples", "readOnly", "writeOnly", "deprecated"}
)


@dataclass(frozen=True)
class ShapeSnapshot:
    """One serializer's pinned shape: normalized JSON Schema and the forbidden keys."""

    serializer: str
    schema: Mapping[str, Any]
    forbidden: tuple[str, ...] = ()  # keys never allowed in output; the site source names them

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "serializer": self.serializer,
            "forbidden": sorted(self.forbidden),
            "schema": self.schema,
        }

    def dump(self) -> str:
        return dump_json(self.to_json())


# --------------------------------------------------------------------------- declared shapes


def snapshot_of(name: str, schema: Mapping[str, Any], forbidden: Iterable[str]) -> ShapeSnapshot:
    """The snapshot of serializer ``name`` from the JSON Schema of its output."""
    return ShapeSnapshot(name, normalize_schema(schema), tuple(sorted(forbidden)))


def normalize_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Inline ``$ref``s and drop everything that is not shape; deterministic for equal shapes."""
    defs: Mapping[str, Any] = schema.get("$defs", {})

    def resolve(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            name = ref.rsplit("/", 1)[-1]
            if not ref.startswith("#/$defs/") or name not in defs:
                raise ValueError(f"unresolvable $ref {ref!r}")
            if name in stack:
                raise ValueError(f"recursive serializer shape through {name}")
            merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
            return resolve(merged, (*stack, name))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED_KEYWORDS or key == "$defs":
                continue
            if key == "properties":
                out[key] = {prop: resolve(sub, stack) for prop, sub in value.items()}
            else:
                out[key] = resolve(value, stack)
        if "anyOf" in out:
            out["anyOf"] = sorted(out["anyOf"], key=lambda b: json.dumps(b, sort_keys=True))
        if "properties" in out:
            # A dump emits every field, and nothing else unless the model says so.
            out["required"] = sorted(out["properties"])
            out.setdefault("additionalProperties", False)
        return out

    return dict(resolve(dict(schema), ()))


def forbidden_in_schema(snapshot: ShapeSnapshot) -> list[str]:
    """Lines naming each forbidden key the schema declares (the privacy contract)."""
    forbidden = set(snapshot.forbidden)
    return [
        f"{path}: forbidden key {name!r} is declared (never public)"
        for path, name in declared_keys(snapshot.schema)
        if name in forbidden
    ]


# --------------------------------------------------------------------------- diff rendering


def diff_snapshots(expected: ShapeSnapshot, actual: ShapeSnapshot) -> list[str]:
    """Compact lines describing how ``actual`` differs from ``expected`` (empty: equal)."""
    lines = diff_schemas(expected.schema, actual.schema)
    before, after = set(expected.forbidden), set(actual.forbidden)
    for key in sorted(before - after):
        lines.append(f"forbidden: - {key} (no longer pinned as forbidden)")
    for key in sorted(after - before):
        lines.append(f"forbidden: + {key}")
    return lines


def diff_schemas(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """One line per changed data path, via deepdiff over the flat views of both schemas:
    ``- path (type)`` removed, ``+ path (type)`` added, ``~ path: attribute old → new`` changed;
    paths below an added or removed path are folded into it."""
    old, new = flatten(expected), flatten(actual)
    if old == new:  # the common case: no structural diff to compute (nor its library to load)
        return []
    from deepdiff import DeepDiff

    diff = DeepDiff(old, new, view="tree", ignore_order=True)
    removed = sorted(
        level.path(output_format="list")[0] for level in diff.get("dictionary_item_removed", [])
    )
    added = sorted(
        level.path(output_format="list")[0] for level in diff.get("dictionary_item_added", [])
    )
    lines: list[str] = []
    lines += _fold("-", removed, old)
    lines += _fold("+", added, new)
    changed: list[tuple[str, str]] = []
    for report in ("values_changed", "type_changes"):
        for level in diff.get(report, []):
            parts = level.path(output_format="list")
            attr = ".".join(str(p) for p in parts[1:])
            changed.append(
                (
                    parts[0],
                    f"~ {parts[0]}: {attr} {_show(level.t1)} → {_show(level.t2)}",
                )
            )
    for report in ("dictionary_item_added", "dictionary_item_removed"):
        # Attributes appearing or vanishing inside a path that exists on both sides.
        for level in diff.get(report, []):
            parts = level.path(output_format="list")
            if len(parts) < 2:
                continue
            attr = ".".join(str(p) for p in parts[1:])
            before = _show(level.t1) if report == "dictionary_item_removed" else "(none)"
            after = _show(level.t2) if report == "dictionary_item_added" else "(none)"
            changed.append((parts[0], f"~ {parts[0]}: {attr} {before} → {after}"))
    lines += [line for _, line in sorted(changed)]
    return lines


def _fold(sign: str, paths: list[str], flat: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = []
    roots = [p for p in paths if not any(_is_below(p, other) for other in paths if other != p)]
    for root in roots:
        nested = sum(1 for p in paths if _is_below(p, root))
        more = f", with {nested} nested" if nested else ""
        lines.append(f"{sign} {root} ({_describe(flat[root])}{more})")
    return lines


def _is_below(path: str, ancestor: str) -> bool:
    return path.startswith(ancestor) and path[len(ancestor) : len(ancestor) + 1] in (".", "[", "{")


def _describe(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("type", "any"))
    if "format" in entry:
        text += f", {entry['format']}"
    if entry.get("required"):
        text += ", required"
    return text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- observed output


def observed_problems(snapshot: ShapeSnapshot, output: Any, *, label: str = "") -> list[str]:
    """Lines for each way real ``output`` breaks the snapshot: schema errors, forbidden keys.

    ``output`` is what the API would send (``model_dump(mode="json")``): one object, or a list of
    them, each validated against the snapshot's schema.
    """
    items = output if isinstance(output, list) else [output]
    validator = jsonschema.Draft202012Validator(dict(snapshot.schema))
    lines: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(output, list) else ""
        problems = [leaf for e in validator.iter_errors(item) for leaf in _leaf_errors(e)]
        for path, defect, message in sorted(problems):
            key = f"{_generic(path)}: {defect}"
            if key in seen:  # the same defect in every item is reported once
                continue
            seen.add(key)
            lines.append(f"{_join(label, where, path)}: {_short(message)}")
        for path in forbidden_paths(item, frozenset(snapshot.forbidden)):
            if _generic(path) in seen:
                continue
            seen.add(_generic(path))
            lines.append(f"{_join(label, where, path)}: forbidden key in output (never public)")
    return lines


def _join(label: str, where: str, path: str) -> str:
    text = label + where
    if path:
        text += path if not text or path.startswith("[") else f".{path}"
    return text or "(root)"


def _leaf_errors(error: jsonschema.ValidationError) -> list[tuple[str, str, str]]:
    """(data path, defect, message) of the real defects.

    Under an ``anyOf``, the defects of the branch the value was meant for (the object branch of
    ``object | null`` for an object), not "matches none of the branches".
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [(json_path(error.absolute_path, root=""), _defect(error), error.message)]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    for subs in branches.values():
        if not any(sub.validator == "type" and not sub.relative_path for sub in subs):
            return [leaf for sub in subs for leaf in _leaf_errors(sub)]
    types = sorted(
        str(sub.validator_value)
        for sub in error.context
        if sub.validator == "type" and not sub.relative_path
    )
    value = _short(json.dumps(error.instance, default=str))
    message = f"{value} is not of type {' or '.join(types)}"
    return [(json_path(error.absolute_path, root=""), "type", message)]


def _defect(error: jsonschema.ValidationError) -> str:
    """What is wrong, without the offending value: equal defects in many items are one."""
    if error.validator in ("additionalProperties", "required"):
        return error.message  # names the key, not a value
    return f"{error.validator}: {error.validator_value}"


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= 160 else message[:157] + "..."


def forbidden_paths(value: Any, forbidden: frozenset[str], path: str = "") -> Iterator[str]:
    """The data path of every forbidden key anywhere in JSON ``value`` (below ``path``)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key in forbidden:
                yield here
            yield from forbidden_paths(sub, forbidden, here)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from forbidden_paths(sub, forbidden, f"{path}[{index}]")


# --------------------------------------------------------------------------- files


def shape_file(contracts_dir: Path, serializer: str) -> Path:
    return contracts_dir / SHAPES_DIR / f"{serializer}.json"


def load_shape(path: Path) -> ShapeSnapshot:
    """Read and validate a shape snapshot; errors name file, line and JSON path."""
    doc = read_json(path, what="shape snapshot")
    return parse_shape(doc)


def parse_shape(doc: JsonDocument) -> ShapeSnapshot:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "expected a JSON object")
    if "format_version" not in data:
        raise doc.error((), "missing key 'format_version'")
    version = data["format_version"]
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise doc.error(
            ("format_version",),
            f"unsupported format_version {json.dumps(version)} "
            f"(this harness reads {FORMAT_VERSION})",
        )
    allowed = {"format_version", "serializer", "forbidden", "schema"}
    for key in data:
        if key not in allowed:
            names = ", ".join(sorted(allowed))
            raise doc.error((key,), f"unknown key {key!r} (allowed: {names})", at_key=True)
    for key in sorted(allowed):
        if key not in data:
            raise doc.error((), f"missing key {key!r}")
    name = data["serializer"]
    if not isinstance(name, str) or not name:
        raise doc.error(("serializer",), "expected the serializer's name")
    if name != Path(doc.source).stem:
        raise doc.error(("serializer",), f"serializer {name!r} does not match the file name")
    forbidden = data["forbidden"]
    if not isinstance(forbidden, list):
        raise doc.error(("forbidden",), "expected an array of key names")
    for i, key in enumerate(forbidden):
        if not isinstance(key, str) or not key:
            raise doc.error(("forbidden", i), "expected a key name")
    schema = data["schema"]
    if not isinstance(schema, dict):
        raise doc.error(("schema",), "expected a JSON Schema object")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise doc.error(
            ("schema", *exc.absolute_path), f"not a valid JSON Schema: {_short(exc.message)}"
        ) from None
    return ShapeSnapshot(serializer=name, schema=schema, forbidden=tuple(sorted(forbidden)))
