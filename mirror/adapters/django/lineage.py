"""Lineage of a Django site: which model fields, serializer fields and endpoints read a column.

Model fields read their ``db_column``. A DRF serializer field reads what its ``source`` reaches,
followed through nested serializers (``EventSerializer.billig.ticket_groups[].name``). A source
or ``SerializerMethodField`` that is code (a model property such as ``is_sold_out``) is run on
a *stand-in*: an object shaped like a model instance on which reading a field records its
column and returns a sample value, reading a relation records the join column and returns
stand-ins of the related model. Each piece of code runs twice, with present and with empty
samples, to see both sides of its branches; code that fails on a sample keeps what it read
until then. No query can run meanwhile: connecting to any database raises. A model may
declare reads that code hides, as ``billig_reads = {"attribute": ("field", ...)}``.
Endpoints come from the URLconf: each view emitting a pinned serializer reads its columns.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mirror.catalog.model import ColumnRef, RelationKey, Usage

if TYPE_CHECKING:
    from django.db.models import Field, Model
    from rest_framework.serializers import BaseSerializer

# Attribute of a model class naming columns its code reads (attribute → field names).
DECLARED_READS = "billig_reads"
_MAX_DEPTH = 12  # code calling code: enough for real properties, a stop for recursion


class QueryBlocked(Exception):
    """Raised when code run for lineage tries to reach a database."""


@dataclass
class _Run:
    """One evaluation: the columns read so far, which samples to hand out, how deep we are."""

    relations: Mapping[type[Model], RelationKey]
    present: bool
    reads: set[ColumnRef] = field(default_factory=set)
    depth: int = 0

    def read(self, model: type[Model], column: str) -> None:
        key = self.relations.get(model)
        if key is not None:
            self.reads.add(ColumnRef(key.schema, key.name, column))


class StandIn:
    """An instance-shaped object of ``model`` that records the columns code reads from it."""

    __slots__ = ("_standin_model", "_standin_run")

    def __init__(self, model: type[Model], run: _Run) -> None:
        object.__setattr__(self, "_standin_model", model)
        object.__setattr__(self, "_standin_run", run)

    def __getattr__(self, name: str) -> Any:
        model: type[Model] = object.__getattribute__(self, "_standin_model")
        run: _Run = object.__getattribute__(self, "_standin_run")
        return _read_attribute(self, model, run, name)

    def __setattr__(self, name: str, value: Any) -> None:
        pass  # code caching on the instance: nothing to keep

    def __repr__(self) -> str:
        return f"<stand-in {object.__getattribute__(self, '_standin_model').__name__}>"


class RelatedStandIn:
    """A related manager or queryset of stand-ins: one object with present samples, none with
    empty ones."""

    def __init__(self, model: type[Model], run: _Run) -> None:
        self.model = model
        self._items = [StandIn(model, run)] if run.present else []

    def _same(self, *args: Any, **kwargs: Any) -> RelatedStandIn:
        return self

    all = filter = exclude = order_by = select_related = prefetch_related = _same
    using = distinct = only = defer = annotate = _same

    def __iter__(self) -> Iterator[StandIn]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __getitem__(self, index: Any) -> Any:
        return self._items[index]

    def count(self) -> int:
        return len(self._items)

    def exists(self) -> bool:
        return bool(self._items)

    def first(self) -> StandIn | None:
        return self._items[0] if self._items else None

    last = first

    def get(self, *args: Any, **kwargs: Any) -> StandIn:
        if not self._items:
            raise LookupError("no related object among the stand-ins")
        return self._items[0]


def _sample(field: Field[Any, Any], present: bool) -> Any:
    if not present and field.null:
        return None
    kind = field.get_internal_type()
    if kind in ("BooleanField", "NullBooleanField"):
        return present
    if kind.endswith(("IntegerField", "AutoField")) or kind in ("ForeignKey", "OneToOneField"):
        return 2 if present else 0
    if kind == "FloatField":
        return 2.0 if present else 0.0
    if kind == "DecimalField":
        return Decimal(2 if present else 0)
    if kind == "DateTimeField":
        return datetime(2000, 1, 2, 12) if present else datetime(2100, 1, 1)
    if kind == "DateField":
        return date(2000, 1, 2) if present else date(2100, 1, 1)
    if kind == "TimeField":
        return time(12) if present else time(0)
    if kind == "DurationField":
        return timedelta(days=1 if present else 0)
    if kind == "UUIDField":
        return uuid.UUID(int=1 if present else 0)
    if kind == "JSONField":
        return {"x": 1} if present else {}
    if kind == "BinaryField":
        return b"x" if present else b""
    return "x" if present else ""


def _read_attribute(standin: StandIn, model: type[Model], run: _Run, name: str) -> Any:
    from django.core.exceptions import FieldDoesNotExist

    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    if name in by_attname and by_attname[name].name != name:  # "event_id" of FK "event"
        concrete = by_attname[name]
        run.read(model, concrete.column)
        return _sample(concrete, run.present)
    try:
        found = opts.get_field(name)
    except FieldDoesNotExist:
        found = None
    if found is not None:
        return _read_field(model, run, found)
    declared = getattr(model, DECLARED_READS, {}).get(name)
    if declared:
        for field_name in declared:
            with contextlib.suppress(FieldDoesNotExist):
                run.read(model, opts.get_field(field_name).column)
    static = inspect.getattr_static(model, name, None)
    if isinstance(static, property) and static.fget is not None:
        return _run_code(run, static.fget, standin)
    if isinstance(static, functools.cached_property):
        return _run_code(run, static.func, standin)
    if inspect.isfunction(static):
        return functools.partial(_run_code, run, static, standin)
    return getattr(model, name)


def _read_field(model: type[Model], run: _Run, found: Any) -> Any:
    related = found.related_model
    if getattr(found, "column", None):  # a concrete field; for a foreign key, its column
        run.read(model, found.column)
        if found.many_to_one or found.one_to_one:
            return StandIn(related, run)
        return _sample(found, run.present)
    if found.one_to_many or found.many_to_many:  # reverse foreign key: joined on its column
        remote = getattr(found, "field", None)
        if remote is not None and getattr(remote, "column", None):
            run.read(related, remote.column)
        return RelatedStandIn(related, run)
    if found.one_to_one:
        remote = getattr(found, "field", None)
        if remote is not None and getattr(remote, "column", None):
            run.read(related, remote.column)
        return StandIn(related, run)
    return None


def _run_code(run: _Run, code: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if run.depth >= _MAX_DEPTH:
        raise RecursionError("code nested too deep on a stand-in")
    run.depth += 1
    try:
        return code(*args, **kwargs)
    finally:
        run.depth -= 1


@contextlib.contextmanager
def queries_blocked() -> Iterator[None]:
    """No connection to any database while site code runs on stand-ins."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    def blocked(self: Any, *args: Any, **kwargs: Any) -> None:
        raise QueryBlocked(f"code run for lineage tried to query database {self.alias!r}")

    saved = BaseDatabaseWrapper.ensure_connection
    BaseDatabaseWrapper.ensure_connection = blocked
    try:
        yield
    finally:
        BaseDatabaseWrapper.ensure_connection = saved


