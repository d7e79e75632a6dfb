"""Lineage as a graph: from a Billig column to the code that reads it.

The contract records, per column, the model fields, serializer fields and endpoints that read
it (:class:`~mirror.catalog.model.Usage`), and for a view column the base column it comes from
(:class:`~mirror.catalog.model.Origin`). :func:`lineage_graph` turns that into layers joined by
edges: base column → view column → model fields → serializer fields → endpoints. The contract
keeps readers per column, not which field serves which endpoint, so each layer is joined to the
next non-empty one of the same column. Graphs are bounded (``max_columns``): a report on a large
drift draws the first columns and says how many it left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mirror.catalog.model import Catalog, ColumnRef, Usage


class NodeKind(StrEnum):
    BASE = "base"  # the base table column a view column comes from
    COLUMN = "column"
    MODEL = "model"
    FIELD = "field"
    ENDPOINT = "endpoint"


@dataclass(frozen=True, slots=True)
class Node:
    kind: NodeKind
    label: str


@dataclass(frozen=True, slots=True)
class ColumnLineage:
    """One column's readers, layer by layer, and its origin when it is a view column."""

    column: ColumnRef
    origin: ColumnRef | None
    usage: Usage
    nullable: bool | None = None

    def layers(self) -> list[list[Node]]:
        """The non-empty layers from the column to the endpoints."""
        layers = [
            [Node(NodeKind.MODEL, m) for m in sorted(set(self.usage.models))],
            [Node(NodeKind.FIELD, f) for f in sorted(set(self.usage.fields))],
            [Node(NodeKind.ENDPOINT, e) for e in sorted(set(self.usage.endpoints))],
        ]
        return [[Node(NodeKind.COLUMN, str(self.column))], *(layer for layer in layers if layer)]


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """Nodes and edges in first-seen order; ``omitted`` columns did not fit the bound."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[Node, Node], ...]
    columns: tuple[ColumnLineage, ...]
    omitted: int = 0

    def __bool__(self) -> bool:
        return bool(self.nodes)


def column_lineages(
    catalog: Catalog, columns: Iterable[ColumnRef] | None = None
) -> list[ColumnLineage]:
    """The read columns of ``catalog`` (or those of ``columns``), in catalog order.

    A catalog without lineage has no readers to draw: every column is then returned without
    readers only when asked by name.
    """
    wanted = None if columns is None else set(columns)
    out = []
    for rel in catalog:
        for col in rel.columns:
            ref = ColumnRef(rel.key.schema, rel.key.name, col.name)
            if wanted is not None and ref not in wanted:
                continue
            usage = catalog.usage(ref) or Usage()
            if wanted is None and not usage.read:
                continue
            origin = col.origin.column if col.origin is not None else None
            out.append(ColumnLineage(ref, origin, usage, col.nullable))
    return out


def lineage_graph(
    lineages: Iterable[ColumnLineage], *, max_columns: int | None = None
) -> LineageGraph:
    """The graph of ``lineages``: at most ``max_columns`` of them, the rest counted."""
    chosen = list(lineages)
    omitted = 0
    if max_columns is not None and len(chosen) > max_columns:
        chosen, omitted = chosen[:max_columns], len(chosen) - max_columns
    nodes: dict[Node, None] = {}
    edges: dict[tuple[Node, Node], None] = {}
    for lineage in chosen:
        layers = lineage.layers()
        if lineage.origin is not None:
            layers.insert(0, [Node(NodeKind.BASE, str(lineage.origin))])
        for layer in layers:
            nodes.update(dict.fromkeys(layer))
        for upper, lower in itertools.pairwise(layers):
            edges.update(dict.fromkeys((a, b) for a in upper for b in lower))
    return LineageGraph(tuple(nodes), tuple(edges), tuple(chosen), omitted)
