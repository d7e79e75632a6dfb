"""What a CHECK constraint (or a partition bound) mentions: its columns and its constants.

The seed does not evaluate constraints (the server does); when the server refuses a row, these
are the places to look for values that satisfy it: a constant (``price >= 0``, ``kind IN ('a',
'b')``, ``length(code) = 5``) or another column of the row (``num_sold <= num``). The definition
is read with PostgreSQL's own parser (pglast), as ``pg_get_constraintdef`` spells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from pglast import ast, parse_sql
from pglast.parser import ParseError


@dataclass(frozen=True, slots=True)
class CheckHints:
    columns: tuple[str, ...]  # in order of mention; a domain's VALUE is "value"
    constants: tuple[object, ...]  # int, Decimal, str or bool, in order of mention


@lru_cache(maxsize=1024)
def check_hints(definition: str) -> CheckHints:
    """The hints of ``CHECK (…)`` (as pg_get_constraintdef writes it) or of a bare expression."""
    text = (
        definition if definition.lstrip().upper().startswith("CHECK") else f"CHECK ({definition})"
    )
    try:
        stmt = parse_sql(f"ALTER TABLE t ADD {text}")[0].stmt
    except (ParseError, IndexError):
        return CheckHints((), ())
    columns: list[str] = []
    constants: list[object] = []
    _walk(stmt, columns, constants)
    return CheckHints(tuple(dict.fromkeys(columns)), tuple(dict.fromkeys(constants)))


def _walk(node: object, columns: list[str], constants: list[object]) -> None:
    if isinstance(node, ast.ColumnRef):
        names = [f.sval for f in node.fields or () if isinstance(f, ast.String) and f.sval]
        if names:
            columns.append(names[-1])
        return
    if isinstance(node, ast.A_Const):
        value = node.val
        if isinstance(value, ast.Integer):
            constants.append(value.ival)
        elif isinstance(value, ast.Float) and value.fval is not None:
            constants.append(Decimal(value.fval))
        elif isinstance(value, ast.String):
            constants.append(value.sval)
        elif isinstance(value, ast.Boolean):
            constants.append(value.boolval)
        return
    if isinstance(node, ast.Node):
        for attribute in node:
            _walk(getattr(node, attribute), columns, constants)
    elif isinstance(node, tuple):
        for item in node:
            _walk(item, columns, constants)
