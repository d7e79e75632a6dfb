"""Columns through views: where each view column comes from and whether it can be NULL.

PostgreSQL reports every view column as nullable and keeps no origin for it. This module works
both out from the view definitions (``pg_get_viewdef``, parsed by PostgreSQL's own parser through
pglast) and the catalog of the relations they read: a column's *origin* is the base table column
it passes through unchanged (through joins, aliases, casts, subqueries and nested views), or an
expression; its *nullability* is what the view produces. A NOT NULL base column stays non-null
through an inner join and gains it from a filter that rejects NULL (``IS NOT NULL``, a strict
comparison); the nullable side of an outer join, ``CASE`` without a non-null ``ELSE`` and most
functions make it nullable; ``COALESCE``/``GREATEST``/``LEAST`` with a non-null argument are
non-null. What the analysis cannot follow (an unknown relation, a set-returning function, a
recursive query, a node it does not know) stays unknown, never guessed. Pure: no database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Origin, Relation, RelationKey

VIEW_KINDS = frozenset({Kind.VIEW, Kind.MATERIALIZED_VIEW})


@dataclass(frozen=True, slots=True)
class ViewColumn:
    """One derived view column: ``origin`` None and ``nullable`` None mean unknown."""

    name: str
    origin: Origin | None
    nullable: bool | None


def derive_views(
    catalog: Catalog, definitions: Mapping[RelationKey, str]
) -> dict[RelationKey, tuple[ViewColumn, ...]]:
    """Origin and nullability of every column of every view of ``catalog`` with a definition.

    ``catalog`` must hold the relations the views read (tables with their nullability, nested
    views with their column names); a relation it lacks leaves what comes from it unknown.
    """
    analysis = _Analysis(catalog, definitions)
    return {
        rel.key: analysis.view(rel.key)
        for rel in catalog
        if rel.kind in VIEW_KINDS and rel.key in definitions
    }


def with_view_columns(catalog: Catalog, definitions: Mapping[RelationKey, str]) -> Catalog:
    """``catalog`` with each analysed view column carrying its origin and derived nullability."""
    return _with_derived(catalog, derive_views(catalog, definitions))


def _with_derived(
    catalog: Catalog, derived: Mapping[RelationKey, tuple[ViewColumn, ...]]
) -> Catalog:
    if not derived:
        return catalog
    relations = {}
    for key, rel in catalog.relations.items():
        found = derived.get(key)
        if found is not None:
            columns = tuple(
                replace(col, nullable=d.nullable, origin=d.origin)
                for col, d in zip(rel.columns, found, strict=True)
            )
            rel = replace(rel, columns=columns)
        relations[key] = rel
    return Catalog(relations, catalog.schemas, catalog.lineage)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class _Value:
    origin: Origin | None  # None: unknown
    nullable: bool | None  # None: unknown


_UNKNOWN = _Value(None, None)
_EXPRESSION = Origin()


def _computed(nullable: bool | None) -> _Value:
    return _Value(_EXPRESSION, nullable)


def _any_nullable(values: Iterable[_Value]) -> bool | None:
    """Nullable when any is; unknown when none is but some are unknown (strict operators)."""
    flags = [v.nullable for v in values]
    return True if True in flags else None if None in flags else False


def _all_nullable(values: Iterable[_Value]) -> bool | None:
    """Non-null when any is (COALESCE, GREATEST, LEAST); unknown when none is but some are."""
    flags = [v.nullable for v in values]
    return False if False in flags else None if None in flags else True


# --------------------------------------------------------------------------- scopes


@dataclass(eq=False, slots=True)
class _Cell:
    """A column of a FROM item while joins and filters are applied.

    ``extended`` holds the outer joins that may null-extend it; ``forced`` says a filter let
    only rows where it is non-null through.
    """

    value: _Value
    extended: set[int] = field(default_factory=set)
    forced: bool = False

    def result(self) -> _Value:
        if self.extended:
            return _Value(self.value.origin, True)
        if self.forced:
            return _Value(self.value.origin, False)
        return self.value


@dataclass(eq=False, slots=True)
class _Item:
    """A FROM item: its reference name and columns (None: columns not known)."""

    name: str | None
    columns: dict[str, _Cell] | None
    hidden: frozenset[str] = frozenset()  # merged away by USING/NATURAL for unqualified refs


@dataclass(slots=True)
class _Scope:
    items: list[_Item]
    outer: _Scope | None = None
    grouping_sets: bool = False

    def cells(self) -> Iterable[_Cell]:
        for item in self.items:
            yield from (item.columns or {}).values()

    def resolve(self, fields: Sequence[str]) -> _Cell | None:
        scope: _Scope | None = self
        while scope is not None:
            found, opaque = scope._find(fields)
            if found is not None or opaque:
                return found
            scope = scope.outer
        return None

    def _find(self, fields: Sequence[str]) -> tuple[_Cell | None, bool]:
        """The cell named by ``fields`` here; whether an item of unknown columns may hold it."""
        *qualifier, name = fields
        opaque = False
        for item in self.items:
            if qualifier and item.name != qualifier[-1]:
                continue
            if item.columns is None:
                opaque = True
            elif name in item.columns and (qualifier or name not in item.hidden):
                return item.columns[name], False
        return None, opaque


class _Unfollowable(Exception):
    """The definition uses something the analysis does not follow."""


# --------------------------------------------------------------------------- analysis


def _is(node: Any, *kinds: type) -> bool:
    # isinstance without narrowing: pglast types every child as optional, and a node of the
    # kind tested always has the children read here.
    return isinstance(node, kinds)


class _Analysis:
    def __init__(self, catalog: Catalog, definitions: Mapping[RelationKey, str]) -> None:
        self.catalog = catalog
        self.definitions = definitions
        self.done: dict[RelationKey, tuple[ViewColumn, ...]] = {}
        self.running: set[RelationKey] = set()
        self.joins = 0

    def view(self, key: RelationKey) -> tuple[ViewColumn, ...]:
        if key in self.done:
            return self.done[key]
        rel = self.catalog.get(key)
        assert rel is not None
        self.running.add(key)
        try:
            values = self._follow(rel)
        finally:
            self.running.discard(key)
        if values is None or len(values) != len(rel.columns):
            values = [_UNKNOWN] * len(rel.columns)
        out = tuple(
            ViewColumn(c.name, v.origin, v.nullable)
            for c, v in zip(rel.columns, values, strict=True)
        )
        self.done[key] = out
        return out

    def _follow(self, rel: Relation) -> list[_Value] | None:
        try:
            (raw,) = parse_sql(self.definitions[rel.key])
            return [v for _, v in self.select(raw.stmt, None, {})]
        except (ParseError, ValueError, _Unfollowable, RecursionError):
            return None

    # ------------------------------------------------------------------ statements

    def select(
        self, stmt: Any, outer: _Scope | None, ctes: Mapping[str, Any]
    ) -> list[tuple[str, _Value]]:
        if not _is(stmt, ast.SelectStmt):
            raise _Unfollowable(type(stmt).__name__)
        ctes = self._with(stmt.withClause, outer, ctes)
        if stmt.op != enums.SetOperation.SETOP_NONE:
            return self._set_operation(stmt, outer, ctes)
        if stmt.valuesLists:
            return self._values(stmt.valuesLists, outer)
        scope = _Scope([], outer)
        for node in stmt.fromClause or ():
            scope.items += self.from_item(node, scope, ctes)
        if stmt.whereClause is not None:
            _filter(stmt.whereClause, scope)
        # ROLLUP/CUBE/GROUPING SETS null out the grouped columns in subtotal rows.
        scope.grouping_sets = any(_is(g, ast.GroupingSet) for g in stmt.groupClause or ())
        out: list[tuple[str, _Value]] = []
        for target in stmt.targetList or ():
            out += self._target(target, scope)
        if _is_false(stmt.whereClause):
            # No row ever comes out (a stand-in for a relation not at hand): nothing to say of
            # the values, neither NULL nor not.
            out = [(name, _Value(value.origin, None)) for name, value in out]
        return out

    def _with(self, clause: Any, outer: _Scope | None, ctes: Mapping[str, Any]) -> dict[str, Any]:
        found = dict(ctes)
        for cte in clause.ctes if clause is not None else ():
            if clause.recursive:
                found[cte.ctename] = None  # columns of a recursive query: not followed
                continue
            columns = self.select(cte.ctequery, outer, found)
            names = [n.sval for n in cte.aliascolnames or ()]
            found[cte.ctename] = _renamed(columns, names)
        return found

    def _set_operation(
        self, stmt: Any, outer: _Scope | None, ctes: Mapping[str, Any]
    ) -> list[tuple[str, _Value]]:
        left = self.select(stmt.larg, outer, ctes)
        right = self.select(stmt.rarg, outer, ctes)
        if len(left) != len(right):
            raise _Unfollowable("set operation arity")
        op = stmt.op
        out = []
        for (name, a), (_, b) in zip(left, right, strict=True):
            origin = a.origin if a.origin == b.origin else _merge_origin(a.origin, b.origin)
            if op == enums.SetOperation.SETOP_UNION:
                nullable = _any_nullable((a, b))
            elif op == enums.SetOperation.SETOP_INTERSECT:
                nullable = _all_nullable((a, b))
            else:  # EXCEPT keeps rows of the left side
                nullable = a.nullable
            out.append((name, _Value(origin, nullable)))
        return out

    def _values(self, rows: Sequence[Any], outer: _Scope | None) -> list[tuple[str, _Value]]:
        scope = _Scope([], outer)
        columns = zip(*[[_expression(e, scope) for e in row] for row in rows], strict=True)
        return [
            (f"column{i}", _computed(_any_nullable(values)))
            for i, values in enumerate(columns, start=1)
        ]

    def _target(self, target: Any, scope: _Scope) -> list[tuple[str, _Value]]:
        node = target.val
        if _is(node, ast.ColumnRef) and _is(node.fields[-1], ast.A_Star):
            return _star(node, scope)
        return [(target.name or _column_name(node), _expression(node, scope))]

    # ------------------------------------------------------------------ FROM items

    def from_item(self, node: Any, scope: _Scope, ctes: Mapping[str, Any]) -> list[_Item]:
        if _is(node, ast.RangeVar):
            return [self._range_var(node, ctes)]
        if _is(node, ast.RangeSubselect):
            # A LATERAL subquery sees the items to its left; others see only the outer query.
            outer = scope if node.lateral else scope.outer
            return [
                _item(_alias_name(node.alias), self.select(node.subquery, outer, ctes), node.alias)
            ]
        if _is(node, ast.JoinExpr):
            return self._join(node, scope, ctes)
        if _is(node, ast.RangeFunction):
            # Set-returning functions: the columns' names may be known, their values are not.
            names = [n.sval for n in (node.alias.colnames or ())] if node.alias else []
            unknown = _cells((n, _UNKNOWN) for n in names) if names else None
            return [_Item(_alias_name(node.alias), unknown)]
        raise _Unfollowable(type(node).__name__)

    def _range_var(self, node: Any, ctes: Mapping[str, Any]) -> _Item:
        alias = node.alias
        name = alias.aliasname if alias is not None else node.relname
        if node.schemaname is None and node.relname in ctes:
            columns = ctes[node.relname]
            return _item(name, columns, alias) if columns is not None else _Item(name, None)
        key = RelationKey(node.schemaname or "pg_catalog", node.relname)
        rel = self.catalog.get(key)
        if rel is None:
            return _Item(name, None)
        return _item(name, self._relation_columns(rel), alias)

    def _relation_columns(self, rel: Relation) -> list[tuple[str, _Value]]:
        if rel.kind in VIEW_KINDS:
            if rel.key in self.definitions and rel.key not in self.running:
                return [(c.name, _Value(c.origin, c.nullable)) for c in self.view(rel.key)]
            return [(c.name, _UNKNOWN) for c in rel.columns]
        return [
            (c.name, _Value(Origin(ColumnRef(*rel.key, c.name)), c.nullable)) for c in rel.columns
        ]

    def _join(self, node: Any, scope: _Scope, ctes: Mapping[str, Any]) -> list[_Item]:
        left = self.from_item(node.larg, scope, ctes)
        right = self.from_item(node.rarg, _Scope(scope.items + left, scope.outer), ctes)
        kind = node.jointype
        if kind not in (
            enums.JoinType.JOIN_INNER,
            enums.JoinType.JOIN_LEFT,
            enums.JoinType.JOIN_RIGHT,
            enums.JoinType.JOIN_FULL,
        ):
            raise _Unfollowable(str(kind))
        here = _Scope(left + right, scope.outer)
        if node.quals is not None:
            if kind == enums.JoinType.JOIN_INNER:
                _filter(node.quals, here)
            else:
                # The quals hold for matched rows of the nullable side; its other rows are
                # null-extended anyway. The preserved side's rows come through whatever they hold.
                sides = {
                    enums.JoinType.JOIN_LEFT: right,
                    enums.JoinType.JOIN_RIGHT: left,
                    enums.JoinType.JOIN_FULL: [],
                }[kind]
                owned = {id(c) for item in sides for c in (item.columns or {}).values()}
                for cell in _strict_cells(node.quals, here):
                    if id(cell) in owned:
                        cell.forced = True
        merged = self._merge_using(node, left, right)
        # Each null-extended side gets its own mark: a filter proving one side's row exists
        # says nothing of the other side of a FULL join.
        if kind in (enums.JoinType.JOIN_LEFT, enums.JoinType.JOIN_FULL):
            _extend(right, self._mark())
        if kind in (enums.JoinType.JOIN_RIGHT, enums.JoinType.JOIN_FULL):
            _extend(left, self._mark())
        items = ([merged] if merged is not None else []) + left + right
        if node.alias is not None:
            # A join alias hides the joined items' names behind its own.
            columns = dict(merged.columns or {}) if merged is not None else {}
            for item in left + right:
                if item.columns is None:
                    return [_Item(node.alias.aliasname, None)]
                for name, cell in item.columns.items():
                    if name not in item.hidden:
                        columns.setdefault(name, cell)
            return [_Item(node.alias.aliasname, columns)]
        return items

    def _mark(self) -> int:
        self.joins += 1
        return self.joins

    def _merge_using(self, node: Any, left: list[_Item], right: list[_Item]) -> _Item | None:
        """The merged columns of ``USING``/``NATURAL``, hiding both sides' copies."""
        if node.isNatural:
            names = [n for n in _visible(left) if n in _visible(right)]
            if any(i.columns is None for i in left + right):
                raise _Unfollowable("NATURAL join over unknown columns")
        else:
            names = [n.sval for n in node.usingClause or ()]
        if not names:
            return None
        here_left, here_right = _Scope(left), _Scope(right)
        merged: dict[str, _Cell] = {}
        for name in names:
            a, b = here_left.resolve([name]), here_right.resolve([name])
            if a is None or b is None:
                raise _Unfollowable(f"USING column {name}")
            kind = node.jointype
            if kind == enums.JoinType.JOIN_FULL:
                merged[name] = _Cell(_computed(_any_nullable((a.result(), b.result()))))
            else:
                merged[name] = b if kind == enums.JoinType.JOIN_RIGHT else a
        for item in left + right:
            item.hidden = item.hidden | frozenset(names)
        alias = node.join_using_alias
        return _Item(alias.aliasname if alias is not None else None, merged)


