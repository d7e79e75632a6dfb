"""Writing a table's rows with ``COPY``, and what to do with a row the server refuses.

Rows go in one ``COPY``, made as it sends them, while the server takes them. When it refuses one
(a CHECK constraint, a domain's check, a partition bound, a unique key, a value out of range),
the rows before it are written, and the refused row is tried again with other values,
deterministically: the constants and other columns its constraint mentions (read by
:mod:`mirror.provision.check_hints`), values made for other rows, NULL where allowed. A change
that worked is tried first on the next row the same constraint refuses. A row that nothing makes
acceptable is left out and counted under the constraint that refused it. After a refusal the
next ``COPY`` holds one row, and each one that goes in doubles the next.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import psycopg2

from mirror.catalog.model import quote_ident
from mirror.provision.check_hints import check_hints
from mirror.provision.patterns import regex_example
from mirror.provision.seed_tables import SeedColumn, SeedSchema, SeedTable
from mirror.provision.values import CannotMake, made

# Attempts per refused row; each is one single-row insert in a savepoint.
MAX_TRIES = 40
_CHUNK = 1 << 16  # characters of COPY text sent at a time
_VARIANT_STEP = 997  # made values of rows far from this one: other distinct values

# A change to one column: ("const", value) | ("column", other, delta) | ("made", k) | ("null",)
Change = tuple[str, tuple[object, ...]]


@dataclass
class RowWriter:
    cur: psycopg2.extensions.cursor
    schema: SeedSchema
    table: SeedTable
    columns: list[SeedColumn]  # the columns written, in COPY order
    fixed: frozenset[str]  # columns whose values must stay (foreign keys)
    ref: datetime
    partition_bounds: list[str] = field(default_factory=list)  # a partitioned table's partitions'
    dropped: dict[str, int] = field(default_factory=dict)  # why → rows left out
    _recipes: dict[str, list[list[Change]]] = field(default_factory=dict)

    def write(self, rows: Iterable[list[object]]) -> tuple[list[list[object]], list[int]]:
        """Write ``rows``: the rows (refused ones changed in place) and the indices written.

        The rows are made while the first ``COPY`` sends them, so the server checks those sent
        while the next are made; when it refuses one, the rows are written again as below.
        """
        made: list[list[object]] = []
        written: list[int] = []
        if not self.columns:
            made = list(rows)
            for index in range(len(made)):
                if self._insert(None) is None:
                    written.append(index)
                else:
                    self._drop("the row of defaults is refused")
            return made, written
        source = iter(rows)
        if self._insert(_kept(source, made)) is None:
            return made, list(range(len(made)))
        made.extend(source)  # whatever the refused COPY did not read
        self._range(made, 0, len(made), written)
        return made, written

    # ------------------------------------------------------------------ COPY and its failures

    def _range(self, rows: list[list[object]], lo: int, hi: int, written: list[int]) -> None:
        """Write ``rows[lo:hi]`` in order. After a refused row the next COPY holds one row, and
        each one that goes in doubles the next: rows refused often cost a few short COPYs each,
        not a resend of everything after them."""
        pos, window = lo, hi - lo
        while pos < hi:
            end = min(hi, pos + window)
            error = self._insert(rows[pos:end])
            if error is None:
                written.extend(range(pos, end))
                pos, window = end, window * 2
                continue
            bad = self._failed_line(error, pos, end)
            if bad is None:  # refused at the end of the statement (a foreign key): halve
                if end - pos > 1:
                    window = (end - pos) // 2
                    continue
                bad = pos
            if bad > pos:
                self._range(rows, pos, bad, written)
            fixed = self._fix(bad, rows[bad], error)
            if fixed is not None:
                rows[bad] = fixed
                written.append(bad)
            pos, window = bad + 1, 1

    def _failed_line(self, error: psycopg2.Error, lo: int, hi: int) -> int | None:
        """The index of the row a COPY stopped at, from the server's context line."""
        prefix = f"COPY {self.table.key.name}, line "
        context = (error.diag.context or "").split("\n")[0]
        if not context.startswith(prefix):
            return None
        digits = context[len(prefix) :].split(":")[0].split(",")[0].strip()
        index = lo + int(digits) - 1 if digits.isdigit() else -1
        return index if lo <= index < hi else None

    def _insert(self, rows: Iterable[list[object]] | None) -> psycopg2.Error | None:
        """Insert ``rows`` (None: one row of defaults) in a savepoint; the error if refused."""
        self.cur.execute("SAVEPOINT billig_rows")
        try:
            if rows is None:
                self.cur.execute(f"INSERT INTO {self.table.key} DEFAULT VALUES")
            else:
                names = ", ".join(quote_ident(col.name) for col in self.columns)
                text = CopyText(rows)  # psycopg2 only calls read(), and takes str
                sql = f"COPY {self.table.key} ({names}) FROM STDIN"
                self.cur.copy_expert(sql, text, _CHUNK)  # type: ignore[arg-type]
        except psycopg2.Error as exc:
            if self.cur.connection.closed:
                raise
            self.cur.execute("ROLLBACK TO SAVEPOINT billig_rows")
            self.cur.execute("RELEASE SAVEPOINT billig_rows")
            return exc
        self.cur.execute("RELEASE SAVEPOINT billig_rows")
        return None

    # ------------------------------------------------------------------ a refused row

    def _fix(self, index: int, row: list[object], error: psycopg2.Error) -> list[object] | None:
        """Row ``index`` with other values the server takes (and written), or None.

        A candidate refused by another constraint is taken as the row to change next (a row can
        break several constraints); the tries are bounded by :data:`MAX_TRIES`.
        """
        why = self._why(error)
        queue: deque[tuple[list[Change], list[object], str]] = deque(
            (changes, self._apply(row, index, changes), why)
            for changes in self._recipes.get(why, [])
        )
        queue.extend((c, r, why) for c, r in self._candidates(row, index, error))
        seen: set[tuple[str, ...]] = {tuple(map(repr, row))}
        tries = 0
        while queue and tries < MAX_TRIES:
            changes, candidate, target = queue.popleft()
            key = tuple(map(repr, candidate))
            if key in seen:
                continue
            seen.add(key)
            tries += 1
            failure = self._insert([candidate])
            if failure is None:
                recipes = self._recipes.setdefault(why, [])
                if changes not in recipes:
                    recipes.insert(0, changes)
                return candidate
            now = self._why(failure)
            if now != target:  # this one is met: go on from here with the next constraint
                queue.extendleft(
                    reversed(
                        [
                            (changes + more, rest, now)
                            for more, rest in self._candidates(candidate, index, failure)
                        ]
                    )
                )
        self._drop(why)
        return None

    def _drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1

    def _why(self, error: psycopg2.Error) -> str:
        name = error.diag.constraint_name
        if error.pgcode == "23514" and name is None:
            bound = next((n for n, _ in self.table.checks if n.startswith("the partition")), None)
            return bound or "a partition bound"
        if name:
            return f"constraint {quote_ident(name)}"
        return " ".join((error.diag.message_primary or type(error).__name__).split())

    def _definition(self, error: psycopg2.Error) -> tuple[str | None, list[str]]:
        """The CHECK definition behind ``error`` and the columns its VALUE stands for."""
        name = error.diag.constraint_name
        if error.pgcode != "23514":
            return None, []
        if name is None:  # a partition's bound, or no partition of this table takes the row
            bounds = [d for n, d in self.table.checks if n.startswith("the partition")]
            bounds += self.partition_bounds
            return (" AND ".join(f"({b})" for b in bounds) or None), []
        for check_name, definition in self.table.checks:
            if check_name == name:
                return definition, []
        for col in self.columns:
            for domain in self.schema.domains(col.type_oid):
                for check_name, definition in domain.checks:
                    if check_name == name:
                        users = [
                            c.name for c in self.columns
                            if domain in self.schema.domains(c.type_oid)
                        ]  # fmt: skip
                        return definition, users
        return None, []

    def _candidates(
        self, row: list[object], index: int, error: psycopg2.Error
    ) -> Iterator[tuple[list[Change], list[object]]]:
        alterable = [c.name for c in self.columns if c.name not in self.fixed]
        constants: tuple[object, ...] = ()
        targets = alterable
        if error.pgcode == "23505":
            unique = dict(self.table.unique).get(error.diag.constraint_name or "")
            targets = [c for c in unique or () if c in alterable]
        elif error.pgcode == "23502" and error.diag.column_name in alterable:
            targets = [error.diag.column_name or ""]
        elif error.pgcode == "23514":
            definition, value_columns = self._definition(error)
            if definition is not None:
                hints = check_hints(definition)
                constants = hints.constants
                named = [c for c in hints.columns if c in alterable]
                if "value" in hints.columns:
                    named += [c for c in value_columns if c in alterable]
                targets = list(dict.fromkeys(named)) or alterable
        singles = [
            [(name, option)]
            for name in targets
            for option in self._options(name, targets, constants)
        ]
        for changes in singles:
            yield changes, self._apply(row, index, changes)
        if len(targets) > 1:
            first, second = targets[0], targets[1]
            for a in list(self._options(first, targets, constants))[:5]:
                for b in list(self._options(second, targets, constants))[:5]:
                    changes = [(first, a), (second, b)]
                    yield changes, self._apply(row, index, changes)

    def _options(
        self, name: str, mentioned: list[str], constants: tuple[object, ...]
    ) -> Iterator[tuple[object, ...]]:
        column = next(c for c in self.columns if c.name == name)
        for constant in constants:
            yield ("const", constant)
            if isinstance(constant, int | Decimal) and not isinstance(constant, bool):
                yield ("const", constant + 1)
                yield ("const", constant - 1)
                if 0 < constant <= 200:
                    yield ("width", int(constant))
            for shifted in _moments_around(constant):  # a bound `sold_at < '2026-01-01'`
                yield ("const", shifted)
            if isinstance(constant, str) and regex_example(constant) is not None:
                yield ("pattern", constant)  # `email ~ '^[^@]+@…'`: a string matching it
        for other in mentioned:
            if other != name:
                for delta in (0, -1, 1):
                    yield ("column", other, delta)
        for k in (1, 2, 3):
            yield ("made", k)
        if not column.not_null:
            yield ("null",)

    def _apply(self, row: list[object], index: int, changes: list[Change]) -> list[object]:
        out = list(row)
        positions = {col.name: i for i, col in enumerate(self.columns)}
        for name, option in changes:
            pos = positions[name]
            kind = option[0]
            if kind == "const":
                out[pos] = option[1]
            elif kind == "width":
                out[pos] = str(index + 1).zfill(int(option[1]))[-int(option[1]) :]  # type: ignore[call-overload]
            elif kind == "column":
                out[pos] = _shifted(out[positions[str(option[1])]], int(option[2]))  # type: ignore[call-overload]
            elif kind == "pattern":
                out[pos] = regex_example(str(option[1]), index) or out[pos]
            elif kind == "made":
                with contextlib.suppress(CannotMake):
                    out[pos] = made(
                        self.schema, self.columns[pos], self.ref,
                        index + _VARIANT_STEP * int(option[1]),  # type: ignore[call-overload]
                    )  # fmt: skip
            else:
                out[pos] = None
        return out


