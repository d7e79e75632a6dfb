"""Filling a database's tables in foreign-key order, one savepoint per table.

Tables are written in foreign-key order; a foreign key in a cycle (or to its own table) that may
be NULL is written NULL first and set once its target has rows (a tree, for its own table). A
table that plays a Billig role (:mod:`mirror.provision.roles`) gets one row per scenario record,
and its foreign keys point at the rows of the records it belongs to; any other table gets a few
rows of values made from their types (:mod:`mirror.provision.values`). Identity, generated and
defaulted columns are left to the server (but enums: they take every label in turn); the rows
go through :class:`~mirror.provision.row_writer.RowWriter`, are kept as far as foreign keys refer
to them (:mod:`mirror.provision.written_rows`) and the foreign keys written NULL are set last
(:mod:`mirror.provision.deferred_keys`). What cannot be filled is one located warning.
"""

from __future__ import annotations

from collections.abc import Collection

import psycopg2

from mirror.catalog.model import RelationKey, quote_ident
from mirror.errors import SchemaLoadError, UsageError
from mirror.progress import step
from mirror.provision.allowed_values import outside_allowed
from mirror.provision.deferred_keys import set_deferred_keys
from mirror.provision.roles import means, role_of
from mirror.provision.row_plan import Reference, RowPlan, column_source
from mirror.provision.row_writer import RowWriter
from mirror.provision.scenarios import ROLES, Record, SeedData, reference_now
from mirror.provision.seed_report import SeedResult, SeedWarning
from mirror.provision.seed_tables import SeedColumn, SeedForeignKey, SeedSchema, SeedTable
from mirror.provision.values import CannotMake, made
from mirror.provision.written_rows import WrittenRows

# Rows of a table that plays no Billig role: as many as events, within these bounds.
_MIN_GENERIC_ROWS, _MAX_GENERIC_ROWS = 3, 20
# Rows made and written at a time.
_BATCH = 10_000


def fill_tables(
    cur: psycopg2.extensions.cursor,
    schema: SeedSchema,
    data: SeedData,
    only: Collection[RelationKey] | None,
) -> SeedResult:
    """Fill every table of ``schema`` (``only`` those, if given) with ``data``'s records."""
    return _Seeding(cur, schema, data, only).run()


def _detail(col: SeedColumn) -> str:
    return col.type_name + (" NOT NULL" if col.not_null else "")


class _CannotFill(Exception):
    """A table cannot be filled; the warning is already recorded."""


