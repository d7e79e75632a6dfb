"""The one data model: a frozen ``Catalog`` of relations keyed by ``(schema, name)``.

Every description of a schema (live database, SQLAlchemy models, contract files) becomes a
``Catalog``; comparing two of them is ``compare_catalogs``. Types are kept in
PostgreSQL's canonical spelling (what ``format_type`` prints) so equivalent spellings compare
equal. View columns have unknown nullability (``None``), never "nullable".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple, overload

# Re-exported: the model keeps types in the canonical spelling normalize_type gives.
from mirror.catalog.type_names import normalize_type as normalize_type


class RelationKey(NamedTuple):
    """A relation's identity: the (schema, name) pair, never a dotted string."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


class Kind(StrEnum):
    TABLE = "table"
    VIEW = "view"
    MATERIALIZED_VIEW = "materialized_view"
    PARTITIONED_TABLE = "partitioned_table"
    FOREIGN_TABLE = "foreign_table"


# Kinds whose columns carry real NOT NULL information in the catalog.
KINDS_WITH_NULLABILITY = frozenset({Kind.TABLE, Kind.PARTITIONED_TABLE, Kind.FOREIGN_TABLE})


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # canonical, see normalize_type
    nullable: bool | None  # None: unknown (view columns)
    default: str | None = None
    # SELECT privilege of the inspecting login; None where not checked (models, contracts).
    selectable: bool | None = None
    # View columns: where the values come from (mirror.catalog.views); None: not followed.
    origin: Origin | None = None
    # The labels of the enum the column holds (directly, as array elements or through a domain),
    # in their order; None where not an enum or not known (models).
    labels: tuple[str, ...] | None = None
    # A domain column's base type (through nested domains), canonical; None where not a domain.
    base_type: str | None = None
    # A model column only: other column types its framework reads into the same values (a
    # Django DateTimeField reads timestamptz as it reads timestamp); canonical.
    also_reads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    target: RelationKey
    target_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    """A CHECK constraint: the columns it reads and its definition as PostgreSQL prints it
    (``CHECK ((num_sold <= num))``); its name carries no meaning for a reader."""

    columns: tuple[str, ...]
    definition: str


@dataclass(frozen=True, slots=True)
class Relation:
    key: RelationKey
    kind: Kind
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    checks: tuple[CheckConstraint, ...] = ()

    def __post_init__(self) -> None:
        # Constraint order carries no meaning; sort so equal relations compare equal. Most
        # relations have at most one of each, which needs neither (and catalogs have
        # thousands of relations).
        fks, unique = tuple(self.foreign_keys), tuple(self.unique)
        if len(fks) > 1:
            fks = tuple(sorted(set(fks), key=_fk_sort_key))
        if len(unique) > 1:
            unique = tuple(sorted(set(unique)))
        checks = tuple(self.checks)
        if len(checks) > 1:
            checks = tuple(sorted(set(checks), key=attrgetter("definition", "columns")))
        object.__setattr__(self, "foreign_keys", fks)
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "checks", checks)

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _fk_sort_key(fk: ForeignKey) -> tuple[object, ...]:
    return (fk.columns, tuple(fk.target), fk.target_columns)


