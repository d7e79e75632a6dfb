"""The values a site's readers allow in some columns (a Django field's ``choices``), for the seed.

A column whose readers allow only some values (:attr:`~mirror.catalog.model.Usage.choices`)
must hold only those in the mirror, or the site's own output, checked against the shapes that
declare them, fails on data production could never hold. The allowed values come from the
site's lineage (commands that load the site) or from the lineage pinned in ``columns.json``
(the pytest plugin, ``billig mirror``), are part of the mirror cache key, and reach the seed as
:class:`AllowedValues`. A view column's values are those of the base table column it passes
through (followed on the loaded schema); the seed then writes the allowed values in turn
(:func:`mirror.provision.values.maker`), keeps those the column can hold, and says in one
warning per column where the column's own type or constraints refuse them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mirror.catalog.model import ColumnRef, Kind, RelationKey, Usage, quote_ident
from mirror.provision.seed_report import SeedWarning

if TYPE_CHECKING:
    import psycopg2.extensions

    from mirror.provision.seed_tables import SeedColumn, SeedSchema, SeedTable

Choice = str | int


@dataclass(frozen=True)
class AllowedValues:
    """Per column, the only values its readers allow, in the order they declare them."""

    columns: Mapping[ColumnRef, tuple[Choice, ...]] = field(default_factory=dict)

    @classmethod
    def of_lineage(cls, lineage: Mapping[ColumnRef, Usage] | None) -> AllowedValues:
        """The choices of a lineage (a site's, or the one a contract pins)."""
        return cls({ref: u.choices for ref, u in sorted((lineage or {}).items()) if u.choices})

    @classmethod
    def pinned(cls, contracts: Path) -> AllowedValues:
        """The choices pinned in the ``columns.json`` lineage of ``contracts``; none without a
        readable contract (the contract checks report what is wrong with it)."""
        from mirror.errors import HarnessError
        from mirror.sources.contract_file import COLUMNS_FILE, load_contract

        path = contracts / COLUMNS_FILE
        try:
            return cls.of_lineage(load_contract(path).lineage) if path.is_file() else cls()
        except (HarnessError, OSError):
            return cls()

    def __bool__(self) -> bool:
        return bool(self.columns)

    def key(self) -> str:
        """What a cached mirror is keyed by: a digest of every column's values, in order."""
        listed = [[*ref, list(values)] for ref, values in sorted(self.columns.items())]
        return hashlib.sha256(json.dumps(listed).encode()).hexdigest()

    def on_tables(self, conn: psycopg2.extensions.connection) -> AllowedValues:
        """The same values on the base table columns of the loaded schema: a view column's
        go to the column it passes through unchanged; a computed one is left out. Readers of
        one column through several relations allow only the values they all allow."""
        if not self:
            return self
        from mirror.sources.introspect import introspect

        relations = {RelationKey(ref.schema, ref.relation) for ref in self.columns}
        catalog = introspect(conn, relations=sorted(relations), namesakes=False).catalog
        found: dict[ColumnRef, tuple[Choice, ...]] = {}
        for ref, values in self.columns.items():
            rel = catalog.relations.get(RelationKey(ref.schema, ref.relation))
            col = rel.column(ref.column) if rel is not None else None
            if rel is None or col is None:
                continue
            if rel.kind in (Kind.TABLE, Kind.PARTITIONED_TABLE):
                base: ColumnRef | None = ref
            else:
                base = col.origin.column if col.origin is not None else None
            if base is not None:
                before = found.get(base)
                found[base] = values if before is None else tuple(v for v in before if v in values)
        return AllowedValues(found)


def apply_allowed(
    schema: SeedSchema, allowed: AllowedValues
) -> tuple[SeedSchema, list[SeedWarning]]:
    """``schema`` with each constrained column carrying the values it can hold, and a warning
    per column where its type (an enum's labels, a length, a number's range) refuses some."""
    if not allowed:
        return schema, []
    warnings = []
    tables = dict(schema.tables)
    for oid, table in schema.tables.items():
        read_as = schema.tables[schema.root(oid)].key  # a partition's rows are its table's
        columns = list(table.columns)
        for index, col in enumerate(columns):
            values = allowed.columns.get(ColumnRef(*read_as, col.name))
            if not values or col.written_by_server:
                continue
            kept = tuple(v for v in values if _holds(schema, col, v))
            if len(kept) < len(values):
                refused = [v for v in values if v not in kept]
                what = "left out" if kept else "the column is filled as if it had none"
                message = f"its type refuses the readers' choice(s) {_listed(refused)}: {what}"
                warnings.append(_warning(table, col, message))
            if kept:
                columns[index] = replace(col, allowed=kept)
        tables[oid] = replace(table, columns=tuple(columns))
    return replace(schema, tables=tables), warnings


def _holds(schema: SeedSchema, col: SeedColumn, value: Choice) -> bool:
    """Whether ``col`` holds ``value`` as it is (not cut to its length, not another label)."""
    from mirror.provision.values import fitted

    ok, held = fitted(schema, col, value)
    return ok and str(held) == str(value)


def outside_allowed(
    cur: psycopg2.extensions.cursor, schema: SeedSchema, table: SeedTable
) -> list[SeedWarning]:
    """One warning per column of ``table`` whose written rows hold values its readers do not
    allow: its constraints (a CHECK, a domain's check, a unique key) refused the choices."""
    warnings = []
    for col in table.columns:
        if not col.allowed:
            continue
        info = schema.resolve(col.type_oid)
        # Integer choices of a number column compare as numbers (10 is 10.00 in numeric(5,2)).
        cast = "numeric" if info is not None and info.category == "N" and all(
            isinstance(v, int) for v in col.allowed) else "text"  # fmt: skip
        name = f"{quote_ident(col.name)}::{cast}"
        cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {name} <> ALL (%(v)s::{cast}[])),"
            f" array_agg(DISTINCT {name}) FILTER (WHERE {name} = ANY (%(v)s::{cast}[]))"
            f" FROM {table.key}",
            {"v": list(col.allowed)},
        )
        rows, outside, written = cur.fetchone() or (0, 0, None)
        seen = set(written or ())
        # With a row for each, every choice is written unless the constraints refuse it.
        missing = [v for v in col.allowed if (v if cast == "numeric" else str(v)) not in seen]
        refused = missing if rows >= len(col.allowed) else []
        if outside or refused:
            which = f"choice(s) {_listed(refused)}" if refused else "choices"
            message = f"the column's constraints refuse the readers' {which}"
            if outside:
                message += f"; {outside} row(s) hold other values"
            warnings.append(_warning(table, col, message))
    return warnings


def _warning(table: SeedTable, col: SeedColumn, message: str) -> SeedWarning:
    detail = col.type_name + (" NOT NULL" if col.not_null else "")
    return SeedWarning(str(table.key), col.name, detail, message)


def _listed(values: list[Choice]) -> str:
    return ", ".join(repr(v) for v in values)