def reads_of(
    relations: Mapping[type[Model], RelationKey],
    model: type[Model],
    evaluate: Callable[[Any], Any],
) -> tuple[set[ColumnRef], list[Any]]:
    """Columns ``evaluate(stand-in of model)`` reads, over both samples, and its results."""
    reads: set[ColumnRef] = set()
    results: list[Any] = []
    for present in (True, False):
        run = _Run(relations, present)
        try:
            results.append(evaluate(StandIn(model, run)))
        except Exception:  # site code failing on a sample: what it read until then counts
            results.append(None)
        reads |= run.reads
    return reads, results


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


def model_reads(
    models: Sequence[type[Model]], relations: Mapping[type[Model], RelationKey]
) -> dict[ColumnRef, tuple[list[str], bool]]:
    """Per column: the model fields reading it (``BilligPriceGroup.price``), and whether one
    of them declares it non-null."""
    from mirror.adapters.django.models import concrete_fields

    out: dict[ColumnRef, tuple[list[str], bool]] = {}
    for model in models:
        key = relations[model]
        for f in concrete_fields(model):
            ref = ColumnRef(key.schema, key.name, f.column)
            names, not_null = out.get(ref, ([], False))
            names.append(f"{model.__name__}.{f.name}")
            out[ref] = (names, not_null or not f.null)
    return out


def endpoint_serializers(urlconf: str, pinned: Mapping[type[Any], str]) -> dict[str, list[str]]:
    """``"GET /api/events/"`` → names of the pinned serializers that endpoint emits."""
    from rest_framework.schemas.generators import EndpointEnumerator

    out: dict[str, list[str]] = {}
    for path, method, callback in EndpointEnumerator(urlconf=urlconf).get_api_endpoints():
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
    not_null: set[ColumnRef] = {ref for ref, (_, required) in by_model.items() if required}
    for name, serializer in serializers.items():
        for reads in serializer_reads(name, serializer, relations):
            for ref in reads.columns:
                fields.setdefault(ref, set()).add(reads.path)
            not_null |= reads.requires_not_null
    lineage: dict[ColumnRef, Usage] = {}
    for ref in sorted(set(by_model) | set(fields)):
        paths = sorted(fields.get(ref, ()))
        reached = {e for path in paths for e in emitted_by.get(path.split(".", 1)[0], ())}
        lineage[ref] = Usage(
            models=tuple(sorted(by_model.get(ref, ([], False))[0])),
            fields=tuple(paths),
            endpoints=tuple(sorted(reached)),
            requires_not_null=ref in not_null,
        )
    return lineage