class ColumnRef(NamedTuple):
    schema: str
    relation: str
    column: str

    def __str__(self) -> str:
        return f"{RelationKey(self.schema, self.relation)}.{quote_ident(self.column)}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a view column's values come from: the base table ``column`` they pass through
    unchanged (through joins, aliases, casts and nested views), or None for a computed
    expression. A view column the analysis could not follow has no ``Origin`` at all."""

    column: ColumnRef | None = None

    def __str__(self) -> str:
        return "expression" if self.column is None else str(self.column)


@dataclass(frozen=True, slots=True)
class Usage:
    """Who in our code reads a column (lineage): the basis of "does this break us"."""

    models: tuple[str, ...] = ()  # e.g. "BilligEvent.name"
    fields: tuple[str, ...] = ()  # serializer fields, e.g. "BilligEvent.ticket_groups[].name"
    endpoints: tuple[str, ...] = ()  # e.g. "GET /billig/events"
    requires_not_null: bool = False  # some reader declares the value non-null
    # The only values the readers allow (their fields' choices, those of every reader at
    # once); None: any value. Strings and integers, as the fields declare them.
    choices: tuple[str | int, ...] | None = None

    @property
    def read(self) -> bool:
        return bool(self.models or self.fields or self.endpoints)

    @property
    def readers(self) -> tuple[str, ...]:
        return self.models + self.fields + self.endpoints


@dataclass(frozen=True)
class Catalog:
    """Relations keyed by (schema, name), the schemas that exist, and optional lineage.

    ``schemas`` lists the schemas known to exist (for "schema missing" findings).
    ``lineage`` is None for a catalog without lineage (a live database, or a contract pinned with
    ``billig contracts snapshot``): then every column counts as read.
    """

    relations: Mapping[RelationKey, Relation] = field(default_factory=dict)
    schemas: frozenset[str] = frozenset()
    lineage: Mapping[ColumnRef, Usage] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        rels = dict(sorted(self.relations.items()))
        object.__setattr__(self, "relations", MappingProxyType(rels))
        object.__setattr__(self, "schemas", frozenset(self.schemas) | {k.schema for k in rels})
        if self.lineage is not None:
            object.__setattr__(self, "lineage", MappingProxyType(dict(self.lineage)))

    @classmethod
    def of(
        cls,
        relations: Iterable[Relation],
        schemas: Iterable[str] = (),
        lineage: Mapping[ColumnRef, Usage] | None = None,
    ) -> Catalog:
        rels: dict[RelationKey, Relation] = {}
        for rel in relations:
            if rel.key in rels:
                raise ValueError(f"relation {rel.key} appears twice")
            rels[rel.key] = rel
        return cls(rels, frozenset(schemas), lineage)

    def __iter__(self) -> Iterator[Relation]:
        return iter(self.relations.values())

    def __len__(self) -> int:
        return len(self.relations)

    def get(self, key: RelationKey | tuple[str, str]) -> Relation | None:
        return self.relations.get(RelationKey(*key))

    def usage(self, ref: ColumnRef) -> Usage | None:
        """Lineage of one column; None when this catalog carries no lineage at all."""
        if self.lineage is None:
            return None
        return self.lineage.get(ref, Usage())

    def restrict(self, keys: Iterable[RelationKey]) -> Catalog:
        wanted = set(keys)
        return Catalog(
            {k: r for k, r in self.relations.items() if k in wanted}, self.schemas, self.lineage
        )


# --------------------------------------------------------------------------- identifiers

_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_ident(name: str) -> str:
    """PostgreSQL identifier quoting, exactly as the server's ``quote_ident()`` does it.

    Bare only when the name is lower-case ASCII letters, digits and underscores and not a key
    word PostgreSQL restricts: reserved words, and also column-name and type/function-name
    words, since ``left`` or ``join`` are not valid bare relation names either.
    """
    if _PLAIN_IDENT.match(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


@overload
def split_qualified_name(text: str) -> tuple[str, ...]: ...
@overload
def split_qualified_name(text: str, *, wildcard: str) -> tuple[str | None, ...]: ...
def split_qualified_name(text: str, *, wildcard: str | None = None) -> tuple[str | None, ...]:
    """``billig.event.note`` → ``("billig", "event", "note")``, as PostgreSQL reads a name.

    Quoted parts keep dots and case (``""`` is a quote); bare parts fold to lower case, ASCII
    only, as PostgreSQL folds them. A bare part equal to ``wildcard`` comes back as None.
    Raises ValueError on an empty or blank part, whitespace, or an unterminated quote.
    """
    parts: list[str | None] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            j, buf = i + 1, []
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise ValueError(f"unterminated quoted identifier in {text!r}")
                buf.append(text[j:k])
                if not text.startswith('""', k):
                    break
                buf.append('"')
                j = k + 2
            i = k + 1
            part: str | None = "".join(buf)
            if not part:
                raise ValueError(f"empty quoted identifier in {text!r}")
        else:
            j = i
            while j < n and text[j] not in '."':
                j += 1
            raw = text[i:j]
            if not raw or any(c.isspace() for c in raw):
                raise ValueError(f"empty identifier or whitespace in {text!r}")
            part = None if raw == wildcard else raw.translate(_ASCII_LOWER)
            i = j
        parts.append(part)
        if i == n:
            return tuple(parts)
        if text[i] != ".":
            raise ValueError(f"expected '.' after an identifier at offset {i} in {text!r}")
        i += 1


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# Every key word that is not UNRESERVED in PostgreSQL 15, 16, 17 or 18 (``pg_get_keywords()``
# with ``catcode <> 'U'``); PostgreSQL's quote_ident() quotes exactly these (the newer versions
# add json_* and merge_action: production runs 15, the embedded mirror 18, and a name quoted
# that an older server would leave bare is still the same name).
_KEYWORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between bigint binary bit
    boolean both case cast char character check coalesce collate collation column concurrently
    constraint create cross current_catalog current_date current_role current_schema
    current_time current_timestamp current_user dec decimal default deferrable desc distinct do
    else end except exists extract false fetch float for foreign freeze from full grant greatest
    group grouping having ilike in initially inner inout int integer intersect interval into is
    isnull join json json_array json_arrayagg json_exists json_object json_objectagg json_query
    json_scalar json_serialize json_table json_value lateral leading least left merge_action
    like limit localtime localtimestamp national natural nchar none normalize not notnull null
    nullif numeric offset on only or order out outer overlaps overlay placing position precision
    primary real references returning right row select session_user setof similar smallint some
    substring symmetric system_user table tablesample then time timestamp to trailing treat trim
    true union unique user using values varchar variadic verbose when where window with
    xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot
    xmlserialize xmltable""".split()
)
