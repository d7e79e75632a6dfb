"""Foreign keys set last: those in a cycle (or to their own table) that were written NULL.

Once every table has its rows, each such foreign key is set: to the target row of the record
the row's own record belongs to, else to target row ``j`` modulo their number, and for a table
that refers to itself, as a tree (row ``j`` under row ``(j - 1) // 2``). A table's keys are set
in one savepoint; when the server refuses them they stay NULL, and the warning says why.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg2
import psycopg2.extras

from mirror.catalog.model import quote_ident
from mirror.provision.seed_report import server_message
from mirror.provision.seed_tables import SeedColumn, SeedForeignKey, SeedTable
from mirror.provision.written_rows import WrittenRows

Warn = Callable[[SeedTable, SeedColumn | None, str], None]


def set_deferred_keys(
    cur: psycopg2.extensions.cursor,
    written: WrittenRows,
    patches: list[tuple[SeedTable, SeedForeignKey]],
    warn: Warn,
) -> None:
    """Set the foreign keys of ``patches`` in the tables that were written."""
    by_table: dict[int, list[SeedForeignKey]] = {}
    for table, fk in patches:
        if written.count(written.schema.root(table.oid)):
            by_table.setdefault(table.oid, []).append(fk)
    for oid, fks in by_table.items():
        table = written.schema.tables[oid]
        cur.execute("SAVEPOINT billig_patch")
        try:
            _set_keys(cur, written, table, fks)
        except psycopg2.Error as exc:
            if cur.connection.closed:
                raise
            cur.execute("ROLLBACK TO SAVEPOINT billig_patch")
            for fk in fks:
                warn(table, table.column(fk.columns[0]), f"left NULL: {server_message(exc)}")
            continue
        cur.execute("RELEASE SAVEPOINT billig_patch")


def _set_keys(
    cur: psycopg2.extensions.cursor,
    written: WrittenRows,
    table: SeedTable,
    fks: list[SeedForeignKey],
) -> None:
    """One UPDATE per row (an update moves the row: every key of it is set at once)."""
    order = "tableoid, ctid" if table.partitioned else "ctid"
    cur.execute(f"SELECT tableoid::int8, ctid::text FROM {table.key} ORDER BY {order}")
    places = cur.fetchall()
    unit = written.schema.root(table.oid)
    role = written.roles.get(unit)
    records = written.data.records[role] if role else []
    values: list[dict[str, object]] = [{} for _ in places]
    for fk in fks:
        target = written.schema.root(fk.target)
        keys = written.keys(target, fk.target_columns).keys
        linked = written.referrer(target, fk.target_columns) if keys else None
        for j in range(len(places)):
            key: tuple[object, ...] | None = None
            if target == unit:  # a tree: row j under row (j - 1) // 2
                key = keys[(j - 1) // 2] if j > 0 and (j - 1) // 2 < len(keys) else None
            elif linked is not None:
                index = written.record_at(unit, j)
                key = linked(records[index] if index is not None and records else None, j)
            values[j].update(zip(fk.columns, key or (None,) * len(fk.columns), strict=True))
    names = list(dict.fromkeys(c for fk in fks for c in fk.columns))
    casts = [table.column(c).type_name for c in names]  # type: ignore[union-attr]
    assignments = ", ".join(
        f"{quote_ident(c)} = %s::{t}" for c, t in zip(names, casts, strict=True)
    )
    psycopg2.extras.execute_batch(
        cur,
        f"UPDATE {table.key} SET {assignments} WHERE tableoid = %s AND ctid = %s::tid",
        [(*(v.get(c) for c in names), *place) for v, place in zip(values, places, strict=True)],
        page_size=500,
    )
