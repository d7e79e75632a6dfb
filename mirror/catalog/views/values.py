"""The values the analysis of view columns passes around: a column's origin and nullability
while it is worked out (:class:`Value`), and the FROM items and scopes that hold them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mirror.catalog.model import Kind, Origin

VIEW_KINDS = frozenset({Kind.VIEW, Kind.MATERIALIZED_VIEW})


@dataclass(frozen=True, slots=True)
class ViewColumn:
    """One derived view column: ``origin`` None and ``nullable`` None mean unknown."""

    name: str
    origin: Origin | None
    nullable: bool | None


def is_(node: Any, *kinds: type) -> bool:
    # isinstance without narrowing: pglast types every child as optional, and a node of the
    # kind tested always has the children read here.
    return isinstance(node, kinds)


@dataclass(frozen=True, slots=True)
class Value:
    """What is known of a column's values: where they come from and whether NULL is among them."""

    origin: Origin | None  # None: unknown
    nullable: bool | None  # None: unknown


UNKNOWN = Value(None, None)
EXPRESSION = Origin()


def computed(nullable: bool | None) -> Value:
    return Value(EXPRESSION, nullable)


def any_nullable(values: Iterable[Value]) -> bool | None:
    """Nullable when any is; unknown when none is but some are unknown (strict operators)."""
    flags = [v.nullable for v in values]
    return True if True in flags else None if None in flags else False


def all_nullable(values: Iterable[Value]) -> bool | None:
    """Non-null when any is (COALESCE, GREATEST, LEAST); unknown when none is but some are."""
    flags = [v.nullable for v in values]
    return False if False in flags else None if None in flags else True


@dataclass(eq=False, slots=True)
class Cell:
    """A column of a FROM item while joins and filters are applied.

    ``extended`` holds the outer joins that may null-extend it; ``forced`` says a filter let
    only rows where it is non-null through.
    """

    value: Value
    extended: set[int] = field(default_factory=set)
    forced: bool = False

    def result(self) -> Value:
        if self.extended:
            return Value(self.value.origin, True)
        if self.forced:
            return Value(self.value.origin, False)
        return self.value


@dataclass(eq=False, slots=True)
class Item:
    """A FROM item: its reference name and columns (None: columns not known)."""

    name: str | None
    columns: dict[str, Cell] | None
    hidden: frozenset[str] = frozenset()  # merged away by USING/NATURAL for unqualified refs


@dataclass(slots=True)
class Scope:
    items: list[Item]
    outer: Scope | None = None
    grouping_sets: bool = False

    def cells(self) -> Iterable[Cell]:
        for item in self.items:
            yield from (item.columns or {}).values()

    def resolve(self, fields: Sequence[str]) -> Cell | None:
        scope: Scope | None = self
        while scope is not None:
            found, opaque = scope.find(fields)
            if found is not None or opaque:
                return found
            scope = scope.outer
        return None

    def find(self, fields: Sequence[str]) -> tuple[Cell | None, bool]:
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


class Unfollowable(Exception):
    """The definition uses something the analysis does not follow."""