def _merge_origin(a: Origin | None, b: Origin | None) -> Origin | None:
    return None if a is None or b is None else _EXPRESSION


def _alias_name(alias: Any) -> str | None:
    return alias.aliasname if alias is not None else None


def _renamed(columns: list[tuple[str, _Value]], names: Sequence[str]) -> list[tuple[str, _Value]]:
    if len(names) > len(columns):
        raise _Unfollowable("more column aliases than columns")
    return [(names[i] if i < len(names) else n, v) for i, (n, v) in enumerate(columns)]


def _cells(columns: Iterable[tuple[str, _Value]]) -> dict[str, _Cell]:
    out: dict[str, _Cell] = {}
    for name, value in columns:
        out.setdefault(name, _Cell(value))
    return out


def _item(name: str | None, columns: list[tuple[str, _Value]], alias: Any) -> _Item:
    names = [n.sval for n in (alias.colnames or ())] if alias is not None else []
    return _Item(name, _cells(_renamed(columns, names)))


def _visible(items: list[_Item]) -> list[str]:
    return [n for i in items for n in (i.columns or {}) if n not in i.hidden]


def _extend(items: list[_Item], join: int) -> None:
    for item in items:
        for cell in (item.columns or {}).values():
            cell.extended.add(join)


def _star(node: Any, scope: _Scope) -> list[tuple[str, _Value]]:
    qualifier = [f.sval for f in node.fields[:-1]]
    out = []
    for item in scope.items:
        if qualifier and item.name != qualifier[-1]:
            continue
        if item.columns is None:
            raise _Unfollowable("* over unknown columns")
        out += [
            (n, c.result())
            for n, c in item.columns.items()
            if qualifier or n not in item.hidden or item.name is None
        ]
    return out


