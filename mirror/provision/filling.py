"""Filling a database's tables in foreign-key order, one savepoint per table.

Tables are written in foreign-key order; a foreign key in a cycle (or to its own table) that may
be NULL is written NULL first and set once its target has rows (a tree, for its own table). A
table that plays a Billig role (:mod:`mirror.provision.roles`) gets one row per scenario record,
and its foreign keys point at the rows of the records it belongs to; any other table gets a few
rows of values made from their types (:mod:`mirror.provision.values`). Identity, generated and
defaulted columns are left to the server; the rows go through
:class:`~mirror.provision.row_writer.RowWriter`. What cannot be filled is one located warning.
"""

from __future__ import annotations

from collections.abc import Collection

import psycopg2
import psycopg2.extras

from mirror.catalog.model import RelationKey, quote_ident
from mirror.errors import SchemaLoadError, UsageError
from mirror.progress import step
from mirror.provision.roles import ancestor, lookup, means, role_of
from mirror.provision.row_writer import RowWriter
from mirror.provision.scenarios import ROLES, Record, SeedData, reference_now
from mirror.provision.seed_report import SeedResult, SeedWarning
from mirror.provision.seed_tables import SeedColumn, SeedForeignKey, SeedSchema, SeedTable
from mirror.provision.values import CannotMake, fitted, made

# Rows of a table that plays no Billig role: as many as events, within these bounds.
_MIN_GENERIC_ROWS, _MAX_GENERIC_ROWS = 3, 20


def fill_tables(
    cur: psycopg2.extensions.cursor,
    schema: SeedSchema,
    data: SeedData,
    only: Collection[RelationKey] | None,
) -> SeedResult:
    """Fill every table of ``schema`` (``only`` those, if given) with ``data``'s records."""
    return _Seeding(cur, schema, data, only).run()


