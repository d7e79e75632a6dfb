"""The analysis of one view definition: statements, FROM items and joins, target lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from mirror.catalog.model import Catalog, ColumnRef, Origin, Relation, RelationKey
from mirror.catalog.views.expressions import (
    apply_filter,
    column_name,
    expression,
    is_false,
    strict_cells,
)
from mirror.catalog.views.values import (
    EXPRESSION,
    UNKNOWN,
    VIEW_KINDS,
    Cell,
    Item,
    Scope,
    Unfollowable,
    Value,
    ViewColumn,
    all_nullable,
    any_nullable,
    computed,
    is_,
)


class Analysis:
    """Views analysed over one catalog, each once (a view over views reuses their results)."""

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
            values = [UNKNOWN] * len(rel.columns)
        out = tuple(
            ViewColumn(c.name, v.origin, v.nullable)
            for c, v in zip(rel.columns, values, strict=True)
        )
        self.done[key] = out
        return out

    def _follow(self, rel: Relation) -> list[Value] | None:
        try:
            (raw,) = parse_sql(self.definitions[rel.key])
            return [v for _, v in self.select(raw.stmt, None, {})]
        except (ParseError, ValueError, Unfollowable, RecursionError):
            return None

    # ------------------------------------------------------------------ statements

    def select(
        self, stmt: Any, outer: Scope | None, ctes: Mapping[str, Any]
    ) -> list[tuple[str, Value]]:
        if not is_(stmt, ast.SelectStmt):
            raise Unfollowable(type(stmt).__name__)
        ctes = self._with(stmt.withClause, outer, ctes)
        if stmt.op != enums.SetOperation.SETOP_NONE:
            return self._set_operation(stmt, outer, ctes)
        if stmt.valuesLists:
            return self._values(stmt.valuesLists, outer)
        scope = Scope([], outer)
        for node in stmt.fromClause or ():
            scope.items += self.from_item(node, scope, ctes)
        if stmt.whereClause is not None:
            apply_filter(stmt.whereClause, scope)
        # ROLLUP/CUBE/GROUPING SETS null out the grouped columns in subtotal rows.
        scope.grouping_sets = any(is_(g, ast.GroupingSet) for g in stmt.groupClause or ())
        out: list[tuple[str, Value]] = []
        for target in stmt.targetList or ():
            out += self._target(target, scope)
        if is_false(stmt.whereClause):
            # No row ever comes out (a stand-in for a relation not at hand): nothing to say of
            # the values, neither where they come from nor whether they are NULL.
            out = [(name, UNKNOWN) for name, _ in out]
        return out

    def _with(self, clause: Any, outer: Scope | None, ctes: Mapping[str, Any]) -> dict[str, Any]:
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
        self, stmt: Any, outer: Scope | None, ctes: Mapping[str, Any]
    ) -> list[tuple[str, Value]]:
        left = self.select(stmt.larg, outer, ctes)
        right = self.select(stmt.rarg, outer, ctes)
        if len(left) != len(right):
            raise Unfollowable("set operation arity")
        op = stmt.op
        out = []
        for (name, a), (_, b) in zip(left, right, strict=True):
            origin = a.origin if a.origin == b.origin else _merge_origin(a.origin, b.origin)
            if op == enums.SetOperation.SETOP_UNION:
                nullable = any_nullable((a, b))
            elif op == enums.SetOperation.SETOP_INTERSECT:
                nullable = all_nullable((a, b))
            else:  # EXCEPT keeps rows of the left side
                nullable = a.nullable
            out.append((name, Value(origin, nullable)))
        return out

    def _values(self, rows: Sequence[Any], outer: Scope | None) -> list[tuple[str, Value]]:
        scope = Scope([], outer)
        columns = zip(*[[expression(e, scope) for e in row] for row in rows], strict=True)
        return [
            (f"column{i}", computed(any_nullable(values)))
            for i, values in enumerate(columns, start=1)
        ]

    def _target(self, target: Any, scope: Scope) -> list[tuple[str, Value]]:
        node = target.val
        if is_(node, ast.ColumnRef) and is_(node.fields[-1], ast.A_Star):
            return _star(node, scope)
        return [(target.name or column_name(node), expression(node, scope))]

    # ------------------------------------------------------------------ FROM items

    def from_item(self, node: Any, scope: Scope, ctes: Mapping[str, Any]) -> list[Item]:
        if is_(node, ast.RangeVar):
            return [self._range_var(node, ctes)]
        if is_(node, ast.RangeSubselect):
            # A LATERAL subquery sees the items to its left; others see only the outer query.
            outer = scope if node.lateral else scope.outer
            return [
                _item(_alias_name(node.alias), self.select(node.subquery, outer, ctes), node.alias)
            ]
        if is_(node, ast.JoinExpr):
            return self._join(node, scope, ctes)
        if is_(node, ast.RangeFunction):
            # Set-returning functions: the columns' names may be known, their values are not.
            names = [n.sval for n in (node.alias.colnames or ())] if node.alias else []
            unknown = _cells((n, UNKNOWN) for n in names) if names else None
            return [Item(_alias_name(node.alias), unknown)]
        raise Unfollowable(type(node).__name__)

    def _range_var(self, node: Any, ctes: Mapping[str, Any]) -> Item:
        alias = node.alias
        name = alias.aliasname if alias is not None else node.relname
        if node.schemaname is None and node.relname in ctes:
            columns = ctes[node.relname]
            return _item(name, columns, alias) if columns is not None else Item(name, None)
        key = RelationKey(node.schemaname or "pg_catalog", node.relname)
        rel = self.catalog.get(key)
        if rel is None:
            return Item(name, None)
        return _item(name, self._relation_columns(rel), alias)

    def _relation_columns(self, rel: Relation) -> list[tuple[str, Value]]:
        if rel.kind in VIEW_KINDS:
            if rel.key in self.definitions and rel.key not in self.running:
                return [(c.name, Value(c.origin, c.nullable)) for c in self.view(rel.key)]
            return [(c.name, UNKNOWN) for c in rel.columns]
        return [
            (c.name, Value(Origin(ColumnRef(*rel.key, c.name)), c.nullable)) for c in rel.columns
        ]

    def _join(self, node: Any, scope: Scope, ctes: Mapping[str, Any]) -> list[Item]:
        left = self.from_item(node.larg, scope, ctes)
        right = self.from_item(node.rarg, Scope(scope.items + left, scope.outer), ctes)
        kind = node.jointype
        if kind not in (
            enums.JoinType.JOIN_INNER,
            enums.JoinType.JOIN_LEFT,
            enums.JoinType.JOIN_RIGHT,
            enums.JoinType.JOIN_FULL,
        ):
            raise Unfollowable(str(kind))
        here = Scope(left + right, scope.outer)
        if node.quals is not None:
            if kind == enums.JoinType.JOIN_INNER:
                apply_filter(node.quals, here)
            else:
                # The quals hold for matched rows of the nullable side; its other rows are
                # null-extended anyway. The preserved side's rows come through whatever they hold.
                sides = {
                    enums.JoinType.JOIN_LEFT: right,
                    enums.JoinType.JOIN_RIGHT: left,
                    enums.JoinType.JOIN_FULL: [],
                }[kind]
                owned = {id(c) for item in sides for c in (item.columns or {}).values()}
                for cell in strict_cells(node.quals, here):
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
                    return [Item(node.alias.aliasname, None)]
                for name, cell in item.columns.items():
                    if name not in item.hidden:
                        columns.setdefault(name, cell)
            return [Item(node.alias.aliasname, columns)]
        return items

    def _mark(self) -> int:
        self.joins += 1
        return self.joins

    def _merge_using(self, node: Any, left: list[Item], right: list[Item]) -> Item | None:
        """The merged columns of ``USING``/``NATURAL``, hiding both sides' copies."""
        if node.isNatural:
            names = [n for n in _visible(left) if n in _visible(right)]
            if any(i.columns is None for i in left + right):
                raise Unfollowable("NATURAL join over unknown columns")
        else:
            names = [n.sval for n in node.usingClause or ()]
        if not names:
            return None
        here_left, here_right = Scope(left), Scope(right)
        merged: dict[str, Cell] = {}
        for name in names:
            a, b = here_left.resolve([name]), here_right.resolve([name])
            if a is None or b is None:
                raise Unfollowable(f"USING column {name}")
            kind = node.jointype
            if kind == enums.JoinType.JOIN_FULL:
                merged[name] = Cell(computed(any_nullable((a.result(), b.result()))))
            else:
                merged[name] = b if kind == enums.JoinType.JOIN_RIGHT else a
        for item in left + right:
            item.hidden = item.hidden | frozenset(names)
        alias = node.join_using_alias
        return Item(alias.aliasname if alias is not None else None, merged)


