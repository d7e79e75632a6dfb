"""The alternatives' catalog reads, and the same catalogs they amount to.

A drift check built on SQLAlchemy or schemainspect reads the catalog through their API and then
has to turn what they return into something it can compare with the contract: here, the same
:class:`~mirror.catalog.model.Catalog` our introspection builds, with each library's own spelling of
types, nullability and keys mapped to ours (SQLAlchemy types compiled with the PostgreSQL
dialect, as ``str()`` of an ARRAY type would only say "ARRAY"). Each reader comes in two parts:
the raw read (what the "catalog read only" case times) and the conversion. The drift benchmark
checks that every conversion equals our catalog before it times anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.engine.reflection import ObjectKind

from mirror.catalog.model import (
    Catalog,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
)

_SCHEMAINSPECT_KINDS = {
    "r": Kind.TABLE,
    "v": Kind.VIEW,
    "m": Kind.MATERIALIZED_VIEW,
    "p": Kind.PARTITIONED_TABLE,
    "f": Kind.FOREIGN_TABLE,
}


@dataclass(frozen=True, slots=True)
class SqlAlchemyRead:
    """What SQLAlchemy's Inspector returned, keyed by (schema, name) as its bulk API does."""

    dialect: Dialect
    schema: str
    columns: Mapping[tuple[str | None, str], Sequence[Mapping[str, Any]]]
    primary_keys: Mapping[tuple[str | None, str], Mapping[str, Any]]
    foreign_keys: Mapping[tuple[str | None, str], Sequence[Mapping[str, Any]]]
    views: frozenset[str]

    def catalog(self) -> Catalog:
        """The same Catalog our introspection builds (without SELECT privileges)."""
        dialect = self.dialect
        relations = []
        for (schema, name), columns in self.columns.items():
            key = RelationKey(schema or self.schema, name)
            view = name in self.views
            pk = self.primary_keys.get((schema, name)) or {}
            relations.append(
                Relation(
                    key=key,
                    kind=Kind.VIEW if view else Kind.TABLE,
                    columns=tuple(
                        Column(
                            c["name"],
                            normalize_type(c["type"].compile(dialect=dialect)),
                            None if view else c["nullable"],
                            c["default"],
                        )
                        for c in columns
                    ),
                    primary_key=tuple(pk.get("constrained_columns") or ()),
                    foreign_keys=tuple(
                        ForeignKey(
                            tuple(fk["constrained_columns"]),
                            RelationKey(fk["referred_schema"] or self.schema, fk["referred_table"]),
                            tuple(fk["referred_columns"]),
                        )
                        for fk in self.foreign_keys.get((schema, name), ())
                    ),
                )
            )
        return Catalog.of(relations, [self.schema])


def sqlalchemy_bulk(engine: Engine, schema: str, names: list[str] | None) -> SqlAlchemyRead:
    """SQLAlchemy 2's bulk reflection: ``get_multi_columns/pk_constraint/foreign_keys``."""
    with engine.connect() as conn:
        insp = inspect(conn)
        kind = ObjectKind.ANY
        views = frozenset(insp.get_view_names(schema=schema))
        columns = insp.get_multi_columns(schema=schema, filter_names=names, kind=kind)
        pks = insp.get_multi_pk_constraint(schema=schema, filter_names=names, kind=kind)
        fks = insp.get_multi_foreign_keys(schema=schema, filter_names=names, kind=kind)
    return SqlAlchemyRead(engine.dialect, schema, columns, pks, fks, views)


def sqlalchemy_per_table(engine: Engine, schema: str, names: list[str] | None) -> SqlAlchemyRead:
    """SQLAlchemy's Inspector table by table, as code written before its bulk API does."""
    columns: dict[tuple[str | None, str], Sequence[Mapping[str, Any]]] = {}
    pks: dict[tuple[str | None, str], Mapping[str, Any]] = {}
    fks: dict[tuple[str | None, str], Sequence[Mapping[str, Any]]] = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        views = frozenset(insp.get_view_names(schema=schema))
        if names is None:
            names = insp.get_table_names(schema=schema) + sorted(views)
        for name in names:
            key = (schema, name)
            columns[key] = insp.get_columns(name, schema=schema)
            pks[key] = insp.get_pk_constraint(name, schema=schema)
            fks[key] = insp.get_foreign_keys(name, schema=schema)
    return SqlAlchemyRead(engine.dialect, schema, columns, pks, fks, views)


def schemainspect_read(engine: Engine, schema: str) -> Any:
    """migra's schemainspect: it has no filter, so it reads the whole database."""
    from schemainspect import get_inspector  # the bench extra

    with engine.connect() as conn:
        return get_inspector(conn, schema=schema)


def schemainspect_catalog(
    inspected: Any, schema: str, names: Iterable[str] | None = None
) -> Catalog:
    """The same Catalog our introspection builds from schemainspect's objects."""
    wanted = None if names is None else set(names)
    primary: dict[RelationKey, tuple[str, ...]] = {}
    foreign: dict[RelationKey, list[ForeignKey]] = {}
    for con in inspected.constraints.values():
        key = RelationKey(con.schema, con.table_name)
        if con.constraint_type == "PRIMARY KEY":
            primary[key] = tuple(con.index.key_columns)
        elif con.is_fk:
            target = unquote_qualified(con.quoted_full_foreign_table_name)
            fk = ForeignKey(tuple(con.fk_columns_local), target, tuple(con.fk_columns_foreign))
            foreign.setdefault(key, []).append(fk)
    relations = []
    for rel in inspected.relations.values():
        if rel.schema != schema or (wanted is not None and rel.name not in wanted):
            continue
        kind = _SCHEMAINSPECT_KINDS[rel.relationtype]
        nullability = kind in (Kind.TABLE, Kind.PARTITIONED_TABLE, Kind.FOREIGN_TABLE)
        key = RelationKey(rel.schema, rel.name)
        relations.append(
            Relation(
                key=key,
                kind=kind,
                columns=tuple(
                    Column(
                        c.name,
                        normalize_type(c.dbtypestr),
                        (not c.not_null) if nullability else None,
                        c.default,
                    )
                    for c in rel.columns.values()
                ),
                primary_key=primary.get(key, ()),
                foreign_keys=tuple(foreign.get(key, ())),
            )
        )
    return Catalog.of(relations, [schema])


_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def unquote_qualified(text: str) -> RelationKey:
    """``"billig"."a.b"`` → ``RelationKey("billig", "a.b")`` (schemainspect's quoted names)."""
    parts = [m.group(1).replace('""', '"') for m in _QUOTED.finditer(text)]
    if len(parts) != 2:
        raise ValueError(f"not a quoted schema-qualified name: {text!r}")
    return RelationKey(parts[0], parts[1])


def comparable(catalog: Catalog) -> Catalog:
    """``catalog`` without what the alternatives do not read: privileges, unique and CHECK
    constraints, and what ours follows through views (a view column's origin and the
    nullability it takes from its base column).

    The comparator never looks at unique constraints, every column is selectable in the
    benchmark databases, and the mutated contract changes no view column, so dropping all of
    them changes no finding (the findings are compared as well).
    """
    relations = []
    for rel in catalog:
        view = rel.kind is Kind.VIEW
        relations.append(
            Relation(
                key=rel.key,
                kind=rel.kind,
                columns=tuple(
                    Column(c.name, c.type, None if view else c.nullable, c.default)
                    for c in rel.columns
                ),
                primary_key=rel.primary_key,
                foreign_keys=rel.foreign_keys,
            )
        )
    return Catalog.of(relations, catalog.schemas)
