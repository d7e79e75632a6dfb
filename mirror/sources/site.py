"""The site source: everything the harness needs from the site under contract, in one interface.

The harness never imports a site. It loads the object that ``[tool.billig] site`` names
(``"module:attribute"``, or ``"django"`` for the Django adapter) and asks it for the catalog its
models expect, the lineage of every Billig column it reads, its serializer shapes, and, where the
site has them, its OpenAPI document and real output on a seeded mirror. A site source is any
object with the attributes of :class:`SiteSource`; the optional capabilities return None when a
site has none.

Site code is user code: whatever it raises on import or when called (``sys.exit()`` included)
and whatever malformed value it returns is a :class:`SiteError` (exit 2) naming the module,
attribute or method and the exception. :func:`load_site` wraps the source in
:class:`CheckedSite`, which validates every value a method returns (keys and values: a lineage
keyed by ``"billig.event.name"`` strings would pin nothing and pass) before the harness uses it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from mirror.catalog.model import Catalog, Column, ColumnRef, Relation, RelationKey, Usage
from mirror.errors import ConfigError, HarnessError
from mirror.secrets import scrub

if TYPE_CHECKING:
    from mirror.config import Config

DJANGO_SOURCE = "mirror.adapters.django.source:from_config"
_DJANGO_PACKAGES = frozenset({"django", "rest_framework", "drf_spectacular"})


@dataclass(frozen=True, slots=True)
class SiteModel:
    """One model class of the site that reads a Billig relation.

    ``relation`` is the relation the site actually queries; ``columns`` maps each column name
    to the attribute (or field) reading it and whether the model declares it nullable.
    """

    name: str
    relation: RelationKey
    columns: Mapping[str, tuple[str, bool]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueryRun:
    """The statements one serialization of ``objects`` samples sent, as they left the client:
    to the Billig database (SQL with placeholders, never values) and, counted apart, to any
    other database of the site."""

    objects: int
    billig: tuple[str, ...]
    other: int = 0


@dataclass(frozen=True, slots=True)
class ApiExchange:
    """One request the site's app answered on the seeded mirror, for the OpenAPI check."""

    method: str
    template: str  # the operation's path as in the document
    label: str  # the request as sent, for messages
    status: int
    headers: Mapping[str, str]
    body: bytes


@runtime_checkable
class SiteSource(Protocol):
    """What the harness needs from a site (see the README, "Use it in your project")."""

    name: str  # a short label for messages: "reference site", "Django site"
    models_file: str  # where model changes go, shown by ``drift --suggest``
    forbidden_fields: frozenset[str]  # keys never allowed in output, at any depth

    def catalog(self) -> Catalog:
        """What the models expect: each relation as it will be queried, columns with types as
        read (canonical PostgreSQL spelling), NOT NULL only where a value is required, defaults
        unknown (None), primary keys as mapped, no foreign keys required."""
        ...

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        """Per Billig column: the models, serializer fields and endpoints that read it."""
        ...

    def models(self) -> Sequence[SiteModel]: ...

    def shapes(self) -> Mapping[str, Mapping[str, Any]]:
        """Serializer name → JSON Schema of its output (``$defs``/``$ref`` allowed)."""
        ...

    def model_field(
        self,
        attribute: str,
        column: Column,
        *,
        nullable: bool,
        primary_key: bool,
        server_default: bool,
    ) -> str:
        """The declaration of one model field in the site's framework, as production has it."""
        ...

    def table_name(self, model: SiteModel, key: RelationKey) -> list[str]:
        """The lines that make ``model`` read relation ``key``."""
        ...

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        """Real JSON output per serializer on the seeded mirror at ``database`` (a libpq URL);
        raises :class:`~mirror.errors.ObservationError` when site code fails on it."""
        ...

    def openapi(self) -> Mapping[str, Any] | None:
        """The site's OpenAPI document, or None without an API."""
        ...

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        """Requests covering every operation, answered by the app on the seeded mirror."""
        ...


class QueriedSite(SiteSource, Protocol):
    """A site source that can count the statements its serializers send (optional)."""

    def queries(
        self, database: str, now: datetime, sizes: Sequence[int]
    ) -> Mapping[str, Sequence[QueryRun]] | None:
        """Per serializer, one run per size in ``sizes``: the serializer given that many
        samples (fewer when the mirror has fewer) on the seeded mirror at ``database``."""
        ...


class ServedSite(SiteSource, Protocol):
    """A site source whose app ``billig serve`` can run (optional)."""

    def serving(
        self, database: str, site_database: str | None = None
    ) -> AbstractContextManager[tuple[Any, str]]:
        """The site's ASGI app over Billig at ``database`` and its own database, and how that
        database is shown; everything made for it is removed on exit."""
        ...


class SiteError(ConfigError):
    """Site code raised, exited, or returned a value the site source interface does not allow."""


def _described(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    detail = " ".join(str(exc).split())
    return f"raised {type(exc).__name__}" + (f": {scrub(detail)}" if detail else "")


@contextlib.contextmanager
def user_code(what: str) -> Iterator[None]:
    """Run site code: anything it raises but the harness's own errors and Ctrl-C (``SystemExit``
    and other ``BaseException`` included) becomes a :class:`SiteError` naming ``what``."""
    try:
        yield
    except (HarnessError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise SiteError(f"{what} {_described(exc)}") from exc


def import_user_module(name: str, what: str) -> ModuleType:
    """Import module ``name`` of the site (``what`` says which: "site", "URLconf" ...)."""
    with user_code(f"{what} module {name!r}"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
                raise SiteError(f"cannot import {what} module {name!r}: {exc}") from None
            raise


def load_site(config: Config) -> SiteSource | None:
    """The configured site source, checked (None when ``site`` is not set)."""
    if config.site is None:
        return None
    spec = DJANGO_SOURCE if config.site == "django" else config.site
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f'site = {config.site!r}: expected "module:attribute" or "django"')
    # The site's modules live in the project, which is rarely installed: import them from the
    # folder of the configuration, as ``python -m`` would from there (``billig`` runs from the
    # virtualenv's bin folder, which is what sys.path starts with).
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = import_user_module(module_name, "site")
    except SiteError as exc:
        missing = getattr(exc.__cause__, "name", None)
        if config.site == "django" and missing in _DJANGO_PACKAGES:
            raise ConfigError(
                'site = "django" needs the Django extra: '
                f"pip install 'billig-harness[django]' ({exc.__cause__})"
            ) from None
        raise
    if not hasattr(module, attribute):
        raise ConfigError(f"site = {config.site!r}: {module_name} has no {attribute!r}")
    label = "the Django site" if config.site == "django" else f"site {spec}"
    with user_code(label):
        source = getattr(module, attribute)
        if config.site == "django" or (callable(source) and not isinstance(source, SiteSource)):
            source = source(config)
    if not isinstance(source, SiteSource):
        raise ConfigError(f"site = {config.site!r} is not a site source (see SiteSource)")
    return CheckedSite(source, label)


# --------------------------------------------------------------------------- checked values

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
