"""Assertions a site declares about the rows it reads (``contracts/data-assertions.json``).

A site's code often relies on more than the catalog promises: ``num_sold <= num``, ``num > 0``.
Each assertion names a relation and a condition over its columns, kept beside the columns
contract and checked by ``billig drift --data`` in counts of violating rows. The condition is
read by PostgreSQL's own parser (pglast) and must be one expression over the relation's columns
built from constants, comparisons, arithmetic, ``AND``/``OR``/``NOT``, ``IS [NOT] NULL``,
``IN``, ``BETWEEN``, ``LIKE``, casts of constants and ``COALESCE``: no subquery, no function
call, no other operator (operators are functions), nothing that could read another relation or
change anything, and no cast of a column's value but to text (a failing cast would quote the
value). It is sent as pglast prints it back. The CHECK constraints the columns contract pins
and production no longer enforces are checked the same way (:func:`pinned_checks`). ``billig
contracts check`` validates the file with the other contract files
(:mod:`mirror.contracts.data_assertions`).

```json
{"format_version": 1,
 "assertions": [{"relation": "billig.ticket_group", "check": "num_sold <= num"}]}
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from mirror.catalog.model import Catalog, RelationKey, split_qualified_name
from mirror.sources.contract_file import read_json
from mirror.sources.json_locator import JsonDocument

ASSERTIONS_FILE = "data-assertions.json"
_ALLOWED = (
    ast.ColumnRef,
    ast.String,
    ast.A_Const,
    ast.A_Expr,
    ast.BoolExpr,
    ast.NullTest,
    ast.BooleanTest,
    ast.TypeCast,
    ast.TypeName,
    ast.CoalesceExpr,
    ast.A_ArrayExpr,
    ast.Integer,
    ast.Float,
    ast.Boolean,
    ast.BitString,
)

# Operators are functions: only the built-in comparisons, arithmetic, concatenation and LIKE.
_OPERATORS = frozenset(
    {"=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "||"}
    | {"~~", "!~~", "~~*", "!~~*"}  # [NOT] [I]LIKE
    | {"BETWEEN", "NOT BETWEEN", "BETWEEN SYMMETRIC", "NOT BETWEEN SYMMETRIC"}
)
_TEXT_TYPES = frozenset({"text", "varchar", "bpchar"})


@dataclass(frozen=True, slots=True)
class Assertion:
    """One declared condition on one relation's rows; ``sql`` is pglast's printing of it."""

    relation: RelationKey
    check: str  # as declared, for messages
    sql: str
    columns: tuple[str, ...]


def load_assertions(folder: Path, contract: Catalog) -> list[Assertion]:
    """The assertions of ``folder/data-assertions.json`` (none when the file does not exist),
    each checked against ``contract``: its relation contracted, its columns pinned."""
    path = folder / ASSERTIONS_FILE
    if not path.is_file():
        return []
    doc = read_json(path, what="data assertions")
    data = doc.data
    if not isinstance(data, dict) or set(data) != {"format_version", "assertions"}:
        raise doc.error((), 'expected an object with "format_version" and "assertions"')
    if data["format_version"] != 1:
        raise doc.error(("format_version",), "unsupported format_version (expected 1)")
    if not isinstance(data["assertions"], list):
        raise doc.error(("assertions",), "expected an array")
    return [_assertion(doc, contract, i, item) for i, item in enumerate(data["assertions"])]


def _assertion(doc: JsonDocument, contract: Catalog, i: int, item: Any) -> Assertion:
    where = ("assertions", i)
    if not isinstance(item, dict) or set(item) != {"relation", "check"}:
        raise doc.error(where, 'expected an object with "relation" and "check"')
    if not all(isinstance(item[k], str) and item[k] for k in ("relation", "check")):
        raise doc.error(where, '"relation" and "check" are non-empty strings')
    try:
        parts = split_qualified_name(item["relation"])
    except ValueError as exc:
        raise doc.error((*where, "relation"), str(exc)) from None
    if len(parts) != 2:
        raise doc.error((*where, "relation"), "expected schema.relation")
    key = RelationKey(*parts)
    relation = contract.get(key)
    if relation is None:
        raise doc.error((*where, "relation"), f"{key} is not in the columns contract")
    try:
        expression = _expression(item["check"])
        columns = tuple(dict.fromkeys(_columns(expression)))
    except ValueError as exc:
        raise doc.error((*where, "check"), str(exc)) from None
    unknown = [c for c in columns if relation.column(c) is None]
    if unknown:
        raise doc.error((*where, "check"), f"no column {unknown[0]!r} in {key}")
    return Assertion(key, item["check"], RawStream()(expression), columns)


def pinned_checks(expected: Catalog, actual: Catalog) -> list[Assertion]:
    """The CHECK constraints the contract pins that production no longer enforces as pinned
    (removed, changed, made ``NOT VALID``), as assertions on production's rows: what the
    constraint promised, the rows may now break. A definition outside what an assertion may be
    (a function call) is left out: it cannot be counted safely, and its change is a catalog
    finding already."""
    out: list[Assertion] = []
    for relation in expected:
        live = actual.get(relation.key)
        if live is None:
            continue
        enforced = {check.definition for check in live.checks}
        for check in relation.checks:
            body = check.definition.removesuffix(" NOT VALID")
            if check.definition in enforced or not body.startswith("CHECK "):
                continue
            try:
                expression = _expression(body.removeprefix("CHECK "))
                columns = tuple(dict.fromkeys(_columns(expression)))
            except ValueError:
                continue
            if all(live.column(c) is not None for c in columns):
                sql = RawStream()(expression)
                out.append(Assertion(relation.key, f"the pinned {check.definition}", sql, columns))
    return out


def _expression(text: str) -> Any:
    try:
        statements = parse_sql(f"SELECT {text}")
    except ParseError as exc:
        raise ValueError(f"not an SQL expression: {exc}") from None
    if len(statements) != 1:
        raise ValueError("one expression expected")
    select: Any = statements[0].stmt
    bare = isinstance(select, ast.SelectStmt) and not any(
        getattr(select, part)
        for part in ("fromClause", "whereClause", "groupClause", "havingClause", "withClause")
    )
    if not bare or len(select.targetList or ()) != 1 or select.targetList[0].name:
        raise ValueError("one expression over the relation's columns expected")
    expression = select.targetList[0].val
    for node in _nodes(expression):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{type(node).__name__} is not allowed in an assertion")
        if isinstance(node, ast.A_Expr):
            names = [getattr(n, "sval", None) for n in node.name or ()]
            if len(names) != 1 or names[0] not in _OPERATORS:
                shown = ".".join(str(n) for n in names)
                raise ValueError(f"operator {shown} is not allowed in an assertion")
        if isinstance(node, ast.TypeCast) and any(
            isinstance(n, ast.ColumnRef) for n in _nodes(node.arg)
        ):
            # A cast of a row's value can fail on it, and the server's error would quote it;
            # every value has a text form (PostgreSQL prints CHECKs over varchar with one).
            casts = node.typeName.names if node.typeName is not None else None
            target = getattr(casts[-1], "sval", None) if casts else None
            if target not in _TEXT_TYPES:
                raise ValueError(
                    "a column's value is cast only to text in an assertion (cast constants)"
                )
    return expression


def _nodes(node: Any) -> Iterator[Any]:
    if isinstance(node, ast.Node):
        yield node
        for name in getattr(type(node), "__slots__", ()):
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple | list):
        for child in node:
            yield from _nodes(child)


def _columns(expression: Any) -> Iterator[str]:
    for node in _nodes(expression):
        if isinstance(node, ast.ColumnRef):
            fields = node.fields or ()
            if len(fields) != 1 or not isinstance(fields[0], ast.String):
                raise ValueError("columns are named alone, without a relation")
            yield str(fields[0].sval)
