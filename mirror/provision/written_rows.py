"""The rows a seed wrote, kept only as far as foreign keys refer to them.

Per unit (a table, with the rows of its partitions under it) the seed keeps each row's record
index and the values of the columns some foreign key of the schema refers to, nothing else. A
foreign key's value for a row is the key of the target row written for the record its own
record belongs to (a ticket's price group), else the key of target row ``i`` modulo their
number: a dictionary look-up or an index, whatever the number of rows. Keys the server filled
(identity, defaults) are read back once per target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg2

from mirror.catalog.model import quote_ident
from mirror.provision.roles import ancestor
from mirror.provision.scenarios import Record, SeedData
from mirror.provision.seed_tables import SeedSchema

Key = tuple[object, ...]
Referrer = Callable[[Record | None, int], Key]


@dataclass(frozen=True, slots=True)
class TargetKeys:
    """The keys of a target's rows, in the order written, and the first one of each record."""

    keys: list[Key]
    by_record: dict[int, Key]


class WrittenRows:
    """Record indices and referred-to values of the rows written, per unit."""

    def __init__(
        self,
        cur: psycopg2.extensions.cursor,
        schema: SeedSchema,
        data: SeedData,
        roles: dict[int, str | None],
    ) -> None:
        self.cur, self.schema, self.data, self.roles = cur, schema, data, roles
        referred: dict[int, set[str]] = {}
        for table in schema.tables.values():
            for fk in table.foreign_keys:
                referred.setdefault(schema.root(fk.target), set()).update(fk.target_columns)
        self._referred = referred
        self._records: dict[int, list[int | None]] = {}
        # Per unit, the referred-to columns every write so far had, with their values.
        self._values: dict[int, dict[str, list[object]]] = {}
        self._keys: dict[tuple[int, tuple[str, ...]], TargetKeys] = {}

    def add(
        self,
        unit: int,
        records: Sequence[int | None],
        names: Sequence[str],
        rows: Sequence[Sequence[object]],
    ) -> None:
        """Keep the rows just written to ``unit`` (``names`` are the columns of ``rows``)."""
        kept = self._referred.get(unit, set())
        first = unit not in self._records
        self._records.setdefault(unit, []).extend(records)
        values = self._values.setdefault(unit, {})
        for pos, name in enumerate(names):
            if name in kept and (first or name in values):
                values.setdefault(name, []).extend(row[pos] for row in rows)
        for name in [n for n in values if n not in names]:
            del values[name]  # not written this time: the server's, read back when needed
        self._keys = {k: v for k, v in self._keys.items() if k[0] != unit}

    def forget(self, unit: int) -> None:
        """Drop the unit's rows (their savepoint was rolled back)."""
        self._records.pop(unit, None)
        self._values.pop(unit, None)
        self._keys = {k: v for k, v in self._keys.items() if k[0] != unit}

    def count(self, unit: int) -> int:
        return len(self._records.get(unit, ()))

    def record_at(self, unit: int, position: int) -> int | None:
        """The record index of the unit's row ``position`` (in the order written)."""
        records = self._records.get(unit, [])
        return records[position] if position < len(records) else None

    def keys(self, target: int, columns: tuple[str, ...]) -> TargetKeys:
        """The keys of ``target``'s rows for a foreign key to ``columns`` (computed once)."""
        cached = self._keys.get((target, columns))
        if cached is None:
            cached = self._keys[(target, columns)] = self._read(target, columns)
        return cached

    def referrer(self, target: int, columns: tuple[str, ...]) -> Referrer:
        """The key row ``i`` (of a record) refers to in ``target``, which has rows and whose
        rows stay as they are while the referrer is used."""
        found = self.keys(target, columns)
        role = self.roles.get(target)
        data, count = self.data, len(found.keys)

        def key(record: Record | None, i: int) -> Key:
            if record is not None and role is not None:
                index = ancestor(data, record, role)
                if index is not None and (linked := found.by_record.get(index)) is not None:
                    return linked
            return found.keys[i % count]

        return key

    def _read(self, target: int, columns: tuple[str, ...]) -> TargetKeys:
        records = self._records.get(target, [])
        values = self._values.get(target, {})
        if records and all(c in values for c in columns):
            keys = list(zip(*(values[c] for c in columns), strict=True))
            return _indexed(records, keys)
        table = self.schema.tables.get(target)
        if table is None:
            return TargetKeys([], {})
        cols = ", ".join(map(quote_ident, columns))
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in columns)
        order = "tableoid, ctid" if table.partitioned else "ctid"
        self.cur.execute(f"SELECT {cols} FROM {table.key} WHERE {present} ORDER BY {order}")
        fetched = [tuple(row) for row in self.cur.fetchall()]
        if records and len(records) == len(fetched) and not table.partitioned:
            return _indexed(records, fetched)
        return TargetKeys(fetched, {})


def _indexed(records: Sequence[int | None], keys: list[Key]) -> TargetKeys:
    by_record: dict[int, Key] = {}
    for record, key in zip(records, keys, strict=True):
        if record is not None:
            by_record.setdefault(record, key)
    return TargetKeys(keys, by_record)