# --------------------------------------------------------------------------- filters

# Built-in operators that return NULL for a NULL operand (all of PostgreSQL's comparison,
# arithmetic, text and range operators are strict).
_STRICT_OPERATORS = frozenset(
    "= <> != < > <= >= + - * / % ^ || ~~ !~~ ~~* !~~* ~ !~ ~* !~* @> <@ && -> ->> #> #>> @@".split()
)


def _filter(quals: Any, scope: _Scope) -> None:
    """Apply a filter (WHERE, or an inner join's ON): the NULL-rejected columns are non-null,
    and so are the outer joins that would have null-extended them (their rows must exist)."""
    cells = _strict_cells(quals, scope)
    cleared: set[int] = set()
    for cell in cells:
        cleared |= cell.extended
        cell.forced = True
    if cleared:
        for cell in scope.cells():
            cell.extended -= cleared


def _strict_cells(quals: Any, scope: _Scope) -> list[_Cell]:
    """Columns of ``scope`` a row must have non-null for ``quals`` to be true."""
    out: list[_Cell] = []
    for conjunct in _conjuncts(quals):
        for ref in _null_rejected(conjunct):
            found, _ = scope._find([f.sval for f in ref.fields])
            if found is not None:
                out.append(found)
    return out


def _conjuncts(node: Any) -> Iterable[Any]:
    if _is(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        for arg in node.args:
            yield from _conjuncts(arg)
    else:
        yield node


def _null_rejected(node: Any) -> list[Any]:
    """Column references that make ``node`` NULL (so not true) when they are NULL."""
    if _is(node, ast.ColumnRef) and not _is(node.fields[-1], ast.A_Star):
        return [node]
    if _is(node, ast.TypeCast, ast.CollateClause):
        return _null_rejected(node.arg)
    if _is(node, ast.NullTest):
        return _null_rejected(node.arg) if _is_not_null_test(node) else []
    if _is(node, ast.BooleanTest):
        true_or_false = (enums.BoolTestType.IS_TRUE, enums.BoolTestType.IS_FALSE)
        return _null_rejected(node.arg) if node.booltesttype in true_or_false else []
    if _is(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.NOT_EXPR:
        return _null_rejected(node.args[0])
    if _is(node, ast.A_Expr):
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


def _is_false(node: Any) -> bool:
    return _is(node, ast.A_Const) and _is(node.val, ast.Boolean) and not node.val.boolval


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


def _expression(node: Any, scope: _Scope) -> _Value:
    if _is(node, ast.ColumnRef):
        if _is(node.fields[-1], ast.A_Star):
            return _computed(False)  # a whole-row reference is a row, never NULL
        cell = scope.resolve([f.sval for f in node.fields])
        if cell is None:
            return _UNKNOWN
        value = cell.result()
        return _Value(value.origin, True) if scope.grouping_sets else value
    if _is(node, ast.TypeCast, ast.CollateClause):
        # A cast keeps the value (and its origin); pg_get_viewdef adds many of them.
        return _expression(node.arg, scope)
    if _is(node, ast.A_Const):
        return _computed(bool(node.isnull))
    if _is(node, ast.CoalesceExpr, ast.MinMaxExpr):
        return _computed(_all_nullable(_expression(a, scope) for a in node.args))
    if _is(node, ast.CaseExpr):
        results = [_expression(w.result, scope) for w in node.args]
        if node.defresult is None:
            return _computed(True)
        return _computed(_any_nullable([*results, _expression(node.defresult, scope)]))
    if _is(node, ast.FuncCall):
        return _function(node, scope)
    if _is(node, ast.A_Expr):
        return _operator_expression(node, scope)
    if _is(node, ast.BoolExpr):
        return _computed(_any_nullable(_expression(a, scope) for a in node.args))
    if _is(node, ast.NullTest, ast.BooleanTest):
        return _computed(False)
    if _is(node, ast.SQLValueFunction, ast.A_ArrayExpr, ast.RowExpr):
        return _computed(False)
    if _is(node, ast.SubLink):
        never_null = (enums.SubLinkType.EXISTS_SUBLINK, enums.SubLinkType.ARRAY_SUBLINK)
        return _computed(node.subLinkType not in never_null)
    return _UNKNOWN


def _function(node: Any, scope: _Scope) -> _Value:
    name = node.funcname[-1].sval
    qualifier = [n.sval for n in node.funcname[:-1]]
    if qualifier not in ([], ["pg_catalog"]):
        return _computed(True)  # a user function may return NULL for anything
    if name in _NEVER_NULL_FUNCTIONS:
        return _computed(False)
    if name in _NULL_PRESERVING_FUNCTIONS and node.over is None and node.args:
        return _computed(_any_nullable(_expression(a, scope) for a in node.args))
    return _computed(True)


def _operator_expression(node: Any, scope: _Scope) -> _Value:
    kind = node.kind
    if kind in (enums.A_Expr_Kind.AEXPR_DISTINCT, enums.A_Expr_Kind.AEXPR_NOT_DISTINCT):
        return _computed(False)
    if kind == enums.A_Expr_Kind.AEXPR_NULLIF:
        return _computed(True)
    if kind == enums.A_Expr_Kind.AEXPR_OP and _operator(node) in _STRICT_OPERATORS:
        operands = [n for n in (node.lexpr, node.rexpr) if n is not None]
        return _computed(_any_nullable(_expression(n, scope) for n in operands))
    if kind in (
        enums.A_Expr_Kind.AEXPR_LIKE,
        enums.A_Expr_Kind.AEXPR_ILIKE,
        enums.A_Expr_Kind.AEXPR_SIMILAR,
    ):
        return _computed(_any_nullable(_expression(n, scope) for n in (node.lexpr, node.rexpr)))
    return _computed(True)


def _column_name(node: Any) -> str:
    """The name PostgreSQL gives an unnamed target (FigureColname, for the common nodes)."""
    if _is(node, ast.ColumnRef):
        return str(node.fields[-1].sval)
    if _is(node, ast.TypeCast):
        inner = _column_name(node.arg)
        return inner if inner != "?column?" else str(node.typeName.names[-1].sval)
    if _is(node, ast.FuncCall):
        return str(node.funcname[-1].sval)
    if _is(node, ast.CoalesceExpr):
        return "coalesce"
    if _is(node, ast.CaseExpr):
        return "case"
    return "?column?"


# --------------------------------------------------------------------------- live catalogs

# A row of ``view_sources.sql``: schema, name, relkind, definition (views), columns, NOT NULLs.
SourceRow = tuple[str, str, str, str | None, Sequence[str], Sequence[bool]]
_VIEW_RELKINDS = {"v": Kind.VIEW, "m": Kind.MATERIALIZED_VIEW}


def with_view_sources(catalog: Catalog, rows: Iterable[SourceRow]) -> Catalog:
    """``catalog`` with its views analysed from the rows of ``view_sources.sql``.

    The rows bring the definitions and the relations the views read, also those outside the
    catalog's scope; only the catalog's own relations are returned.
    """
    definitions: dict[RelationKey, str] = {}
    extra: list[Relation] = []
    for schema, name, relkind, definition, names, not_null in rows:
        key = RelationKey(schema, name)
        if definition is not None:
            definitions[key] = definition
        if catalog.get(key) is None:
            kind = _VIEW_RELKINDS.get(relkind, Kind.TABLE)
            nullable = [None if kind in VIEW_KINDS else not n for n in not_null]
            columns = tuple(Column(c, "", f) for c, f in zip(names, nullable, strict=True))
            extra.append(Relation(key, kind, columns))
    derived = derive_views(Catalog.of([*catalog, *extra]), definitions)
    return _with_derived(catalog, derived)