def _merge_origin(a: Origin | None, b: Origin | None) -> Origin | None:
    return None if a is None or b is None else EXPRESSION


def _alias_name(alias: Any) -> str | None:
    return alias.aliasname if alias is not None else None


def _renamed(columns: list[tuple[str, Value]], names: Sequence[str]) -> list[tuple[str, Value]]:
    if len(names) > len(columns):
        raise Unfollowable("more column aliases than columns")
    return [(names[i] if i < len(names) else n, v) for i, (n, v) in enumerate(columns)]


def _cells(columns: Iterable[tuple[str, Value]]) -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    for name, value in columns:
        out.setdefault(name, Cell(value))
    return out


def _item(name: str | None, columns: list[tuple[str, Value]], alias: Any) -> Item:
    names = [n.sval for n in (alias.colnames or ())] if alias is not None else []
    return Item(name, _cells(_renamed(columns, names)))


def _visible(items: list[Item]) -> list[str]:
    return [n for i in items for n in (i.columns or {}) if n not in i.hidden]


def _extend(items: list[Item], join: int) -> None:
    for item in items:
        for cell in (item.columns or {}).values():
            cell.extended.add(join)


def _star(node: Any, scope: Scope) -> list[tuple[str, Value]]:
    qualifier = [f.sval for f in node.fields[:-1]]
    out = []
    for item in scope.items:
        if qualifier and item.name != qualifier[-1]:
            continue
        if item.columns is None:
            raise Unfollowable("* over unknown columns")
        out += [
            (n, c.result())
            for n, c in item.columns.items()
            if qualifier or n not in item.hidden or item.name is None
        ]
    return out
