"""Suggestions written as Django model changes: a field declaration and ``Meta.db_table``.

A field is declared as production has the column: its Django field class for the PostgreSQL
type (``character varying(140)`` → ``CharField(max_length=140)``, ``timestamp`` →
``DateTimeField``), always with ``db_column``, ``null=True`` where the column allows NULL and
``primary_key=True`` on the key. A table name is spelled so that Django's quoting reaches the
(schema, name) pair: ``'billig"."ticket_group'`` for a table in schema ``billig``; a dotted
``'billig.ticket_group'`` would be one identifier in ``public``.
"""

from __future__ import annotations

import re

from mirror.catalog.model import Column, Kind, Relation, RelationKey

_SIMPLE = {
    "integer": "IntegerField",
    "bigint": "BigIntegerField",
    "smallint": "SmallIntegerField",
    "boolean": "BooleanField",
    "text": "TextField",
    "date": "DateField",
    "timestamp without time zone": "DateTimeField",
    "timestamp with time zone": "DateTimeField",
    "time without time zone": "TimeField",
    "time with time zone": "TimeField",
    "double precision": "FloatField",
    "real": "FloatField",
    "uuid": "UUIDField",
    "json": "JSONField",
    "jsonb": "JSONField",
    "bytea": "BinaryField",
    "interval": "DurationField",
    "inet": "GenericIPAddressField",
    "character varying": "CharField",
}
_SIZED = re.compile(r"^(character varying|character|numeric)\((\d+)(?:,(\d+))?\)$")
# Timestamps with a precision, e.g. "timestamp(3) without time zone".
_PRECISION = re.compile(r"\(\d+\)")


def field_class(type_: str) -> tuple[str, list[str], str | None]:
    """Django field class and arguments for a PostgreSQL type, and a note when approximate."""
    sized = _SIZED.match(type_)
    if sized:
        base, first, second = sized.groups()
        if base == "numeric":
            return "DecimalField", [f"max_digits={first}", f"decimal_places={second or 0}"], None
        note = "fixed-length char in the database" if base == "character" else None
        return "CharField", [f"max_length={first}"], note
    if type_.endswith("[]"):
        inner, args, note = field_class(type_[:-2])
        base = f"models.{inner}({', '.join(args)})"
        return "ArrayField", [base], note or "from django.contrib.postgres.fields"
    plain = _PRECISION.sub("", type_)
    if plain in _SIMPLE:
        return _SIMPLE[plain], [], None
    if plain == "numeric":
        return "DecimalField", [], "numeric without precision: set max_digits/decimal_places"
    return "TextField", [], f"database type {type_}"


def model_field(
    attribute: str, column: Column, *, nullable: bool, primary_key: bool, server_default: bool
) -> str:
    """``price = models.IntegerField(db_column="price", null=True)``, as production has it."""
    name, args, note = field_class(column.type)
    prefix = "" if name == "ArrayField" else "models."
    if primary_key:
        args.append("primary_key=True")
    args.append(f"db_column={_literal(column.name)}")
    if nullable and not primary_key:
        args.append("null=True")
    notes = [n for n in (note, "has a database default" if server_default else None) if n]
    comment = f"  # {'; '.join(notes)}" if notes else ""
    return f"{attribute} = {prefix}{name}({', '.join(args)}){comment}"


def db_table(key: RelationKey, search_schema: str = "public") -> str:
    """The ``Meta.db_table`` value Django quotes into ``key``."""
    if key.schema == search_schema and '"' not in key.name:
        return key.name
    return f'{key.schema}"."{key.name}'


def table_name(key: RelationKey, search_schema: str = "public") -> list[str]:
    """The line of the model's ``class Meta`` that makes it read ``key``."""
    return [f"db_table = {_literal(db_table(key, search_schema))}  # in class Meta"]


def _literal(text: str) -> str:
    """A Python string literal, single-quoted when the text holds double quotes."""
    if '"' in text and "'" not in text:
        return "'" + text.replace("\\", "\\\\") + "'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def relation_kind(relation: Relation, fields: dict[str, str]) -> list[str]:
    """The model lines for a relation production turned into ``relation.kind``; ``fields``
    maps the model's columns to its field names."""
    if relation.kind in (Kind.VIEW, Kind.MATERIALIZED_VIEW):
        return [
            "managed = False  # in class Meta, unchanged: Django reads a view as a table; "
            "nothing enforces the key now, keep primary_key=True on a column unique in the view"
        ]
    key = relation.primary_key
    if len(key) == 1 and key[0] in fields:
        return [f"{fields[key[0]]}: primary_key=True  # production's primary key"]
    if key:
        names = ", ".join(_literal(fields.get(c, c)) for c in key)
        return [f"pk = models.CompositePrimaryKey({names})  # production's primary key"]
    return ["keep primary_key=True on a column unique in the table: it has no primary key"]
