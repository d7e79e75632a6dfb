"""Nullability of expressions and what filters prove, over the pglast parse tree.

A filter (WHERE, an inner join's ON) lets through only rows where its NULL-rejected columns are
non-null, which also proves the rows of the outer joins that would have null-extended them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast, enums

from mirror.catalog.views.values import (
    UNKNOWN,
    Cell,
    Scope,
    Value,
    all_nullable,
    any_nullable,
    computed,
    is_,
)

# Built-in operators that return NULL for a NULL operand (all of PostgreSQL's comparison,
# arithmetic, text and range operators are strict).
_STRICT_OPERATORS = frozenset(
    "= <> != < > <= >= + - * / % ^ || ~~ !~~ ~~* !~~* ~ !~ ~* !~* @> <@ && -> ->> #> #>> @@".split()
)


def apply_filter(quals: Any, scope: Scope) -> None:
    """Apply a filter (WHERE, or an inner join's ON): the NULL-rejected columns are non-null,
    and so are the outer joins that would have null-extended them (their rows must exist)."""
    cells = strict_cells(quals, scope)
    cleared: set[int] = set()
    for cell in cells:
        cleared |= cell.extended
        cell.forced = True
    if cleared:
        for cell in scope.cells():
            cell.extended -= cleared


def strict_cells(quals: Any, scope: Scope) -> list[Cell]:
    """Columns of ``scope`` a row must have non-null for ``quals`` to be true."""
    out: list[Cell] = []
    for conjunct in _conjuncts(quals):
        for ref in _null_rejected(conjunct):
            found, _ = scope.find([f.sval for f in ref.fields])
            if found is not None:
                out.append(found)
    return out


def _conjuncts(node: Any) -> Iterable[Any]:
    if is_(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        for arg in node.args:
            yield from _conjuncts(arg)
    else:
        yield node


def _null_rejected(node: Any) -> list[Any]:
    """Column references that make ``node`` NULL (so not true) when they are NULL."""
    if is_(node, ast.ColumnRef) and not is_(node.fields[-1], ast.A_Star):
        return [node]
    if is_(node, ast.TypeCast, ast.CollateClause):
        return _null_rejected(node.arg)
    if is_(node, ast.NullTest):
        return _null_rejected(node.arg) if _is_not_null_test(node) else []
    if is_(node, ast.BooleanTest):
        true_or_false = (enums.BoolTestType.IS_TRUE, enums.BoolTestType.IS_FALSE)
        return _null_rejected(node.arg) if node.booltesttype in true_or_false else []
    if is_(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.NOT_EXPR:
        return _null_rejected(node.args[0])
    if is_(node, ast.A_Expr):
        kind = node.kind
        if kind == enums.A_Expr_Kind.AEXPR_OP and _operator(node) in _STRICT_OPERATORS:
            return [*_null_rejected(node.lexpr), *_null_rejected(node.rexpr)]
        if kind in (
            enums.A_Expr_Kind.AEXPR_OP_ANY,
            enums.A_Expr_Kind.AEXPR_OP_ALL,
            enums.A_Expr_Kind.AEXPR_IN,
            enums.A_Expr_Kind.AEXPR_LIKE,
            enums.A_Expr_Kind.AEXPR_ILIKE,
            enums.A_Expr_Kind.AEXPR_SIMILAR,
            enums.A_Expr_Kind.AEXPR_BETWEEN,
            enums.A_Expr_Kind.AEXPR_NOT_BETWEEN,
            enums.A_Expr_Kind.AEXPR_BETWEEN_SYM,
            enums.A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
        ):
            return _null_rejected(node.lexpr)
    return []


def is_false(node: Any) -> bool:
    return is_(node, ast.A_Const) and is_(node.val, ast.Boolean) and not node.val.boolval


def _is_not_null_test(node: Any) -> bool:
    return bool(node.nulltesttype == enums.NullTestType.IS_NOT_NULL and not node.argisrow)


def _operator(node: Any) -> str:
    return str(node.name[-1].sval) if node.name else ""


# --------------------------------------------------------------------------- expressions

# Functions that never return NULL; and strict ones whose result is NULL only for a NULL
# argument. Any other function may return NULL.
_NEVER_NULL_FUNCTIONS = frozenset(
    """count row_number rank dense_rank percent_rank cume_dist concat now clock_timestamp
    statement_timestamp transaction_timestamp random gen_random_uuid""".split()
)
_NULL_PRESERVING_FUNCTIONS = frozenset(
    """lower upper initcap length char_length character_length octet_length bit_length btrim
    ltrim rtrim trim md5 abs round floor ceil ceiling trunc sign date_trunc date_part extract
    to_char timezone lpad rpad replace left right substr substring reverse repeat strpos
    position concat_ws""".split()
)


def expression(node: Any, scope: Scope) -> Value:
    if is_(node, ast.ColumnRef):
        if is_(node.fields[-1], ast.A_Star):
            return computed(False)  # a whole-row reference is a row, never NULL
        cell = scope.resolve([f.sval for f in node.fields])
        if cell is None:
            return UNKNOWN
        value = cell.result()
        return Value(value.origin, True) if scope.grouping_sets else value
    if is_(node, ast.TypeCast, ast.CollateClause):
        # A cast keeps the value (and its origin); pg_get_viewdef adds many of them.
        return expression(node.arg, scope)
    if is_(node, ast.A_Const):
        return computed(bool(node.isnull))
    if is_(node, ast.CoalesceExpr, ast.MinMaxExpr):
        return computed(all_nullable(expression(a, scope) for a in node.args))
    if is_(node, ast.CaseExpr):
        results = [expression(w.result, scope) for w in node.args]
        if node.defresult is None:
            return computed(True)
        return computed(any_nullable([*results, expression(node.defresult, scope)]))
    if is_(node, ast.FuncCall):
        return _function(node, scope)
    if is_(node, ast.A_Expr):
        return _operator_expression(node, scope)
    if is_(node, ast.BoolExpr):
        return computed(any_nullable(expression(a, scope) for a in node.args))
    if is_(node, ast.NullTest, ast.BooleanTest):
        return computed(False)
    if is_(node, ast.SQLValueFunction, ast.A_ArrayExpr, ast.RowExpr):
        return computed(False)
    if is_(node, ast.SubLink):
        never_null = (enums.SubLinkType.EXISTS_SUBLINK, enums.SubLinkType.ARRAY_SUBLINK)
        return computed(node.subLinkType not in never_null)
    return UNKNOWN


def _function(node: Any, scope: Scope) -> Value:
    name = node.funcname[-1].sval
    qualifier = [n.sval for n in node.funcname[:-1]]
    if qualifier not in ([], ["pg_catalog"]):
        return computed(True)  # a user function may return NULL for anything
    if name in _NEVER_NULL_FUNCTIONS:
        return computed(False)
    if name in _NULL_PRESERVING_FUNCTIONS and node.over is None and node.args:
        return computed(any_nullable(expression(a, scope) for a in node.args))
    return computed(True)


def _operator_expression(node: Any, scope: Scope) -> Value:
    kind = node.kind
    if kind in (enums.A_Expr_Kind.AEXPR_DISTINCT, enums.A_Expr_Kind.AEXPR_NOT_DISTINCT):
        return computed(False)
    if kind == enums.A_Expr_Kind.AEXPR_NULLIF:
        return computed(True)
    if kind == enums.A_Expr_Kind.AEXPR_OP and _operator(node) in _STRICT_OPERATORS:
        operands = [n for n in (node.lexpr, node.rexpr) if n is not None]
        return computed(any_nullable(expression(n, scope) for n in operands))
    if kind in (
        enums.A_Expr_Kind.AEXPR_LIKE,
        enums.A_Expr_Kind.AEXPR_ILIKE,
        enums.A_Expr_Kind.AEXPR_SIMILAR,
    ):
        return computed(any_nullable(expression(n, scope) for n in (node.lexpr, node.rexpr)))
    return computed(True)


def column_name(node: Any) -> str:
    """The name PostgreSQL gives an unnamed target (FigureColname, for the common nodes)."""
    if is_(node, ast.ColumnRef):
        return str(node.fields[-1].sval)
    if is_(node, ast.TypeCast):
        inner = column_name(node.arg)
        return inner if inner != "?column?" else str(node.typeName.names[-1].sval)
    if is_(node, ast.FuncCall):
        return str(node.funcname[-1].sval)
    if is_(node, ast.CoalesceExpr):
        return "coalesce"
    if is_(node, ast.CaseExpr):
        return "case"
    return "?column?"