def _kept(rows: Iterator[list[object]], made: list[list[object]]) -> Iterator[list[object]]:
    """``rows``, each kept in ``made`` as it is read."""
    for row in rows:
        made.append(row)
        yield row


def _shifted(value: object, delta: int) -> object:
    """``value`` one step up or down: numbers by 1, times by a day."""
    if delta == 0 or value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return value + delta
    if isinstance(value, datetime | date):
        return value + timedelta(days=delta)
    if isinstance(value, str):
        try:
            return Decimal(value) + delta
        except InvalidOperation:
            return value
    return value


def _moments_around(constant: object) -> tuple[str, ...]:
    """A day before and after ``constant`` when it is a date or a time stamp in ISO text (as
    a CHECK or a partition bound spells them), else nothing."""
    if not isinstance(constant, str):
        return ()
    try:
        moment = datetime.fromisoformat(constant.strip())
    except ValueError:
        return ()
    before, after = moment - timedelta(days=1), moment + timedelta(days=1)
    if len(constant.strip()) == len("2026-01-01"):
        return before.date().isoformat(), after.date().isoformat()
    return before.isoformat(sep=" "), after.isoformat(sep=" ")


class CopyText:
    """Rows as ``COPY … FROM STDIN`` text, made as the server reads it: the server parses and
    checks one chunk while the next is made, instead of waiting for the whole text."""

    def __init__(self, rows: Iterable[Sequence[object]]) -> None:
        self._rows = iter(rows)
        self._rest = ""

    def read(self, size: int = -1) -> str:
        parts, length = [self._rest], len(self._rest)
        if size < 0 or length < size:
            for row in self._rows:
                line = "\t".join(map(_copy_value, row)) + "\n"
                parts.append(line)
                length += len(line)
                if 0 <= size <= length:
                    break
        text = "".join(parts)
        cut = len(text) if size < 0 else size
        self._rest = text[cut:]
        return text[:cut]


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is int or kind is Decimal:  # most values, and nothing to escape in them
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        return text.replace("\r", "\\r")
    return text
