"""The catalog Django models expect: each relation as Django will query it, types as read.

``Meta.db_table`` is taken the way Django quotes it: ``'billig"."ticket_group'`` reaches table
``ticket_group`` of schema ``billig``, while ``'billig.ticket_group'`` is one identifier,
``"billig.ticket_group"``, found in the connection's search path (``public``). Types are the
PostgreSQL types a field reads, not the ones Django would create: a ``DateTimeField`` reads
Billig's naive ``timestamp without time zone`` (Django would create ``timestamptz``, which it
reads too). A Python
``default=`` is not a database default, so defaults stay unknown, and a ``ForeignKey`` between
unmanaged models is a join the site relies on (lineage), not a constraint Billig must have.
Django cannot tell a view from a table; every relation is expected as a table, which the
contract check does not hold against a view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from mirror.catalog.model import (
    Catalog,
    Column,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
    split_qualified_name,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model

DEFAULT_SCHEMA = "public"

# What a field reads, where Django's db_type names what Django would create instead.
_READ_AS = {
    "timestamp with time zone": "timestamp without time zone",
    "time with time zone": "time without time zone",
}
# Django reads both into the field's values (naive in TIME_ZONE without USE_TZ, aware with it):
# a DateTimeField over Billig's timestamptz is Django's own mapping, never a difference.
_ALSO_READS = {read: (created,) for created, read in _READ_AS.items()}


def split_qualified(text: str) -> list[str] | None:
    """``"billig"."event"`` → ``["billig", "event"]``; None when ``text`` is no qualified name."""
    try:
        return list(split_qualified_name(text))
    except ValueError:
        return None


def search_schema(connection: BaseDatabaseWrapper) -> str:
    """The schema an unqualified name lands in: the first of a ``search_path`` option, if
    the alias sets one (``OPTIONS: {"options": "-c search_path=..."}``), else ``public``."""
    options = str(connection.settings_dict.get("OPTIONS", {}).get("options", ""))
    match = re.search(r"search_path\s*=\s*([^\s]+)", options)
    if match:
        first = match.group(1).split(",")[0].strip()
        named = split_qualified(first)
        if named and len(named) == 1 and named[0] != "$user":
            return named[0]
    return DEFAULT_SCHEMA


def relation_key(db_table: str, connection: BaseDatabaseWrapper) -> RelationKey:
    """The relation Django queries for ``db_table``: what its quoting turns the name into."""
    quoted = connection.ops.quote_name(db_table)
    parts = split_qualified(quoted)
    if parts is None:
        return RelationKey(search_schema(connection), db_table)
    if len(parts) == 1:
        return RelationKey(search_schema(connection), parts[0])
    return RelationKey(parts[-2], parts[-1])


def column_type(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str | None:
    """The PostgreSQL type ``field`` reads (canonical spelling), None if it has no column."""
    spelling = field.db_type(connection)
    if spelling is None:
        return None
    canon = normalize_type(spelling)
    return _READ_AS.get(canon, canon)


def concrete_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """Fields with a column of their own, in declaration order."""
    return [f for f in model._meta.concrete_fields if getattr(f, "column", None)]


def primary_key_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """The fields of the model's primary key: one, or those of a ``CompositePrimaryKey``."""
    pk = model._meta.pk
    if pk is None:
        return []
    parts = getattr(pk, "fields", None)  # a CompositePrimaryKey: its fields (or their names)
    if parts is None:
        return [pk]
    return [model._meta.get_field(p) if isinstance(p, str) else p for p in parts]


def primary_key_columns(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.column for f in primary_key_fields(model))


def relation_of(model: type[Model], connection: BaseDatabaseWrapper) -> Relation:
    columns = []
    for field in concrete_fields(model):
        type_ = column_type(field, connection)
        if type_ is None:
            continue
        nullable = bool(field.null) and not field.primary_key
        columns.append(
            Column(
                field.column,
                type_,
                nullable,
                labels=choice_values(field),
                also_reads=_ALSO_READS.get(type_, ()),
            )
        )
    return Relation(
        key=relation_key(model._meta.db_table, connection),
        kind=Kind.TABLE,
        columns=tuple(columns),
        primary_key=primary_key_columns(model),
    )


def choice_values(field: Field[Any, Any]) -> tuple[str, ...] | None:
    """The values a field's ``choices`` declare, when they are text (as an enum's labels)."""
    values = _declared_choices(field)
    if not values or not all(isinstance(v, str) for v in values):
        return None
    return tuple(str(v) for v in values)


def allowed_values(field: Field[Any, Any]) -> tuple[str | int, ...] | None:
    """The only values ``field`` allows (its ``choices``: plain, grouped, ``TextChoices`` or
    ``IntegerChoices``), None without choices or with values other than text and integers.

    Like Django's validation, a ``blank=True`` text field also allows the empty string.
    """
    values = _declared_choices(field)
    if not values:
        return None
    if all(isinstance(v, str) for v in values):
        text = tuple(str(v) for v in values)
        return (*text, "") if field.blank and "" not in text else text
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return tuple(int(v) for v in numbers)
    return None


def _declared_choices(field: Field[Any, Any]) -> tuple[object, ...]:
    # flatchoices flattens groups; Choices members are their values (str or int subclasses),
    # made plain so that they compare, hash and print as the values Django stores. A None
    # choice stands for NULL, which is not a value (the NULL check covers it).
    values = (value for value, _ in getattr(field, "flatchoices", ()) or ())
    plain = (v.value if isinstance(v, Enum) else v for v in values)
    return tuple(dict.fromkeys(v for v in plain if v is not None))


def merge_relations(relations: Iterable[Relation]) -> list[Relation]:
    """One relation per key: several models may read one relation (a column is required if
    any of them requires it; the first model's key and column order win)."""
    merged: dict[RelationKey, Relation] = {}
    for rel in relations:
        seen = merged.get(rel.key)
        if seen is None:
            merged[rel.key] = rel
            continue
        columns = {c.name: c for c in seen.columns}
        for col in rel.columns:
            old = columns.get(col.name)
            if old is None:
                columns[col.name] = col
            elif old.nullable and not col.nullable:
                columns[col.name] = replace(old, nullable=False)
        merged[rel.key] = Relation(
            seen.key, seen.kind, tuple(columns.values()), seen.primary_key or rel.primary_key
        )
    return list(merged.values())


def catalog_of(models: Sequence[type[Model]], connection: BaseDatabaseWrapper) -> Catalog:
    """What ``models`` expect of the database behind ``connection`` (no lineage)."""
    return Catalog.of(merge_relations(relation_of(m, connection) for m in models))
