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
# A column's value for a row: (the row record's lineage, the row's number).
ColumnValue = Callable[[list[Record], int], object]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class RowPlan:
    """The values of a table's rows, one list per row in the order of the columns written."""

    data: SeedData
    width: int
    values: tuple[tuple[int, ColumnValue], ...]  # (position, value) of each other column
    references: tuple[tuple[tuple[int, ...], Reference], ...]  # (positions, reference) per key

    depth: int  # how many records of a row's lineage its values come from

    def row(self, record: Record | None, i: int) -> list[object]:
        chain = lineage(self.data, record, self.depth) if self.depth else []
        row: list[object] = [None] * self.width
        for position, value in self.values:
            row[position] = value(chain, i)
        for positions, reference in self.references:  # in order: a key may use an earlier one
            for position, key in zip(positions, reference(record, i, row), strict=True):
                row[position] = key
        return row


def column_value(
    schema: SeedSchema,
    data: SeedData,
    column: SeedColumn,
    first: Record | None,
    ref: datetime,
) -> tuple[int, ColumnValue]:
    """How many records of a row's lineage ``column`` needs, and its value in each row; its
    place in the records is found on ``first``."""
    fit = fitter(schema, column)
    make = maker(schema, column, ref)
    place = place_of(lineage(data, first), column.name) if first is not None else None
    filled = column.not_null or column.allowed is not None  # choices: every one in turn
    if place is None:
        return 0, (lambda chain, i: make(i)) if filled else (lambda chain, i: None)

    def value(chain: list[Record], i: int) -> object:
        if chain:
            position, name = place
            found = (
                chain[position].values.get(name, _MISSING) if position < len(chain) else _MISSING
            )
            if found is _MISSING:  # a record of another shape
                ok, found = lookup(data, chain[0], column.name)
                found = found if ok else _MISSING
            if found is not _MISSING:
                ok, fitted = fit(found)
                if ok:
                    return fitted
        return make(i) if filled else None

    return place[0] + 1, value
