"""The Catalog our SQLAlchemy models expect: relations, mapped columns, types and nullability.

Types are compiled with the PostgreSQL dialect (``str()`` of an ``ARRAY`` is just "ARRAY") and
normalized like introspected ones, so a model column and a database column compare with the one
comparator. A table name is taken exactly as the model declares it: ``__tablename__ =
"billig.event"`` without a schema is the relation ``public."billig.event"``, which is how the
quoting trap (a dotted table name read as one identifier) becomes visible. Models cannot know
whether a relation is a view; a model says so with ``__table__.info["kind"] = "view"``
(default: table). :class:`SQLAlchemySite` is a whole site source over a declarative base.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
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
from mirror.sources.site import ApiExchange, SiteModel

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
    # Over a view too, a non-null column is what the model requires; the contract's view
    # columns carry the nullability derived from the view's definition to check it against.
    kind = Kind(table.info.get("kind", Kind.TABLE))
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


# --------------------------------------------------------------------------- writing models


_SA_TYPES = {
    "integer": ("Integer", "int"),
    "bigint": ("BigInteger", "int"),
    "smallint": ("SmallInteger", "int"),
    "boolean": ("Boolean", "bool"),
    "text": ("Text", "str"),
    "character varying": ("String", "str"),
    "timestamp without time zone": ("DateTime", "datetime"),
    "timestamp with time zone": ("DateTime(timezone=True)", "datetime"),
    "date": ("Date", "date"),
    "time without time zone": ("Time", "time"),
    "time with time zone": ("Time(timezone=True)", "time"),
    "numeric": ("Numeric", "Decimal"),
    "double precision": ("Double", "float"),
    "real": ("REAL", "float"),
    "json": ("JSON", "Any"),
    "jsonb": ("JSONB", "Any"),
    "uuid": ("Uuid", "uuid.UUID"),
    "bytea": ("LargeBinary", "bytes"),
    "interval": ("Interval", "timedelta"),
}
_SIZED = re.compile(r"^(?P<base>character varying|character|numeric)\((?P<args>[0-9,]+)\)$")


def sqlalchemy_type(pg_type: str) -> tuple[str, str] | None:
    """``(SQLAlchemy type expression, Python type)`` for a canonical PostgreSQL type, or None."""
    if pg_type.endswith("[]"):
        inner = sqlalchemy_type(pg_type[:-2])
        return None if inner is None else (f"ARRAY({inner[0]})", f"list[{inner[1]}]")
    if pg_type in _SA_TYPES:
        return _SA_TYPES[pg_type]
    match = _SIZED.match(pg_type)
    if match is None:
        return None
    args = match["args"].replace(",", ", ")
    if match["base"] == "character varying":
        return f"String({args})", "str"
    if match["base"] == "character":
        return f"CHAR({args})", "str"
    return f"Numeric({args})", "Decimal"


def mapped_column_line(
    attribute: str,
    column: Column,
    *,
    nullable: bool,
    primary_key: bool = False,
    server_default: bool = False,
) -> str:
    """``attr: Mapped[T] = mapped_column("name", Type, …)`` for a column as production has it."""
    known = sqlalchemy_type(column.type)
    sa_type, py_type = known if known is not None else ("NullType()", "Any")
    annotation = f"{py_type} | None" if nullable and not primary_key else py_type
    args = [_py_string(column.name), sa_type]
    if primary_key:
        args += ["primary_key=True", "autoincrement=False"]
    if server_default and column.default is not None:
        args.append(f"server_default=text({_py_string(column.default)})")
    line = f"{attribute}: Mapped[{annotation}] = mapped_column({', '.join(args)})"
    if known is None:
        line += f"  # no SQLAlchemy type known for {column.type}"
    return line


def _py_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mapped_models(models: type[DeclarativeBase]) -> list[SiteModel]:
    """Each mapped class of ``models`` as a :class:`~mirror.sources.site.SiteModel`."""
    out = []
    for mapper in models.registry.mappers:
        table = mapper.local_table
        schema = getattr(table, "schema", None) or DEFAULT_SCHEMA
        key = RelationKey(schema, getattr(table, "name", ""))
        columns: dict[str, tuple[str, bool]] = {}
        for prop in mapper.column_attrs:
            for col in prop.columns:
                if getattr(col, "table", None) is table:
                    columns[col.name] = (prop.key, bool(getattr(col, "nullable", True)))
        out.append(SiteModel(mapper.class_.__name__, key, columns))
    return sorted(out, key=lambda m: (m.relation, m.name))


def table_lines(key: RelationKey, current: RelationKey | None = None) -> list[str]:
    """The class attributes that make a declarative model (now reading ``current``) read
    relation ``key``: its table name, and its schema where that changes."""
    lines = [f"__tablename__ = {_py_string(key.name)}"]
    if key.schema != (current.schema if current is not None else DEFAULT_SCHEMA):
        lines.append(f'__table_args__ = {{"schema": {_py_string(key.schema)}}}')
    return lines


# --------------------------------------------------------------------------- the site source


def model_lineage(models: Iterable[SiteModel]) -> dict[ColumnRef, Usage]:
    """Each mapped column as read by its model attribute (``Model.attribute``), required
    non-null where the model declares it NOT NULL."""
    return {
        ColumnRef(model.relation.schema, model.relation.name, column): Usage(
            models=(f"{model.name}.{attribute}",), requires_not_null=not nullable
        )
        for model in models
        for column, (attribute, nullable) in model.columns.items()
    }


@contextlib.contextmanager
def recorded_statements(
    billig: Engine | Connection, *others: Engine | Connection
) -> Iterator[tuple[list[str], list[int]]]:
    """Within the block, the statements sent through ``billig`` (their SQL, with placeholders)
    and how many went through ``others``, recorded as they leave the client (cursor events),
    for a site's ``queries()``."""
    sent: list[str] = []
    elsewhere = [0]

    def to_billig(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    def to_other(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        elsewhere[0] += 1

    listeners = [(billig, to_billig), *((engine, to_other) for engine in others)]
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield sent, elsewhere
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)


@dataclass(frozen=True)
class SQLAlchemySite:
    """A site source for SQLAlchemy declarative models: ``SQLAlchemySite(Base, name=…,
    models_file=…)`` is a complete one.

    The catalog, the models, the lineage of the models' own columns and the model lines of
    ``drift --suggest`` come from ``base``; the optional capabilities (serializer shapes, real
    output, an API) are absent until a subclass overrides them.
    """

    base: type[DeclarativeBase]  # the declarative base of the models that read Billig
    name: str = "SQLAlchemy site"
    models_file: str = "models.py"  # where drift --suggest points model changes
    forbidden_fields: frozenset[str] = frozenset()

    def catalog(self) -> Catalog:
        return catalog_from_models(self.base)

    def models(self) -> Sequence[SiteModel]:
        return mapped_models(self.base)

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        return model_lineage(self.models())

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
        return mapped_column_line(
            attribute,
            column,
            nullable=nullable,
            primary_key=primary_key,
            server_default=server_default,
        )

    def table_name(self, model: SiteModel, key: RelationKey) -> list[str]:
        return table_lines(key, model.relation)

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        return None

    def openapi(self) -> Mapping[str, Any] | None:
        return None

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        return None