class _Seeding:
    """One seed's state: the tables written, their rows and the foreign keys to set last."""

    def __init__(
        self,
        cur: psycopg2.extensions.cursor,
        schema: SeedSchema,
        data: SeedData,
        only: Collection[RelationKey] | None,
    ) -> None:
        self.cur, self.schema, self.data = cur, schema, data
        self.ref = data.reference or reference_now()
        wanted = set(only) if only is not None else None
        self.units = [
            t for t in schema.tables.values()
            if t.parent is None and (wanted is None or t.key in wanted)
        ]  # fmt: skip
        self.roles = {t.oid: role_of(t) for t in self.units}
        self.warnings: list[SeedWarning] = []
        self.counts: dict[str, int] = {}
        self.done: set[int] = set()  # units with rows (written now or before)
        self.written = WrittenRows(cur, schema, data, self.roles)
        self.patches: list[tuple[SeedTable, SeedForeignKey]] = []
        n_events = len(data.records["event"])
        self.generic_rows = max(_MIN_GENERIC_ROWS, min(n_events, _MAX_GENERIC_ROWS))

    def warn(self, table: SeedTable, col: SeedColumn | None, message: str) -> None:
        detail = _detail(col) if col is not None else None
        self.warnings.append(
            SeedWarning(str(table.key), col.name if col else None, detail, message)
        )

    # ------------------------------------------------------------------ order

    def run(self) -> SeedResult:
        if not self.units:
            raise SchemaLoadError("the database holds no table to seed (did the schema load?)")
        filled = self._filled()
        for table in self.units:
            if table.oid in filled:
                if self.roles[table.oid] == "event":
                    raise UsageError(f"{table.key} already has rows; seed an empty mirror database")
                self.done.add(table.oid)
        if len(self.done) == len(self.units):
            raise UsageError("every table already has rows; seed an empty mirror database")
        unit_oids = {t.oid for t in self.units}
        pending = [t for t in _by_role(self.units, self.roles) if t.oid not in self.done]
        deps = {t.oid: self._deps(t, unit_oids) for t in pending}
        with step("loading the seed") as update:
            while pending:
                table = self._next(pending, deps)
                pending.remove(table)
                update(f"loading {table.key}")
                self._unit(table, unit_oids)
                self.done.add(table.oid)
            set_deferred_keys(self.cur, self.written, self.patches, self.warn)
        return SeedResult(self.counts, tuple(self.warnings))

    def _filled(self) -> set[int]:
        if not self.units:
            return set()
        probes = " UNION ALL ".join(
            f"SELECT {t.oid}::int8 WHERE EXISTS (SELECT FROM {t.key})" for t in self.units
        )
        self.cur.execute(probes)
        return {row[0] for row in self.cur.fetchall()}

    def _deps(self, table: SeedTable, units: set[int]) -> tuple[set[int], set[int]]:
        """(hard, soft) dependencies: targets a NOT NULL foreign key (or a NULL-able one) needs."""
        hard: set[int] = set()
        soft: set[int] = set()
        for fk in table.foreign_keys:
            target = self.schema.root(fk.target)
            if target == table.oid or target not in units:
                continue
            nullable = all(not (c := table.column(n)) or not c.not_null for n in fk.columns)
            (soft if nullable else hard).add(target)
        return hard, soft

    def _next(
        self, pending: list[SeedTable], deps: dict[int, tuple[set[int], set[int]]]
    ) -> SeedTable:
        for strict in (True, False):
            for table in pending:
                hard, soft = deps[table.oid]
                if hard <= self.done and (not strict or soft <= self.done):
                    return table
        return pending[0]  # a cycle of NOT NULL foreign keys: its foreign keys say so

    # ------------------------------------------------------------------ one table

    def _unit(self, table: SeedTable, units: set[int]) -> None:
        self.cur.execute("SAVEPOINT billig_seed")
        try:
            written = self._write(table, units, self._records(table), into=table)
            if table.partitioned:
                written += self._top_up(table, units)
            self.warnings += outside_allowed(self.cur, self.schema, table)
        except _CannotFill:
            self.cur.execute("ROLLBACK TO SAVEPOINT billig_seed")
            self.written.forget(table.oid)
            return
        self.cur.execute("RELEASE SAVEPOINT billig_seed")
        self.counts[str(table.key)] = written

    def _records(self, table: SeedTable) -> list[tuple[int | None, Record | None]]:
        role = self.roles.get(table.oid)
        if role is not None and self.data.records[role]:
            return list(enumerate(self.data.records[role]))
        return [(None, None)] * self.generic_rows

    def _top_up(self, root: SeedTable, units: set[int]) -> int:
        """Rows written straight into the partitions the routed rows left empty."""
        written = 0
        for leaf in self.schema.leaves(root.oid):
            self.cur.execute(f"SELECT EXISTS (SELECT FROM {leaf.key})")
            row = self.cur.fetchone()
            if row and not row[0]:
                before = self.written.count(root.oid)
                written += self._write(leaf, units, [(None, None)] * 3, into=root, start=before)
        return written

    def _write(
        self,
        table: SeedTable,
        units: set[int],
        records: list[tuple[int | None, Record | None]],
        *,
        into: SeedTable,
        start: int = 0,
    ) -> int:
        """Write one row per record into ``table``; rows are kept under the unit ``into``."""
        fk_of = {name: fk for fk in table.foreign_keys for name in fk.columns}
        meanings = self._meanings(records)
        columns = [
            col for col in table.columns
            if not col.written_by_server
            and (col.name in fk_of or means(meanings, col.name)
                 or (col.not_null and not col.has_default) or self._enum(col)
                 or col.allowed is not None)
        ]  # fmt: skip
        for col in columns:  # a type it cannot make stops the table before any row is built
            if col.name not in fk_of and not means(meanings, col.name):
                try:
                    made(self.schema, col, self.ref, 0)
                except CannotMake as exc:
                    self.warn(table, col, f"could not fill ({exc}): {table.key} not seeded")
                    raise _CannotFill from None
        names = [col.name for col in columns]
        first = records[0][1] if records else None
        sources = tuple(
            column_source(self.schema, self.data, col, position, first, self.ref)
            for position, col in enumerate(columns)
            if col.name not in fk_of
        )
        available = {col.name for col in columns if col.name not in fk_of}
        references = []
        for fk in dict.fromkeys(fk_of.values()):
            references.append(self._reference(table, fk, units, names, available))
            available.update(fk.columns)
        depth = max((s.at + 1 for s in sources if s.at is not None), default=0)
        plan = RowPlan(self.data, len(columns), sources, tuple(references), depth)
        bounds = [
            definition
            for leaf in (self.schema.leaves(table.oid) if table.partitioned else [])
            for name, definition in leaf.checks
            if name.startswith("the partition")
        ]
        writer = RowWriter(
            self.cur, self.schema, table, columns, frozenset(fk_of), self.ref, bounds
        )
        total = 0
        # Rows are made, written and forgotten a batch at a time: memory stays flat.
        for lo in range(0, len(records), _BATCH):
            batch = records[lo : lo + _BATCH]
            rows, written = writer.write(
                plan.row(record, start + lo + k) for k, (_, record) in enumerate(batch)
            )
            self.written.add(into.oid, [batch[k][0] for k in written], names,
                             [rows[k] for k in written])  # fmt: skip
            total += len(written)
        for why, count in writer.dropped.items():
            self.warn(
                table, None, f"{count} of {len(records)} rows left out: no values satisfy {why}"
            )
        return total

    def _enum(self, col: SeedColumn) -> bool:
        """An enum column gets every label in turn, even where it has a default: a state's
        default ('draft') is typically the one a view leaves out."""
        info = self.schema.resolve(col.type_oid)
        return info is not None and info.kind == "e"

    def _meanings(self, records: list[tuple[int | None, Record | None]]) -> dict[str, object]:
        """The values of the first record and the records it belongs to, by column name."""
        names: dict[str, object] = {}
        seen_roles: set[str] = set()
        for _, record in records[:1]:
            stack = [record] if record is not None else []
            while stack:
                current = stack.pop()
                for name, value in current.values.items():
                    names.setdefault(name, value)
                for role, index in current.parents:
                    if role not in seen_roles:
                        seen_roles.add(role)
                        stack.append(self.data.records[role][index])
        return names

    def _reference(
        self,
        table: SeedTable,
        fk: SeedForeignKey,
        units: set[int],
        names: list[str],
        available: set[str],
    ) -> tuple[tuple[int, ...], Reference]:
        """Where a foreign key's columns are in the row, and their values for each row."""
        positions = tuple(names.index(c) for c in fk.columns)
        nullable = all(not (c := table.column(n)) or not c.not_null for n in fk.columns)
        nothing: tuple[object, ...] = (None,) * len(fk.columns)
        target = self.schema.root(fk.target)
        if target == self.schema.root(table.oid):
            if nullable:
                self._patch_later(table, fk)
                return positions, lambda record, i, row: nothing
            if all(t in available for t in fk.target_columns):  # each row refers to itself
                own = [names.index(t) for t in fk.target_columns]
                return positions, lambda record, i, row: [row[p] for p in own]
            col = table.column(fk.columns[0])
            self.warn(table, col, f"could not fill (refers to its own table's {_columns(fk)}, "
                      f"which the server fills): {table.key} not seeded")  # fmt: skip
            raise _CannotFill
        if target in units and target not in self.done:
            if nullable:
                self._patch_later(table, fk)
                return positions, lambda record, i, row: nothing
            col = table.column(fk.columns[0])
            cycle = self.schema.tables[target].key
            self.warn(table, col, f"could not fill (a cycle of NOT NULL foreign keys through "
                      f"{cycle}): {table.key} not seeded")  # fmt: skip
            raise _CannotFill
        if not self.written.keys(target, fk.target_columns).keys:
            if nullable:
                return positions, lambda record, i, row: nothing
            there = self.schema.tables.get(target)
            where = str(there.key) if there is not None else "its target"
            col = table.column(fk.columns[0])
            self.warn(table, col, f"could not fill (no rows in {where} to refer to): "
                      f"{table.key} not seeded")  # fmt: skip
            raise _CannotFill
        key = self.written.referrer(target, fk.target_columns)
        return positions, lambda record, i, row: key(record, i)

    def _patch_later(self, table: SeedTable, fk: SeedForeignKey) -> None:
        if (table, fk) not in self.patches:
            self.patches.append((table, fk))


def _columns(fk: SeedForeignKey) -> str:
    return ", ".join(map(quote_ident, fk.target_columns))


def _by_role(tables: list[SeedTable], roles: dict[int, str | None]) -> list[SeedTable]:
    """Billig's tables in their roles' order first, then the others by name."""

    def rank(table: SeedTable) -> tuple[int, RelationKey]:
        role = roles.get(table.oid)
        return (ROLES.index(role) if role else len(ROLES), table.key)

    return sorted(tables, key=rank)
