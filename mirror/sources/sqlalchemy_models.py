"""The Catalog our SQLAlchemy models expect: relations, mapped columns, types and nullability.

Types are compiled with the PostgreSQL dialect (``str()`` of an ``ARRAY`` is just "ARRAY") and
normalized like introspected ones, so a model column and a database column compare with the one
comparator. A table name is taken exactly as the model declares it: ``__tablename__ =
"billig.event"`` without a schema is the relation ``public."billig.event"``, which is how the
quoting trap of SPEC §2 becomes visible. Models cannot know whether a relation is a view; a model
says so with ``__table__.info["kind"] = "view"`` (default: table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.schema import ForeignKeyConstraint, UniqueConstraint

from mirror.catalog.model import (
    Catalog,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    Usage,
    normalize_type,
)

DEFAULT_SCHEMA = "public"
_DIALECT = postgresql.dialect()


def relation_key(table: Table) -> RelationKey:
    """The (schema, name) a table maps to; no schema means PostgreSQL's default ``public``."""
    return RelationKey(table.schema or DEFAULT_SCHEMA, table.name)


def column_type(column: object) -> str:
    """A model column's type as PostgreSQL spells it (compiled by the dialect, normalized)."""
    type_ = column.type  # type: ignore[attr-defined]
    return normalize_type(type_.compile(dialect=_DIALECT))


def relation_of(table: Table) -> Relation:
    columns = tuple(
        Column(name=col.name, type=column_type(col), nullable=bool(col.nullable), default=None)
        for col in table.columns
    )
    foreign_keys = []
    unique = []
    for constraint in table.constraints:
        if isinstance(constraint, ForeignKeyConstraint) and constraint.elements:
            target = constraint.elements[0].column.table
            foreign_keys.append(
                ForeignKey(
                    columns=tuple(el.parent.name for el in constraint.elements),
                    target=relation_key(target),
                    target_columns=tuple(el.column.name for el in constraint.elements),
                )
            )
        elif isinstance(constraint, UniqueConstraint):
            unique.append(tuple(col.name for col in constraint.columns))
    kind = Kind(table.info.get("kind", Kind.TABLE))
    if kind not in (Kind.TABLE, Kind.PARTITIONED_TABLE, Kind.FOREIGN_TABLE):
        # A view's nullability is unknown to the database; what the model declares is lineage
        # (requires_not_null), not a fact about the relation.
        columns = tuple(Column(c.name, c.type, None) for c in columns)
    return Relation(
        key=relation_key(table),
        kind=kind,
        columns=columns,
        primary_key=tuple(col.name for col in table.primary_key.columns),
        foreign_keys=tuple(foreign_keys),
        unique=tuple(unique),
    )


def tables_of(models: type[DeclarativeBase] | MetaData | Iterable[Table]) -> list[Table]:
    if isinstance(models, MetaData):
        return list(models.tables.values())
    if isinstance(models, type):
        return list(models.metadata.tables.values())
    return list(models)


def catalog_from_models(
    models: type[DeclarativeBase] | MetaData | Iterable[Table],
    *,
    lineage: Mapping[ColumnRef, Usage] | None = None,
) -> Catalog:
    """The catalog the models expect (every table of the base or metadata), with ``lineage``."""
    return Catalog.of((relation_of(table) for table in tables_of(models)), lineage=lineage)
