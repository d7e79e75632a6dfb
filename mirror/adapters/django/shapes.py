"""Serializer shapes of a Django site, from drf-spectacular's components.

Each pinned serializer is put behind a throwaway read-only view so that drf-spectacular
describes it as a *response* (OpenAPI 3.1, whose schemas are JSON Schema). Its component becomes
a JSON Schema with ``$defs`` for the components it nests. Two corrections make it a shape of
output: every property the serializer emits is required (drf-spectacular leaves read-only
nullable fields and fields with defaults out of ``required``, yet every one of them is always
in the output), and ``oneOf`` of a nullable nested serializer becomes ``anyOf``. Bounds that
only validate input (``maximum``, ``maxLength`` ...) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mirror.errors import ConfigError

_COMPONENTS = "#/components/schemas/"
_DEFS = "#/$defs/"
# Input validation, not output shape.
_DROPPED = frozenset(
    {"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxLength", "minLength",
     "pattern", "multipleOf", "writeOnly"}
)  # fmt: skip


def _generator(**kwargs: Any) -> Any:
    """drf-spectacular's generator, describing every view with drf-spectacular's schema."""
    try:
        from drf_spectacular.generators import SchemaGenerator
        from drf_spectacular.openapi import AutoSchema
    except ImportError as exc:
        raise ConfigError(
            f"serializer shapes need drf-spectacular: pip install 'billig-harness[django]' ({exc})"
        ) from None

    class Generator(SchemaGenerator):
        def create_view(self, callback: Any, method: str, request: Any = None) -> Any:
            view = super().create_view(callback, method, request)
            # A view's own schema class (DRF's by default) cannot describe it for
            # drf-spectacular; ``schema = None`` views are never reached here.
            if not isinstance(getattr(view, "schema", None), AutoSchema):
                view.schema = AutoSchema()
            return view

    return Generator(**kwargs)


def _document(serializers: Mapping[str, type[Any]]) -> dict[str, Any]:
    from django.urls import path
    from rest_framework.generics import GenericAPIView
    from rest_framework.response import Response

    def get(self: Any, request: Any) -> Any:
        return Response()

    patterns = []
    for name, serializer in serializers.items():
        # Named so that drf-spectacular's warnings about the serializer ("[EventSerializer
        # (as billig pins it) > EventSerializer]: unable to resolve type hint ...") name no
        # class the project lacks.
        view: Any = type(
            f"{name} (as billig pins it)",
            (GenericAPIView,),
            {"serializer_class": serializer, "get": get},
        )
        patterns.append(path(f"{name}/", view.as_view()))
    generator = _generator(patterns=patterns)
    from drf_spectacular.settings import patched_settings

    custom = {"OAS_VERSION": "3.1.0", "COMPONENT_SPLIT_REQUEST": True, "ENUM_NAME_OVERRIDES": {}}
    with patched_settings(custom):
        schema: dict[str, Any] = generator.get_schema(request=None, public=True)
    return schema


def serializer_shapes(serializers: Mapping[str, type[Any]]) -> dict[str, dict[str, Any]]:
    """Serializer name → JSON Schema of its output (with ``$defs``)."""
    if not serializers:
        return {}
    doc = _document(serializers)
    components: Mapping[str, Any] = doc.get("components", {}).get("schemas", {})
    defs = {name: _output(schema) for name, schema in components.items()}
    out: dict[str, dict[str, Any]] = {}
    for name in serializers:
        operation = doc["paths"][f"/{name}/"]["get"]
        root = operation["responses"]["200"]["content"]["application/json"]["schema"]
        shape = _output(root)
        used = _reachable(shape, defs)
        if used:
            shape["$defs"] = {key: defs[key] for key in sorted(used)}
        out[name] = shape
    return out


def _output(node: Any) -> Any:
    if isinstance(node, list):
        return [_output(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENTS):
            out[key] = _DEFS + value[len(_COMPONENTS) :]
        elif key == "oneOf":
            out["anyOf"] = _output(value)
        elif key == "properties":
            out[key] = {prop: _output(sub) for prop, sub in value.items()}
        else:
            out[key] = _output(value)
    if "properties" in out:
        out["required"] = sorted(out["properties"])
    return out


def _reachable(shape: Any, defs: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_DEFS):
                name = ref[len(_DEFS) :]
                if name not in found and name in defs:
                    found.add(name)
                    visit(defs[name])
            for value in node.values():
                visit(value)

    visit(shape)
    return found


def openapi_document(urlconf: str) -> dict[str, Any]:
    """The site's OpenAPI document as drf-spectacular makes it for ``urlconf``."""
    schema: dict[str, Any] = _generator(urlconf=urlconf).get_schema(request=None, public=True)
    return schema
