"""A site source whose every answer is checked: site code that raises, or returns a value of the
wrong type (keys and values: a lineage keyed by ``"billig.event.name"`` strings would pin
nothing and pass), is a :class:`~mirror.sources.user_code.SiteError` naming the method, raised
before the harness uses the value."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from mirror.catalog.model import Catalog, Column, ColumnRef, Relation, RelationKey, Usage
from mirror.sources.site import ApiExchange, QueryRun, SiteModel, SiteSource
from mirror.sources.user_code import SiteError, user_code

T = TypeVar("T")


class CheckedSite:
    """A site source whose every answer is checked: site code that raises or returns a value
    of the wrong type is a :class:`SiteError` naming the method."""

    def __init__(self, inner: SiteSource, label: str) -> None:
        self.inner = inner
        self.label = label
        self.name = _text(_attr(inner, "name"), f"{label}: name")
        self.models_file = _text(_attr(inner, "models_file"), f"{label}: models_file")
        forbidden = _attr(inner, "forbidden_fields")
        self.forbidden_fields = frozenset(
            _texts(forbidden, f"{label}: forbidden_fields", "a set of field names")
        )

    def __getattr__(self, name: str) -> Any:
        # Optional capabilities (``serving``) and extras of the site pass through.
        return getattr(self.inner, name)

    def _call(self, method: str, check: Callable[[Any, str], T], *args: Any, **kw: Any) -> T:
        what = f"{self.label}: {method}()"
        with user_code(what):
            value = getattr(self.inner, method)(*args, **kw)
        return check(value, what)

    def catalog(self) -> Catalog:
        return self._call("catalog", _catalog)

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        return self._call("lineage", _lineage)

    def models(self) -> Sequence[SiteModel]:
        return self._call("models", _site_models)

    def shapes(self) -> Mapping[str, Mapping[str, Any]]:
        return self._call("shapes", _shapes)

    def model_field(self, attribute: str, column: Column, **flags: bool) -> str:
        return self._call("model_field", _text, attribute, column, **flags)

    def table_name(self, model: SiteModel, key: RelationKey) -> list[str]:
        return self._call("table_name", _lines, model, key)

    def relation_kind(self, model: SiteModel, relation: Relation) -> list[str] | None:
        """Optional: the model lines for a relation whose kind production changed (a table
        that became a view); None where the site has no such capability."""
        if not hasattr(self.inner, "relation_kind"):
            return None
        return self._call("relation_kind", _optional(_lines), model, relation)

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        return self._call("observe", _optional(_outputs), database, now)

    def queries(
        self, database: str, now: datetime, sizes: Sequence[int]
    ) -> Mapping[str, Sequence[QueryRun]] | None:
        """Optional (see :class:`~mirror.sources.site.QueriedSite`): None where the site has no
        such capability."""
        if not hasattr(self.inner, "queries"):
            return None
        return self._call("queries", _optional(_query_runs), database, now, sizes)

    def openapi(self) -> Mapping[str, Any] | None:
        return self._call("openapi", _optional(_document))

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        return self._call("api_exchanges", _optional(_exchanges), database, now)


def _attr(source: Any, name: str) -> Any:
    with user_code(f"site attribute {name!r}"):
        return getattr(source, name)


def _wrong(what: str, value: Any, expected: str) -> SiteError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return SiteError(f"{what} returned {type(value).__name__} {shown}: expected {expected}")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _wrong(what, value, "a string")
    return value


def _texts(value: Any, what: str, expected: str) -> list[str]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Collection):
        raise _wrong(what, value, expected)
    for item in value:
        if not isinstance(item, str):
            raise _wrong(what, item, f"{expected} (strings only)")
    return list(value)


def _lines(value: Any, what: str) -> list[str]:
    return _texts(value, what, "a list of lines")


def _optional(check: Callable[[Any, str], T]) -> Callable[[Any, str], T | None]:
    return lambda value, what: None if value is None else check(value, what)


def _mapping(value: Any, what: str, expected: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise _wrong(what, value, expected)
    return value


def _column_ref(key: Any, what: str) -> ColumnRef:
    if isinstance(key, tuple) and len(key) == 3 and all(isinstance(p, str) for p in key):
        return ColumnRef(*key)
    raise _wrong(what, key, "ColumnRef(schema, relation, column) keys")


def _usage(value: Any, what: str) -> Usage:
    if not isinstance(value, Usage):
        raise _wrong(what, value, "Usage values")
    for part in (value.models, value.fields, value.endpoints):
        _texts(part, what, "Usage of tuples of names")
    if not isinstance(value.requires_not_null, bool):
        raise _wrong(what, value.requires_not_null, "Usage.requires_not_null a bool")
    choices = value.choices
    if choices is not None and not (
        isinstance(choices, tuple)
        and all(isinstance(v, str | int) and not isinstance(v, bool) for v in choices)
        and len(set(choices)) == len(choices)
    ):
        raise _wrong(what, choices, "Usage.choices None or a tuple of distinct strings or integers")
    return value


def _lineage(value: Any, what: str) -> dict[ColumnRef, Usage]:
    expected = "a mapping of ColumnRef to Usage"
    items = _mapping(value, what, expected).items()
    return {_column_ref(key, what): _usage(usage, what) for key, usage in items}


def _relation_key(key: Any, what: str) -> RelationKey:
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(p, str) for p in key):
        return RelationKey(*key)
    raise _wrong(what, key, "RelationKey(schema, name) keys")


def _relation(value: Any, what: str) -> Relation:
    if not isinstance(value, Relation):
        raise _wrong(what, value, "Relation values")
    _relation_key(value.key, what)
    for column in value.columns:
        if not (
            isinstance(column, Column)
            and isinstance(column.name, str)
            and isinstance(column.type, str)
            and isinstance(column.nullable, (bool, type(None)))
        ):
            raise _wrong(what, column, "Column(name, type, nullable) columns")
    _texts(value.primary_key, what, "a primary key of column names")
    return value


def _catalog(value: Any, what: str) -> Catalog:
    if not isinstance(value, Catalog):
        raise _wrong(what, value, "a Catalog")
    relations = _mapping(value.relations, what, "Catalog.relations, a mapping")
    for key, relation in relations.items():
        if _relation_key(key, what) != _relation(relation, what).key:
            raise _wrong(what, key, f"the key of its relation {relation.key!r}")
    if value.lineage is not None:
        _lineage(value.lineage, what)
    return value


def _site_models(value: Any, what: str) -> list[SiteModel]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise _wrong(what, value, "a list of SiteModel")
    for model in value:
        if not isinstance(model, SiteModel) or not isinstance(model.name, str):
            raise _wrong(what, model, "SiteModel items")
        _relation_key(model.relation, what)
        columns = _mapping(model.columns, what, "SiteModel.columns, a mapping")
        for column, read in columns.items():
            if not (
                isinstance(column, str)
                and isinstance(read, tuple)
                and len(read) == 2
                and isinstance(read[0], str)
                and isinstance(read[1], bool)
            ):
                raise _wrong(what, {column: read}, "SiteModel.columns of name → (attribute, bool)")
    return list(value)


def _json(value: Any, what: str, expected: str) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SiteError(f"{what} returned {expected} that is not JSON: {exc}") from None
    return value


def _shapes(value: Any, what: str) -> Mapping[str, Mapping[str, Any]]:
    for name, shape in _mapping(value, what, "a mapping of serializer names").items():
        _text(name, what)
        _mapping(shape, what, "JSON Schema objects")
    return _json(value, what, "a shape")


def _outputs(value: Any, what: str) -> Mapping[str, Sequence[Any]]:
    for name, items in _mapping(value, what, "a mapping of serializer names to lists").items():
        _text(name, what)
        if not isinstance(items, (list, tuple)):
            raise _wrong(what, items, f"a list of outputs for {name!r}")
    return _json(value, what, "output")


def _query_runs(value: Any, what: str) -> Mapping[str, Sequence[QueryRun]]:
    for name, runs in _mapping(value, what, "a mapping of serializer names to lists").items():
        _text(name, what)
        if isinstance(runs, (str, Mapping)) or not isinstance(runs, Sequence):
            raise _wrong(what, runs, f"a list of QueryRun for {name!r}")
        for run in runs:
            if not (
                isinstance(run, QueryRun)
                and type(run.objects) is int
                and type(run.other) is int
                and isinstance(run.billig, (tuple, list))
            ):
                raise _wrong(what, run, "QueryRun(objects, billig, other) items")
            _texts(run.billig, what, "QueryRun.billig, statements")
    return value


def _document(value: Any, what: str) -> Mapping[str, Any]:
    _mapping(value, what, "an OpenAPI document (a mapping)")
    return _json(value, what, "a document")


def _exchanges(value: Any, what: str) -> Sequence[ApiExchange]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise _wrong(what, value, "a list of ApiExchange")
    for exchange in value:
        if not isinstance(exchange, ApiExchange):
            raise _wrong(what, exchange, "ApiExchange items")
    return value
