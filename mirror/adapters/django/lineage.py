"""Lineage of a Django site: which model fields, serializer fields and endpoints read a column.

Model fields read their ``db_column``. A DRF serializer field reads what its ``source`` reaches,
followed through nested serializers (``EventSerializer.billig.ticket_groups[].name``). A source
or ``SerializerMethodField`` that is code (a model property such as ``is_sold_out``) is run on
a *stand-in*: an object shaped like a model instance on which reading a field records its
column and returns a sample value, reading a relation records the join column and returns
stand-ins of the related model (:mod:`mirror.adapters.django.standins`).
Endpoints come from the URLconf: each view emitting a pinned serializer reads its columns.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mirror.adapters.django.standins import RelatedStandIn, StandIn, queries_blocked, reads_of
from mirror.catalog.model import ColumnRef, RelationKey, Usage

if TYPE_CHECKING:
    from django.db.models import Model
    from rest_framework.serializers import BaseSerializer

# --------------------------------------------------------------------------- serializers


@dataclass(frozen=True, slots=True)
class FieldReads:
    """One serializer field: its path, the columns it reads, whether it declares non-null."""

    path: str
    columns: frozenset[ColumnRef]
    requires_not_null: frozenset[ColumnRef] = frozenset()


def serializer_model(serializer: Any) -> type[Model] | None:
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


def _unwrap(field: Any) -> tuple[Any, bool]:
    from rest_framework.serializers import ListSerializer

    if isinstance(field, ListSerializer):
        return field.child, True
    return field, False


def serializer_reads(
    name: str,
    serializer_class: type[BaseSerializer[Any]],
    relations: Mapping[type[Model], RelationKey],
) -> list[FieldReads]:
    """Every output field of ``serializer_class`` (nested ones included) and what it reads."""
    out: list[FieldReads] = []
    model = serializer_model(serializer_class)
    if model is not None:
        with queries_blocked():
            _walk(serializer_class(), model, name, relations, out, ())
    return out


def _walk(
    serializer: Any,
    model: type[Model],
    prefix: str,
    relations: Mapping[type[Model], RelationKey],
    out: list[FieldReads],
    stack: tuple[type[Any], ...],
) -> None:
    from rest_framework.fields import SerializerMethodField
    from rest_framework.serializers import BaseSerializer

    if type(serializer) in stack:
        return  # a serializer nesting itself: its fields are already walked
    stack = (*stack, type(serializer))
    for name, bound in serializer.fields.items():
        if bound.write_only:
            continue
        child, many = _unwrap(bound)
        path = f"{prefix}.{name}"
        direct: set[ColumnRef] = set()
        if isinstance(bound, SerializerMethodField):
            method = getattr(serializer, bound.method_name)
            columns, _ = reads_of(relations, model, method)
        elif bound.source == "*":
            columns, _ = reads_of(relations, model, child.to_representation)
        else:
            attrs = list(bound.source_attrs)
            columns, _ = reads_of(relations, model, functools.partial(_follow, attrs))
            direct = _direct_column(relations, model, attrs)
        if columns or direct:
            not_null = frozenset(direct) if not getattr(bound, "allow_null", False) else frozenset()
            out.append(FieldReads(path, frozenset(columns | direct), not_null))
        if isinstance(child, BaseSerializer):
            nested = serializer_model(child)
            if nested is not None:
                _walk(child, nested, path + ("[]" if many else ""), relations, out, stack)


def _follow(attrs: Sequence[str], obj: Any) -> Any:
    for attr in attrs:
        obj = getattr(obj, attr)
        if callable(obj) and not isinstance(obj, (StandIn, RelatedStandIn)):
            obj = obj()
    return obj


def _direct_column(
    relations: Mapping[type[Model], RelationKey], model: type[Model], attrs: Sequence[str]
) -> set[ColumnRef]:
    """The column a source names outright (``price``, ``ticket_group.name``), if any."""
    from django.core.exceptions import FieldDoesNotExist

    current = model
    for i, attr in enumerate(attrs):
        try:
            found = current._meta.get_field(attr)
        except FieldDoesNotExist:
            return set()
        last = i == len(attrs) - 1
        if last and getattr(found, "column", None) and not found.is_relation:
            key = relations.get(current)
            return {ColumnRef(key.schema, key.name, found.column)} if key else set()
        if not (found.many_to_one or found.one_to_one) or found.related_model is None:
            return set()
        current = found.related_model
    return set()


def reaches_billig(
    serializer_class: type[Any], relations: Mapping[type[Model], RelationKey]
) -> bool:
    """Whether the serializer, or one it nests, is a serializer of a Billig model."""
    from rest_framework.serializers import BaseSerializer

    def visit(serializer: Any, seen: tuple[type[Any], ...]) -> bool:
        if serializer_model(serializer) in relations:
            return True
        if type(serializer) in seen or not hasattr(serializer, "fields"):
            return False
        for bound in serializer.fields.values():
            child, _ = _unwrap(bound)
            if isinstance(child, BaseSerializer) and visit(child, (*seen, type(serializer))):
                return True
        return False

    try:
        return visit(serializer_class(), ())
    except Exception:  # a serializer that cannot be built without arguments is not ours
        return False


# --------------------------------------------------------------------------- models and all


@dataclass(frozen=True, slots=True)
class ModelReads:
    """The model fields reading one column, whether one declares it non-null, and the only
    values they allow (None: any)."""

    names: tuple[str, ...] = ()
    not_null: bool = False
    choices: tuple[str | int, ...] | None = None

    def add(self, name: str, not_null: bool, choices: tuple[str | int, ...] | None) -> ModelReads:
        if choices is None:
            choices = self.choices
        elif self.choices is not None:
            # A value breaks a reader when that reader does not allow it: keep what all allow.
            kept = set(choices)
            choices = tuple(v for v in self.choices if v in kept)
        return ModelReads((*self.names, name), self.not_null or not_null, choices)


def model_reads(
    models: Sequence[type[Model]], relations: Mapping[type[Model], RelationKey]
) -> dict[ColumnRef, ModelReads]:
    """Per column: the model fields reading it (``BilligPriceGroup.price``), whether one of
    them declares it non-null, and the values their ``choices`` allow."""
    from mirror.adapters.django.models import allowed_values, concrete_fields

    out: dict[ColumnRef, ModelReads] = {}
    for model in models:
        key = relations[model]
        for f in concrete_fields(model):
            ref = ColumnRef(key.schema, key.name, f.column)
            name = f"{model.__name__}.{f.name}"
            out[ref] = out.get(ref, ModelReads()).add(name, not f.null, allowed_values(f))
    return out


def endpoint_serializers(urlconf: str, pinned: Mapping[type[Any], str]) -> dict[str, list[str]]:
    """``"GET /api/events/"`` → names of the pinned serializers that endpoint emits (a
    ``DELETE`` answers without a body: it emits none)."""
    from rest_framework.schemas.generators import EndpointEnumerator

    out: dict[str, list[str]] = {}
    for path, method, callback in EndpointEnumerator(urlconf=urlconf).get_api_endpoints():
        if method == "DELETE":
            continue
        view = getattr(callback, "cls", None)
        serializer = getattr(view, "serializer_class", None)
        if serializer is not None and serializer in pinned:
            out.setdefault(f"{method} {path}", []).append(pinned[serializer])
    return out


def site_lineage(
    models: Sequence[type[Model]],
    relations: Mapping[type[Model], RelationKey],
    serializers: Mapping[str, type[Any]],
    endpoints: Mapping[str, Sequence[str]],
) -> dict[ColumnRef, Usage]:
    """Lineage of every Billig column the site reads: models, serializer fields, endpoints.

    An endpoint reads every column behind the fields of the serializers it emits (a field path
    starts with its serializer's name).
    """
    emitted_by: dict[str, set[str]] = {}
    for endpoint, names in endpoints.items():
        for name in names:
            emitted_by.setdefault(name, set()).add(endpoint)
    by_model = model_reads(models, relations)
    fields: dict[ColumnRef, set[str]] = {}
    not_null: set[ColumnRef] = {ref for ref, reads in by_model.items() if reads.not_null}
    for name, serializer in serializers.items():
        for reads in serializer_reads(name, serializer, relations):
            for ref in reads.columns:
                fields.setdefault(ref, set()).add(reads.path)
            not_null |= reads.requires_not_null
    lineage: dict[ColumnRef, Usage] = {}
    for ref in sorted(set(by_model) | set(fields)):
        paths = sorted(fields.get(ref, ()))
        reached = {e for path in paths for e in emitted_by.get(path.split(".", 1)[0], ())}
        model = by_model.get(ref, ModelReads())
        lineage[ref] = Usage(
            models=tuple(sorted(model.names)),
            fields=tuple(paths),
            endpoints=tuple(sorted(reached)),
            requires_not_null=ref in not_null,
            choices=model.choices,
        )
    return lineage