def _message(exc: psycopg2.Error) -> str:
    text = exc.diag.message_primary or str(exc).strip().split("\n")[0]
    return " ".join(text.split()) or type(exc).__name__


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
        # Per written unit: the rows written, each with its record index (None: no record).
        self.rows: dict[int, list[tuple[int | None, dict[str, object]]]] = {}
        self.patches: list[tuple[SeedTable, SeedForeignKey]] = []
        n_events = len(data.records["event"])
        self.generic_rows = max(_MIN_GENERIC_ROWS, min(n_events, _MAX_GENERIC_ROWS))

    def warn(self, table: SeedTable, col: SeedColumn | None, message: str) -> None:
        detail = _detail(col) if col is not None else None
        self.warnings.append(
            SeedWarning(str(table.key), col.name if col else None, detail, message)
        )

    def root(self, oid: int) -> int:
        table = self.schema.tables.get(oid)
        while table is not None and table.parent is not None:
            table = self.schema.tables.get(table.parent)
        return table.oid if table is not None else oid

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
            self._patch()
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
            target = self.root(fk.target)
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
        except _CannotFill:
            self.cur.execute("ROLLBACK TO SAVEPOINT billig_seed")
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
        leaves = [
            t for t in self.schema.tables.values()
            if not t.partitioned and t.parent is not None and self.root(t.oid) == root.oid
        ]  # fmt: skip
        written = 0
        for leaf in leaves:
            self.cur.execute(f"SELECT EXISTS (SELECT FROM {leaf.key})")
            row = self.cur.fetchone()
            if row and not row[0]:
                before = len(self.rows.get(root.oid, []))
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
                 or (col.not_null and not col.has_default))
        ]  # fmt: skip
        for col in columns:  # a type it cannot make stops the table before any row is built
            if col.name not in fk_of and not means(meanings, col.name):
                try:
                    made(self.schema, col, self.ref, 0)
                except CannotMake as exc:
                    self.warn(table, col, f"could not fill ({exc}): {table.key} not seeded")
                    raise _CannotFill from None
        rows = [
            self._row(table, columns, fk_of, units, start + i, index, record)
            for i, (index, record) in enumerate(records)
        ]
        bounds = [
            definition
            for leaf in self.schema.tables.values()
            if table.partitioned and leaf.parent is not None and self.root(leaf.oid) == table.oid
            for name, definition in leaf.checks
            if name.startswith("the partition")
        ]
        writer = RowWriter(
            self.cur, self.schema, table, columns, frozenset(fk_of), self.ref, bounds
        )
        values = [[row[col.name] for col in columns] for row in rows]
        written = writer.write(values)
        kept = self.rows.setdefault(into.oid, [])
        for i in written:
            kept.append(
                (records[i][0], dict(zip((c.name for c in columns), values[i], strict=True)))
            )
        for why, count in writer.dropped.items():
            self.warn(table, None, f"{count} of {len(rows)} rows left out: no values satisfy {why}")
        return len(written)

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

    def _row(
        self,
        table: SeedTable,
        columns: list[SeedColumn],
        fk_of: dict[str, SeedForeignKey],
        units: set[int],
        i: int,
        index: int | None,
        record: Record | None,
    ) -> dict[str, object]:
        row: dict[str, object] = {}
        for col in columns:
            if col.name in fk_of:
                continue
            found, value = lookup(self.data, record, col.name)
            ok, value = fitted(self.schema, col, value) if found else (False, None)
            if not ok:
                value = made(self.schema, col, self.ref, i) if col.not_null else None
            row[col.name] = value
        for fk in dict.fromkeys(fk_of.values()):
            row.update(self._reference(table, fk, units, i, record, row))
        return row

    def _reference(
        self,
        table: SeedTable,
        fk: SeedForeignKey,
        units: set[int],
        i: int,
        record: Record | None,
        row: dict[str, object],
    ) -> dict[str, object]:
        """Values of a foreign key's columns for row ``i``."""
        nullable = all(not (c := table.column(n)) or not c.not_null for n in fk.columns)
        nothing = dict.fromkeys(fk.columns)
        target = self.root(fk.target)
        if target == self.root(table.oid):
            if nullable:
                self._patch_later(table, fk)
                return nothing
            if all(t in row for t in fk.target_columns):  # each row refers to itself
                return {c: row[t] for c, t in zip(fk.columns, fk.target_columns, strict=True)}
            col = table.column(fk.columns[0])
            self.warn(table, col, f"could not fill (refers to its own table's {_columns(fk)}, "
                      f"which the server fills): {table.key} not seeded")  # fmt: skip
            raise _CannotFill
        if target in units and target not in self.done:
            if nullable:
                self._patch_later(table, fk)
                return nothing
            col = table.column(fk.columns[0])
            cycle = self.schema.tables[target].key
            self.warn(table, col, f"could not fill (a cycle of NOT NULL foreign keys through "
                      f"{cycle}): {table.key} not seeded")  # fmt: skip
            raise _CannotFill
        keys = self._keys(target, fk.target_columns)
        if not keys:
            if nullable:
                return nothing
            there = self.schema.tables.get(target)
            where = str(there.key) if there is not None else "its target"
            col = table.column(fk.columns[0])
            self.warn(table, col, f"could not fill (no rows in {where} to refer to): "
                      f"{table.key} not seeded")  # fmt: skip
            raise _CannotFill
        chosen = self._linked(target, record, keys)
        key = chosen if chosen is not None else keys[i % len(keys)][1]
        return dict(zip(fk.columns, key, strict=True))

    def _patch_later(self, table: SeedTable, fk: SeedForeignKey) -> None:
        if (table, fk) not in self.patches:
            self.patches.append((table, fk))

    def _linked(
        self, target: int, record: Record | None, keys: list[tuple[int | None, tuple[object, ...]]]
    ) -> tuple[object, ...] | None:
        """The key of the target row of the record this row's record belongs to, if any."""
        role = self.roles.get(target)
        if record is None or role is None:
            return None
        index = ancestor(self.data, record, role)
        if index is None:
            return None
        return next((key for rec, key in keys if rec == index), None)

    def _keys(
        self, target: int, columns: tuple[str, ...]
    ) -> list[tuple[int | None, tuple[object, ...]]]:
        """(record index, key) of the target's rows, for a foreign key to ``columns``."""
        rows = self.rows.get(target)
        if rows and all(c in rows[0][1] for c in columns):
            return [(rec, tuple(row[c] for c in columns)) for rec, row in rows]
        table = self.schema.tables.get(target)
        if table is None:
            return []
        cols = ", ".join(map(quote_ident, columns))
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in columns)
        order = "tableoid, ctid" if table.partitioned else "ctid"
        self.cur.execute(f"SELECT {cols} FROM {table.key} WHERE {present} ORDER BY {order}")
        fetched = self.cur.fetchall()
        if rows and len(rows) == len(fetched) and not table.partitioned:
            return [(rec, tuple(key)) for (rec, _), key in zip(rows, fetched, strict=True)]
        return [(None, tuple(key)) for key in fetched]

    # ------------------------------------------------------------------ foreign keys set last

    def _patch(self) -> None:
        """Set the NULL-able foreign keys written NULL first, now that their targets have rows."""
        by_table: dict[int, list[SeedForeignKey]] = {}
        for table, fk in self.patches:
            if table.oid in self.counts or self.root(table.oid) in self.done:
                by_table.setdefault(table.oid, []).append(fk)
        for oid, fks in by_table.items():
            table = self.schema.tables[oid]
            self.cur.execute("SAVEPOINT billig_patch")
            try:
                self._patch_table(table, fks)
            except psycopg2.Error as exc:
                if self.cur.connection.closed:
                    raise
                self.cur.execute("ROLLBACK TO SAVEPOINT billig_patch")
                for fk in fks:
                    self.warn(table, table.column(fk.columns[0]), f"left NULL: {_message(exc)}")
                continue
            self.cur.execute("RELEASE SAVEPOINT billig_patch")

    def _patch_table(self, table: SeedTable, fks: list[SeedForeignKey]) -> None:
        """One UPDATE per row (an update moves the row: every key of it is set at once)."""
        order = "tableoid, ctid" if table.partitioned else "ctid"
        self.cur.execute(f"SELECT tableoid::int8, ctid::text FROM {table.key} ORDER BY {order}")
        places = self.cur.fetchall()
        rows = self.rows.get(self.root(table.oid), [])
        role = self.roles.get(self.root(table.oid))
        values: list[dict[str, object]] = [{} for _ in places]
        for fk in fks:
            target = self.root(fk.target)
            keys = self._keys(target, fk.target_columns)
            for j in range(len(places)):
                if target == self.root(table.oid):  # a tree: row j under row (j - 1) // 2
                    key = keys[(j - 1) // 2][1] if j > 0 and (j - 1) // 2 < len(keys) else None
                else:
                    index = rows[j][0] if j < len(rows) else None
                    record = self.data.records[role][index] if role and index is not None else None
                    key = self._linked(target, record, keys)
                    if key is None and keys:
                        key = keys[j % len(keys)][1]
                values[j].update(zip(fk.columns, key or (None,) * len(fk.columns), strict=True))
        names = list(dict.fromkeys(c for fk in fks for c in fk.columns))
        casts = [table.column(c).type_name for c in names]  # type: ignore[union-attr]
        assignments = ", ".join(
            f"{quote_ident(c)} = %s::{t}" for c, t in zip(names, casts, strict=True)
        )
        psycopg2.extras.execute_batch(
            self.cur,
            f"UPDATE {table.key} SET {assignments} WHERE tableoid = %s AND ctid = %s::tid",
            [(*(v.get(c) for c in names), *place) for v, place in zip(values, places, strict=True)],
            page_size=500,
        )


def _columns(fk: SeedForeignKey) -> str:
    return ", ".join(map(quote_ident, fk.target_columns))


def _by_role(tables: list[SeedTable], roles: dict[int, str | None]) -> list[SeedTable]:
    """Billig's tables in their roles' order first, then the others by name."""

    def rank(table: SeedTable) -> tuple[int, RelationKey]:
        role = roles.get(table.oid)
        return (ROLES.index(role) if role else len(ROLES), table.key)

    return sorted(tables, key=rank)
