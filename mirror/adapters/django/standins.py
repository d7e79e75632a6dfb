"""Stand-ins: instance-shaped objects of a Django model that record the columns code reads.

A source or ``SerializerMethodField`` that is code (a model property such as ``is_sold_out``)
is run on a stand-in: reading a field records its column and returns a sample value, reading a
relation records the join column and returns stand-ins of the related model. Each piece of code
runs twice (:func:`reads_of`), with present and with empty samples, to see both sides of its
branches; code that fails on a sample keeps what it read until then. No query can run
meanwhile (:func:`queries_blocked`). A model may declare reads that code hides, as
``billig_reads = {"attribute": ("field", ...)}``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mirror.catalog.model import ColumnRef, RelationKey

if TYPE_CHECKING:
    from django.db.models import Field, Model

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
