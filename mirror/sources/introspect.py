"""Reading a live PostgreSQL catalog into a ``Catalog``, fast and read-only.

Whatever the size of the database, introspection sends the same few statements, each kept in
``mirror/sources/sql/<name>.sql``, in one :mod:`bounded read session <mirror.sources.read_session>`:
``session`` opens the read-only, repeatable-read transaction with its timeouts; ``relations``
finds which of the asked schemas exist and the relations in scope (kind, the login's USAGE on
their schema); ``columns`` reads their columns (canonical types, nullability, defaults, the
login's SELECT privilege per column, enum labels, a domain's base type); ``constraints`` reads
primary keys, unique, foreign key and CHECK constraints of exactly those relations; and, when
views are in scope, ``view_sources`` reads their definitions and sources. The scope is passed as
arrays of (schema, name) pairs or schema names, so a 9-relation contract against a
2,000-relation database reads only those 9 (plus their *namesakes*: same-named relations in
other schemas and dotted single-identifier names such as ``public."billig.event"``, which let
the comparator report a moved relation or quoting confusion instead of a plain "missing").
Turning rows into a ``Catalog`` is a pure function (:func:`assemble`); nothing here writes to
the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from mirror.catalog.model import (
    KINDS_WITH_NULLABILITY,
    Catalog,
    CheckConstraint,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
    quote_ident,
)
from mirror.errors import UsageError
from mirror.progress import step
from mirror.sources.read_session import (
    ReadSession,
    Target,
    Timeouts,
    one_line,
    read_session,
)

# The statements introspection sends, in order; their count never depends on the database.
STATEMENTS = ("session", "relations", "columns", "constraints")
# Views proven readable per statement (see introspect's ``readable``).
PROBE_BATCH = 50

_KINDS = {
    "r": Kind.TABLE,
    "v": Kind.VIEW,
    "m": Kind.MATERIALIZED_VIEW,
    "p": Kind.PARTITIONED_TABLE,
    "f": Kind.FOREIGN_TABLE,
}


@dataclass(frozen=True, slots=True)
class Introspection:
    """A catalog read, with what it took: the statements sent (names of the .sql files).

    ``unreadable`` maps each relation asked to be proven readable that the login cannot read
    (``SELECT`` of its columns fails) to the server's reason.
    """

    catalog: Catalog
    statements: tuple[str, ...]
    seconds: float
    unreadable: Mapping[RelationKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scope:
    """What to read: asked relations, whole schemas, or (neither given) every user schema."""

    relations: tuple[RelationKey, ...] = ()
    schemas: tuple[str, ...] = ()
    everything: bool = False
    namesakes: bool = True
    # Schemas whose existence is asked without reading their relations.
    expected_schemas: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        relations: Iterable[RelationKey | tuple[str, str]] | None = None,
        schemas: Iterable[str] | None = None,
        *,
        namesakes: bool = True,
        expected_schemas: Iterable[str] = (),
    ) -> Scope:
        asked = list(relations or ())
        for rel in asked:
            if isinstance(rel, str) or len(rel) != 2:
                raise UsageError(f"relations are (schema, name) pairs, not {rel!r}")
        if isinstance(schemas, str):
            raise UsageError(f"schemas is a list of schema names, not the string {schemas!r}")
        rels = tuple(dict.fromkeys(RelationKey(*r) for r in asked))
        names = tuple(dict.fromkeys(schemas or ()))
        if isinstance(expected_schemas, str):
            raise UsageError(f"expected_schemas is a list of names, not {expected_schemas!r}")
        expected = tuple(dict.fromkeys(expected_schemas))
        return cls(rels, names, relations is None and schemas is None, namesakes, expected)

    def params(self) -> dict[str, Any]:
        """Query parameters shared by the scope-dependent statements."""
        asked_schemas = dict.fromkeys(self.schemas)
        asked_schemas.update(dict.fromkeys(k.schema for k in self.relations))
        asked_schemas.update(dict.fromkeys(self.expected_schemas))
        return {
            "rel_schemas": [k.schema for k in self.relations],
            "rel_names": [k.name for k in self.relations],
            "whole_schemas": list(self.schemas),
            "schemas": list(asked_schemas),
            "everything": self.everything,
            "namesakes": self.namesakes,
        }


def introspect(
    target: Target,
    *,
    relations: Iterable[RelationKey | tuple[str, str]] | None = None,
    schemas: Iterable[str] | None = None,
    namesakes: bool = True,
    expected_schemas: Iterable[str] = (),
    timeouts: Timeouts | None = None,
    readable: Mapping[RelationKey, Sequence[str]] | None = None,
) -> Introspection:
    """Read the catalog of ``target`` (a DSN, a SQLAlchemy URL or an open psycopg2 connection)
    in one read-only transaction with a fixed set of statements.

    ``relations`` and ``schemas`` limit what is read (their union); with neither, every
    non-system schema is read. ``Catalog.schemas`` holds the asked schemas that exist, so a
    missing schema is visible.

    A connection passed in must not be inside a transaction; it is left open, in its original
    autocommit mode, with the introspection transaction rolled back. A DSN or URL gets its own
    connection (``default_transaction_read_only`` on, bounded by ``timeouts.connect_s``), closed
    afterwards.
    ``Catalog.schemas`` also says which of ``expected_schemas`` exist (their relations are not
    read unless asked): a contract may pin a schema with no relation in it. Every statement must
    be answered within the statement timeout plus a grace, or the connection is given up (see
    :class:`~mirror.sources.read_session.Timeouts`; the defaults without ``timeouts``).

    ``readable`` names relations (and their columns) to prove readable in the same transaction.
    A table's readability is in the catalog: the login's SELECT privilege on it or its columns
    and USAGE on its schema (:attr:`Column.selectable`, read by ``columns.sql``). A view's is not:
    the catalog can say the login may SELECT it while reading fails, because the view reads its
    base relations with its owner's privileges (an owner that lost SELECT on a base table). So
    each view of ``readable`` that exists is read with ``SELECT columns … LIMIT 0``,
    :data:`PROBE_BATCH` views per statement, so the count grows with the views asked only;
    those the login cannot read are in :attr:`Introspection.unreadable`. The probe takes the
    share locks any read takes, so a table locked exclusively makes it wait ``timeouts.lock_ms``.

    Raises :class:`~mirror.errors.DatabaseUnreachable` when no connection can be made (refused,
    DNS, wrong password, TLS required, connect timeout), :class:`~mirror.errors.IntrospectionError`
    when the catalog cannot be read completely (timeout, lost connection, missing privilege) and
    :class:`~mirror.errors.UsageError` for a malformed DSN or bad arguments. Messages are one line
    and never contain the password.
    """
    bounds = timeouts or Timeouts()
    scope = Scope.of(relations, schemas, namesakes=namesakes, expected_schemas=expected_schemas)
    started = time.perf_counter()
    with read_session(target, bounds) as session:
        catalog = _read(session, scope)
        unreadable = _unreadable(session, catalog, readable or {})
    return Introspection(catalog, tuple(session.sent), time.perf_counter() - started, unreadable)


# --------------------------------------------------------------------------- pure core

ScopeRow = tuple[
    Sequence[str] | None,  # asked schemas that exist
    Sequence[int] | None,  # relation oids
    Sequence[str] | None,  # their schemas
    Sequence[str] | None,  # their names
    Sequence[str] | None,  # their relkinds
    Sequence[bool] | None,  # whether the login has USAGE on their schema
]
# (relation oid, column number, name, type, NOT NULL, default, SELECT privilege, and then
# optionally: domain base type, enum labels)
ColumnRow = tuple[Any, ...]
# (relation oid, contype, column numbers, target oid, target schema, target name, target column
# numbers, target column names, and then optionally: a CHECK constraint's definition)
ConstraintRow = tuple[Any, ...]


def assemble(
    scope_row: ScopeRow,
    column_rows: Iterable[ColumnRow],
    constraint_rows: Iterable[ConstraintRow],
) -> Catalog:
    """Build the Catalog from the rows of ``relations.sql``, ``columns.sql``, ``constraints.sql``.

    Column and constraint rows refer to relations by oid and to columns by number; columns
    are put in column-number order. View and materialized view columns get ``nullable=None``:
    the catalog calls them all nullable, which means "unknown", not "nullable". A column is
    ``selectable`` when the login may use the schema and SELECT the column. Trailing values a
    row leaves out (a domain's base type, enum labels, a CHECK definition) are unknown.
    """
    schemas, oids, nsps, names, kinds, usable = scope_row
    heads = {
        oid: (RelationKey(nsp, name), _KINDS[kind], use)
        for oid, nsp, name, kind, use in zip(
            oids or (), nsps or (), names or (), kinds or (), usable or (), strict=True
        )
    }
    columns: dict[int, list[Column]] = {}
    column_names: dict[int, dict[int, str]] = {}  # column number → name, per relation
    # Sorted by (relation, column number), which is unique: columns come out in table order.
    for oid, number, name, type_, not_null, default, privilege, *more in sorted(column_rows):
        _, kind, use = heads[oid]
        nullable = not not_null if kind in KINDS_WITH_NULLABILITY else None
        base, labels = (*more, None, None)[:2]
        column = Column(
            name,
            normalize_type(type_),
            nullable,
            default,
            bool(use and privilege),
            labels=None if labels is None else tuple(labels),
            base_type=None if base is None else normalize_type(base),
        )
        columns.setdefault(oid, []).append(column)
        column_names.setdefault(oid, {})[number] = name

    primary: dict[int, tuple[str, ...]] = {}
    unique: dict[int, list[tuple[str, ...]]] = {}
    foreign: dict[int, list[ForeignKey]] = {}
    checks: dict[int, list[CheckConstraint]] = {}
    for row in constraint_rows:
        oid, contype, key, target_oid, target_nsp, target_name, target_key, target_cols = row[:8]
        key_names = tuple(column_names[oid][number] for number in key or ())
        if contype == "c" and len(row) > 8:
            checks.setdefault(oid, []).append(CheckConstraint(key_names, row[8]))
        elif contype == "p":
            primary[oid] = key_names
        elif contype == "u":
            unique.setdefault(oid, []).append(key_names)
        elif contype == "f" and target_nsp is not None and target_name is not None:
            head = heads.get(target_oid)
            if head is not None:  # target in scope: named from what we read
                target = head[0]
                target_cols = [column_names[target_oid][number] for number in target_key or ()]
            else:
                target = RelationKey(target_nsp, target_name)
            fk = ForeignKey(key_names, target, tuple(target_cols or ()))
            foreign.setdefault(oid, []).append(fk)
    return Catalog.of(
        (
            Relation(
                key=key,
                kind=kind,
                columns=tuple(columns.get(oid, ())),
                primary_key=primary.get(oid, ()),
                foreign_keys=tuple(foreign.get(oid, ())),
                unique=tuple(unique.get(oid, ())),
                checks=tuple(checks.get(oid, ())),
            )
            for oid, (key, kind, _) in heads.items()
        ),
        schemas=schemas or (),
    )


# --------------------------------------------------------------------------- edges


def _read(session: ReadSession, scope: Scope) -> Catalog:
    params = scope.params()
    with step("reading the catalog: relations") as update:
        (scope_row,) = session.run("relations", params)
        oids = {"oids": list(scope_row[1] or ())}
        update(f"reading the catalog: columns of {len(oids['oids']):,} relations")
        column_rows = session.run("columns", oids)
        update(f"reading the catalog: constraints of {len(oids['oids']):,} relations")
        constraint_rows = session.run("constraints", oids)
        update(f"reading the catalog: {len(column_rows):,} columns read, assembling")
        catalog = assemble(scope_row, column_rows, constraint_rows)
        views = [o for o, k in zip(oids["oids"], scope_row[4] or (), strict=True) if k in "vm"]
        if views:  # one more statement: definitions and sources of the views
            from mirror.catalog.views import with_view_sources  # pglast, only when needed

            update(f"reading the catalog: definitions of {len(views):,} views")
            catalog = with_view_sources(catalog, session.run("view_sources", {"oids": views}))
        return catalog


def _unreadable(
    session: ReadSession, catalog: Catalog, readable: Mapping[RelationKey, Sequence[str]]
) -> dict[RelationKey, str]:
    """The views of ``readable`` a SELECT of their columns fails on, with the reason.

    Only views are read (tables' readability is their privileges, already in the catalog).
    Each batch runs inside a savepoint rolled back at once, which also releases its locks: a
    large contract never holds more than one batch's locks. Only when a batch is refused are
    its relations read one by one, to name which.
    """
    probes = []
    for key, wanted in readable.items():
        relation = catalog.relations.get(key)
        if relation is None or relation.kind is not Kind.VIEW:
            continue
        names = set(wanted)
        columns = [c.name for c in relation.columns if c.name in names and c.selectable]
        if columns:
            cols = ", ".join(map(quote_ident, columns))
            probes.append((key, f"SELECT {cols} FROM {key} LIMIT 0"))
    out: dict[RelationKey, str] = {}
    for start in range(0, len(probes), PROBE_BATCH):
        batch = probes[start : start + PROBE_BATCH]
        union = " UNION ALL ".join(f"SELECT 1 FROM ({q}) AS r{i}" for i, (_, q) in enumerate(batch))
        if _probe(session, "readable", union) is None:
            continue
        for key, query in batch:
            reason = _probe(session, "readable one", query)
            if reason is not None:
                out[key] = reason
    return out


def _probe(session: ReadSession, name: str, sql: str) -> str | None:
    """None when ``sql`` may run; the server's reason when a privilege is missing."""
    try:
        session.run(name, sql=f"SAVEPOINT readable; {sql}; ROLLBACK TO SAVEPOINT readable")
    except psycopg2.errors.InsufficientPrivilege as exc:
        session.run("rollback to savepoint", sql="ROLLBACK TO SAVEPOINT readable")
        return one_line(exc, session.secret)
    return None
