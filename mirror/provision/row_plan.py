"""How each column a seed writes to a table gets its value: decided once per table, then applied
to every row.

A column takes the value of the same name (or meaning, ``price_nok`` for ``price``) from its
row's record or the records that record belongs to. Where that value sits (the position in the
record's lineage and the name) is found once, on the table's first record, and read from the
same place in every other: the records of one role all hold the same names. A record that does
not is looked up in full. A value the column cannot hold, or a column no record has a value for,
gets a value made from its type (NOT NULL) or NULL. A foreign key's columns take what its
reference gives (:class:`Reference`, planned by the filling, which knows the tables written).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mirror.provision.roles import lineage, lookup, place_of
from mirror.provision.scenarios import Record, SeedData
from mirror.provision.seed_tables import SeedColumn, SeedSchema
from mirror.provision.values import fitter, maker

# A foreign key's values for a row: (the row's record, its number, the row's other values).
Reference = Callable[[Record | None, int, list[object]], Sequence[object]]


@dataclass(frozen=True, slots=True)
class ColumnSource:
    """Where one column's value comes from: a record (``at``, ``meaning``) or its type only."""

    position: int  # in the row
    column: str
    at: int | None  # the position in a row record's lineage of the record holding the value
    meaning: str  # the name the value has there
    fit: Callable[[object], tuple[bool, object]]  # the value as the column holds it
    make: Callable[[int], object] | None  # row i's value when no record has one (None: NULL)


_MISSING = object()


@dataclass(frozen=True, slots=True)
class RowPlan:
    """The values of a table's rows, one list per row in the order of the columns written."""

    data: SeedData
    width: int
    sources: tuple[ColumnSource, ...]  # of each column but the foreign keys'
    references: tuple[tuple[tuple[int, ...], Reference], ...]  # (positions, reference) per key
    depth: int  # how many records of a row's lineage the sources read

    def row(self, record: Record | None, i: int) -> list[object]:
        chain = lineage(self.data, record, self.depth) if self.depth else []
        row: list[object] = [None] * self.width
        for source in self.sources:
            if source.at is not None and chain:
                holder = chain[source.at].values if source.at < len(chain) else {}
                found = holder.get(source.meaning, _MISSING)
                if found is _MISSING:  # a record of another shape
                    ok, found = lookup(self.data, chain[0], source.column)
                    found = found if ok else _MISSING
                if found is not _MISSING:
                    ok, fitted = source.fit(found)
                    if ok:
                        row[source.position] = fitted
                        continue
            if source.make is not None:
                row[source.position] = source.make(i)
        for positions, reference in self.references:  # in order: a key may use an earlier one
            for position, key in zip(positions, reference(record, i, row), strict=True):
                row[position] = key
        return row


def column_source(
    schema: SeedSchema,
    data: SeedData,
    column: SeedColumn,
    position: int,
    first: Record | None,
    ref: datetime,
) -> ColumnSource:
    """Where ``column`` (at ``position`` in the row) takes its value, found on ``first``."""
    place = place_of(lineage(data, first), column.name) if first is not None else None
    at, meaning = place if place is not None else (None, column.name)
    filled = column.not_null or column.allowed is not None  # choices: every one in turn
    make = maker(schema, column, ref) if filled else None
    return ColumnSource(position, column.name, at, meaning, fitter(schema, column), make)
