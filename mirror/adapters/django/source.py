"""``DjangoSite``: the site source of a Django project (see :mod:`mirror.sources.site`).

Everything is read from the project itself: the models its router sends to the Billig alias,
the DRF serializers of the configured modules that serialize Billig data (directly or nested),
the URLconf's views for endpoints. Nothing is imported before the site is first asked.
"""

from __future__ import annotations

import inspect
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mirror.adapters.django import lineage, models, render, shapes
from mirror.adapters.django.project import billig_models, import_modules, setup
from mirror.catalog.model import Catalog, Column, ColumnRef, Relation, RelationKey, Usage
from mirror.config import Config, DjangoConfig
from mirror.errors import ConfigError
from mirror.sources.site import ApiExchange, QueryRun, SiteModel

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

# Never public: ticket counts, owner data, card numbers.
FORBIDDEN_FIELDS: frozenset[str] = frozenset(
    {"num", "num_sold", "owner_email", "owner_member_id", "owner_cardno", "card", "cardno",
     "card_number"}
)  # fmt: skip


def from_config(config: Config) -> DjangoSite:
    """The site source of ``site = "django"``: the project of ``[tool.billig.django]``."""
    return DjangoSite(config.django, config.root)


class DjangoSite:
    """The Django project of ``config`` (its folder: ``root``) as a site source."""

    name = "Django site"
    forbidden_fields = FORBIDDEN_FIELDS
    observe_hint = (
        "it serializes no model routed to Billig: give it instances with "
        "billig_samples(now) returning {SerializerClass: [unsaved model instances]} in its module"
    )

    def __init__(self, config: DjangoConfig, root: Path) -> None:
        self.config = config
        self.root = Path(root)

    # ------------------------------------------------------------------ the project

    @cached_property
    def _ready(self) -> bool:
        setup(self.config, self.root)
        return True

    @property
    def connection(self) -> BaseDatabaseWrapper:
        assert self._ready
        from django.db import connections

        return connections[self.config.database]

    @cached_property
    def billig_models(self) -> list[type[Model]]:
        assert self._ready
        found = billig_models(self.config.database)
        if not found:
            raise ConfigError(
                f"no installed model is routed to database {self.config.database!r}: check "
                "DATABASE_ROUTERS and [tool.billig.django] database"
            )
        return found

    @cached_property
    def relations(self) -> dict[type[Model], RelationKey]:
        """Each Billig model and the relation Django queries for it."""
        return {
            m: models.relation_key(m._meta.db_table, self.connection) for m in self.billig_models
        }

    @cached_property
    def serializer_modules(self) -> list[ModuleType]:
        assert self._ready
        return import_modules(self.config.serializers, "serializer")

    @cached_property
    def serializers(self) -> dict[str, type[Any]]:
        """Pinned serializers by class name: those of the configured modules reaching Billig."""
        from rest_framework.serializers import BaseSerializer, ListSerializer

        found: dict[str, type[Any]] = {}
        for module in self.serializer_modules:
            for name, value in vars(module).items():
                if not (
                    inspect.isclass(value)
                    and issubclass(value, BaseSerializer)
                    and not issubclass(value, ListSerializer)
                    and value.__module__ == module.__name__
                ):
                    continue
                if not lineage.reaches_billig(value, self.relations):
                    continue
                if name in found and found[name] is not value:
                    raise ConfigError(
                        f"two pinned serializers are named {name!r} "
                        f"({found[name].__module__} and {module.__name__}); rename one"
                    )
                found[name] = value
        return dict(sorted(found.items()))

    @cached_property
    def endpoints(self) -> dict[str, list[str]]:
        if not self.config.urls:
            return {}
        assert self._ready
        import_modules([self.config.urls], "URLconf")
        pinned = {cls: name for name, cls in self.serializers.items()}
        return lineage.endpoint_serializers(self.config.urls, pinned)

    # ------------------------------------------------------------------ the site source

    @property
    def models_file(self) -> str:
        files = Counter(inspect.getsourcefile(m) or "" for m in self.billig_models)
        path = Path(files.most_common(1)[0][0])
        try:
            return Path(os.path.relpath(path, self.root.resolve())).as_posix()
        except ValueError:
            return path.as_posix()

    def catalog(self) -> Catalog:
        expected = models.catalog_of(self.billig_models, self.connection)
        return Catalog(expected.relations, expected.schemas, self.lineage())

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        return self._lineage

    @cached_property
    def _lineage(self) -> dict[ColumnRef, Usage]:
        return lineage.site_lineage(
            self.billig_models, self.relations, self.serializers, self.endpoints
        )

    def models(self) -> Sequence[SiteModel]:
        out = []
        for model in self.billig_models:
            columns = {f.column: (f.name, bool(f.null)) for f in models.concrete_fields(model)}
            out.append(SiteModel(model.__name__, self.relations[model], columns))
        return out

    def shapes(self) -> Mapping[str, Mapping[str, Any]]:
        return shapes.serializer_shapes(self.serializers)

    def model_field(
        self,
        attribute: str,
        column: Column,
        *,
        nullable: bool,
        primary_key: bool,
        server_default: bool,
    ) -> str:
        return render.model_field(
            attribute,
            column,
            nullable=nullable,
            primary_key=primary_key,
            server_default=server_default,
        )

    def relation_kind(self, model: SiteModel, relation: Relation) -> list[str]:
        fields = {column: attribute for column, (attribute, _) in model.columns.items()}
        return render.relation_kind(relation, fields)

    def table_name(self, model: SiteModel, key: RelationKey) -> list[str]:
        return render.table_name(key, models.search_schema(self.connection))

    @cached_property
    def _view_querysets(self) -> dict[type[Any], Any]:
        """The querysets of the URLconf's GET views, by the serializer each serves."""
        if not self.config.urls:
            return {}
        from mirror.adapters.django.observe import view_querysets

        _ = self.endpoints  # the URLconf imported, a failure named
        return view_querysets(self.config.urls, self.serializers.values())

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        from mirror.adapters.django.observe import observe_outputs

        return observe_outputs(
            alias=self.config.database,
            database=database,
            now=now,
            serializers=self.serializers,
            relations=self.relations,
            modules=self.serializer_modules,
            querysets=self._view_querysets,
        )

    def queries(
        self, database: str, now: datetime, sizes: Sequence[int]
    ) -> Mapping[str, Sequence[QueryRun]] | None:
        from mirror.adapters.django.queries import measure_queries

        return measure_queries(
            alias=self.config.database,
            database=database,
            now=now,
            serializers=self.serializers,
            relations=self.relations,
            modules=self.serializer_modules,
            sizes=sizes,
            querysets=self._view_querysets,
        )

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        return None  # the app is not run on the mirror (yet): the document is pinned, not probed

    def openapi(self) -> Mapping[str, Any] | None:
        if not self.config.urls:
            return None
        assert self._ready
        return shapes.openapi_document(self.config.urls)
