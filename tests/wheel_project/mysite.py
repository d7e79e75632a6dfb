"""A user's site for the wheel test: one model of one Billig relation, and its site source.

It is copied into a project folder outside this repository and named there by
``[tool.billig] site = "mysite:SOURCE"``. It declares no serializers, API or observations: the
columns contract then pins the schema, the lineage of the model and the model's columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mirror.catalog.model import Catalog, Column, ColumnRef, RelationKey, Usage
from mirror.sources import sqlalchemy_models
from mirror.sources.site import ApiExchange, SiteModel


class Base(DeclarativeBase):
    metadata = MetaData(schema="billig")


class WebEvent(Base):
    """An event as the web sees it: the view ``billig.event_lim_web``."""

    __tablename__ = "event_lim_web"

    id: Mapped[int] = mapped_column("event", Integer, primary_key=True)
    name: Mapped[str] = mapped_column("event_name", String(140), nullable=False)
    sale_to: Mapped[datetime] = mapped_column("sale_to", DateTime, nullable=False)


class MySite:
    """The site source: catalog, models and lineage from the model above; nothing else."""

    name = "my site"
    models_file = "mysite.py"
    forbidden_fields: frozenset[str] = frozenset()

    def catalog(self) -> Catalog:
        return sqlalchemy_models.catalog_from_models(Base)

    def models(self) -> Sequence[SiteModel]:
        return sqlalchemy_models.mapped_models(Base)

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        return {
            ColumnRef(model.relation.schema, model.relation.name, column): Usage(
                models=(f"{model.name}.{attribute}",), requires_not_null=not nullable
            )
            for model in self.models()
            for column, (attribute, nullable) in model.columns.items()
        }

    def shapes(self) -> Mapping[str, Mapping[str, Any]]:
        return {}

    def model_field(
        self,
        attribute: str,
        column: Column,
        *,
        nullable: bool,
        primary_key: bool,
        server_default: bool,
    ) -> str:
        return sqlalchemy_models.mapped_column_line(
            attribute,
            column,
            nullable=nullable,
            primary_key=primary_key,
            server_default=server_default,
        )

    def table_name(self, model: SiteModel, key: RelationKey) -> list[str]:
        return sqlalchemy_models.table_lines(key, model.relation)

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        return None

    def openapi(self) -> Mapping[str, Any] | None:
        return None

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        return None


SOURCE = MySite()
