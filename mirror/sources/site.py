"""The site source: everything the harness needs from the site under contract, in one interface.

The harness never imports a site. It loads the object that ``[tool.billig] site`` names
(``"module:attribute"``, or ``"django"`` for the Django adapter; see
:mod:`mirror.sources.site_loading`) and asks it for the catalog its models expect, the lineage of
every Billig column it reads, its serializer shapes, and, where the site has them, its OpenAPI
document and real output on a seeded mirror. A site source is any object with the attributes of
:class:`SiteSource`; the optional capabilities return None when a site has none. The values it
answers with are the dataclasses here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from mirror.catalog.model import Catalog, Column, ColumnRef, RelationKey, Usage


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
