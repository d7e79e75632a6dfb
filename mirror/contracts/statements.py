"""Statements a serializer sent to the Billig database, grouped and compared across sizes.

A site measures a serializer by serializing a few objects, then more, and recording each
statement as it left the client (:class:`~mirror.sources.site.QueryRun`). Here the statements
are grouped by PostgreSQL's own fingerprint (pglast), which treats ``id IN (%s, %s)`` and
``id IN (%s)`` as one statement, and the groups whose count grows with the number of objects
are the statements that repeat per object: the N+1 of a forgotten prefetch. Statements carry
placeholders, never values, so nothing read from the database reaches a message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from mirror.catalog.model import ColumnRef, Usage, split_qualified_name
from mirror.sources.site import QueryRun

# Client-side placeholders: psycopg's ``%s`` and ``%(name)s``; ``%%`` is a literal percent.
_PLACEHOLDER = re.compile(r"%\((?:[^)]*)\)s|%s")
_PLACEHOLDER_LIST = re.compile(r"\(\s*\$1(?:\s*,\s*\$1)+\s*\)")
_SHOWN = 160


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as the server would see it: ``$1`` for every value, lists collapsed."""

    text: str  # whitespace collapsed, placeholder lists as ``($1, …)``
    key: str  # PostgreSQL's fingerprint, or the text when the statement does not parse
    tables: tuple[str, ...]  # the relations it reads (quoted where PostgreSQL would quote)

    @property
    def shown(self) -> str:
        return self.text if len(self.text) <= _SHOWN else self.text[: _SHOWN - 1] + "…"


def statement(sql: str) -> Statement:
    """The normalised form of one statement as sent by a client: shown as PostgreSQL prints
    it, a query's select list as ``…`` (it names columns, not what repeats)."""
    from pglast import ast, parse_sql, parser
    from pglast.stream import RawStream
    from pglast.visitors import referenced_relations

    server = _PLACEHOLDER.sub("$1", sql).replace("%%", "%")
    try:
        key = parser.fingerprint(server)
        tables = tuple(sorted(referenced_relations(server)))
        parsed = parse_sql(server)
        for raw in parsed:
            if isinstance(raw.stmt, ast.SelectStmt) and raw.stmt.targetList:
                raw.stmt.targetList = (ast.ResTarget(val=ast.ColumnRef(fields=(ast.A_Star(),))),)
        shown = RawStream()(parsed).replace("SELECT * FROM", "SELECT … FROM", 1)
    except Exception:  # pglast's errors vary by version; a statement it cannot read stays whole
        shown = " ".join(server.split())
        key, tables = shown, ()
    return Statement(_PLACEHOLDER_LIST.sub("($1, …)", shown), key, tables)


@dataclass(frozen=True, slots=True)
class Repeat:
    """A statement whose count grows with the number of objects."""

    statement: Statement
    counts: tuple[int, ...]  # at each size


@dataclass(frozen=True, slots=True)
class Profile:
    """A serializer's statements at each size: Billig's (pinned) and other databases' (shown)."""

    serializer: str
    objects: tuple[int, ...]
    billig: tuple[int, ...]
    other: tuple[int, ...]
    repeats: tuple[Repeat, ...] = ()

    @property
    def constant(self) -> bool:
        """Whether the Billig statements do not grow with the number of objects."""
        return all(later <= first for first, later in pairwise(self.billig))

    @property
    def measured(self) -> bool:
        """Two different sizes were serialized: growth can be told apart from noise."""
        return len(set(self.objects)) > 1


def profile(serializer: str, runs: Sequence[QueryRun]) -> Profile:
    """The profile of ``runs``, one per size."""
    grouped: list[Counter[str]] = []
    seen: dict[str, Statement] = {}
    # A statement repeated per object (what a profile looks for) is the same text each time:
    # parsed once.
    parsed: dict[str, Statement] = {}
    for run in runs:
        counts: Counter[str] = Counter()
        for sql in run.billig:
            if sql not in parsed:
                parsed[sql] = statement(sql)
            found = parsed[sql]
            seen.setdefault(found.key, found)
            counts[found.key] += 1
        grouped.append(counts)
    repeats = []
    for key, found in seen.items():
        per_size = tuple(counts[key] for counts in grouped)
        if any(later > first for first, later in pairwise(per_size)):
            repeats.append(Repeat(found, per_size))
    repeats.sort(key=lambda r: (-r.counts[-1], r.statement.text))
    return Profile(
        serializer,
        objects=tuple(run.objects for run in runs),
        billig=tuple(len(run.billig) for run in runs),
        other=tuple(run.other for run in runs),
        repeats=tuple(repeats),
    )


def triggers(
    serializer: str, tables: Iterable[str], lineage: Mapping[ColumnRef, Usage]
) -> tuple[str, ...]:
    """The serializer fields (and the models behind them) reading ``tables``, per the lineage:
    ``EventSerializer.billig (model BilligEvent)``."""
    wanted = {_unquoted(t) for t in tables}
    fields: dict[str, set[str]] = {}
    prefix = f"{serializer}."
    for ref, usage in lineage.items():
        if (ref.schema, ref.relation) not in wanted and ("public", ref.relation) not in wanted:
            continue
        models = {m.split(".", 1)[0] for m in usage.models}
        for field in usage.fields:
            if field.startswith(prefix):
                top = field[len(prefix) :].split(".", 1)[0].removesuffix("[]")
                fields.setdefault(f"{serializer}.{top}", set()).update(models)
    return tuple(
        f"{name} (model {', '.join(sorted(models))})" if models else name
        for name, models in sorted(fields.items())
    )


def _unquoted(table: str) -> tuple[str, str]:
    """``billig.event`` → ("billig", "event"); ``public."billig.x"`` → ("public", "billig.x");
    an unqualified name is taken as in ``public``."""
    try:
        parts = split_qualified_name(table)
    except ValueError:
        return ("", table)
    return ("public", parts[0]) if len(parts) == 1 else (parts[-2], parts[-1])
