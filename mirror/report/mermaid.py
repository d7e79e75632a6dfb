"""Lineage drawn as a Mermaid flowchart, for ``billig lineage --format mermaid`` and the reports.

GitHub renders a fenced ``mermaid`` block in a job summary, an issue or a pull-request comment.
The Markdown reports of a drift embed the graph of the broken paths only: the columns of the
findings at or above the failing severity, down to the code that reads them, bounded so a large
drift stays readable (:data:`MAX_COLUMNS`). Every label is written with Mermaid's entity codes
for anything beyond plain letters, digits and a few separators, so no name (quotes, backticks,
brackets, markup) can end a label, the diagram or the code fence.
"""

from __future__ import annotations

from collections.abc import Iterable

from mirror.catalog.findings import Finding
from mirror.catalog.lineage import (
    ColumnLineage,
    LineageGraph,
    Node,
    NodeKind,
    column_lineages,
    lineage_graph,
)
from mirror.catalog.model import Catalog, ColumnRef

MAX_COLUMNS = 12  # columns drawn in a report; the rest are counted in a note node

# Node shapes by kind: base column a cylinder, column a box, model field rounded, serializer
# field a parallelogram, endpoint a hexagon.
_SHAPES = {
    NodeKind.BASE: ('[("', '")]'),
    NodeKind.COLUMN: ('["', '"]'),
    NodeKind.MODEL: ('("', '")'),
    NodeKind.FIELD: ('[/"', '"/]'),
    NodeKind.ENDPOINT: ('{{"', '"}}'),
}
_STYLES = {
    NodeKind.BASE: "fill:#eef,stroke:#669",
    NodeKind.COLUMN: "fill:#eef,stroke:#336",
    NodeKind.MODEL: "fill:#efe,stroke:#363",
    NodeKind.FIELD: "fill:#ffe,stroke:#663",
    NodeKind.ENDPOINT: "fill:#fef,stroke:#636",
}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:,")


def label(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label: anything unsafe as an entity code."""
    return "".join(c if c in _SAFE else f"#{ord(c)};" for c in text)


def flowchart(graph: LineageGraph, *, broken: Iterable[ColumnRef] = ()) -> str:
    """The Mermaid source of ``graph`` (left to right); ``broken`` columns are drawn red."""
    ids = {node: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node, name in ids.items():
        opening, closing = _SHAPES[node.kind]
        lines.append(f"    {name}{opening}{label(_text(node))}{closing}")
    for upper, lower in graph.edges:
        lines.append(f"    {ids[upper]} --> {ids[lower]}")
    if graph.omitted:
        more = f"… and {graph.omitted} more column{'s' if graph.omitted != 1 else ''}"
        lines.append(f'    more["{label(more)}"]')
    for kind, style in _STYLES.items():
        members = [name for node, name in ids.items() if node.kind is kind]
        if members:
            lines.append(f"    classDef {kind} {style}")
            lines.append(f"    class {','.join(members)} {kind}")
    red = {str(ref) for ref in broken}
    hurt = [n for node, n in ids.items() if node.kind is NodeKind.COLUMN and node.label in red]
    if hurt:
        lines.append("    classDef broken fill:#fdd,stroke:#c00,stroke-width:2px")
        lines.append(f"    class {','.join(hurt)} broken")
    return "\n".join(lines) + "\n"


def _text(node: Node) -> str:
    if node.kind in (NodeKind.COLUMN, NodeKind.BASE, NodeKind.ENDPOINT):
        return node.label
    return f"{node.kind} {node.label}"


# --------------------------------------------------------------------------- reports


def broken_lineages(findings: Iterable[Finding], catalog: Catalog) -> list[ColumnLineage]:
    """The read columns ``findings`` concern: a column finding's column, every read column of a
    relation (or schema) finding's relation (or schema)."""
    wanted: dict[ColumnRef, None] = {}
    read = column_lineages(catalog)
    for finding in findings:
        for lineage in read:
            ref = lineage.column
            if finding.parts == (ref.schema, ref.relation, ref.column)[: len(finding.parts)]:
                wanted[ref] = None
    return [lineage for lineage in read if lineage.column in wanted]


def broken_paths_lines(findings: Iterable[Finding], catalog: Catalog | None) -> list[str]:
    """The Markdown section with the graph of the columns of ``findings`` (the failing ones) down
    to their readers; empty when none of them is read."""
    if catalog is None or catalog.lineage is None:
        return []
    lineages = broken_lineages(findings, catalog)
    if not lineages:
        return []
    graph = lineage_graph(lineages, max_columns=MAX_COLUMNS)
    source = flowchart(graph, broken=[lin.column for lin in lineages])
    return ["### Broken paths", "", "```mermaid", *source.splitlines(), "```"]
