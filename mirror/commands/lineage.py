"""``billig lineage``: from contracted Billig columns to the code that reads them.

Read from the columns contract alone (no database, no site import): each column with its
nullability and, for a view column, the base column it comes from, then the model fields,
serializer fields and endpoints reading it; as a text tree or a Mermaid flowchart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mirror.catalog.lineage import ColumnLineage, column_lineages, lineage_graph
from mirror.catalog.model import Catalog, split_qualified_name
from mirror.commands.console import Echo, echo
from mirror.errors import UsageError

FORMATS = ("text", "mermaid")
_LAYERS = (("models", "model fields"), ("fields", "serializer fields"), ("endpoints", "endpoints"))


def select_lineages(catalog: Catalog, columns: Sequence[str]) -> list[ColumnLineage]:
    """The lineage of the read columns ``columns`` name (all of them when none is given).

    A name is ``schema.relation.column``, ``relation.column`` or ``relation`` (all its read
    columns), quoted as in SQL where needed; ``*`` matches any part.
    """
    read = column_lineages(catalog)
    if not columns:
        return read
    chosen: dict[int, ColumnLineage] = {}
    for text in columns:
        try:
            parts = split_qualified_name(text, wildcard="*")
        except ValueError as exc:
            raise UsageError(f"column {text!r}: {exc}") from None
        if len(parts) > 3:
            raise UsageError(f"column {text!r}: expected [schema.]relation[.column]")
        found = [i for i, lin in enumerate(read) if _matches(parts, lin)]
        if not found:
            raise UsageError(f"no column read by the site matches {text!r} in the contract")
        chosen.update((i, read[i]) for i in found)
    return [chosen[i] for i in sorted(chosen)]


def _matches(parts: Sequence[str | None], lineage: ColumnLineage) -> bool:
    ref = lineage.column
    if len(parts) == 1:  # a relation
        names: tuple[str, ...] = (ref.relation,)
    elif len(parts) == 2:
        names = (ref.relation, ref.column)
    else:
        names = (ref.schema, ref.relation, ref.column)
    return all(p is None or p == n for p, n in zip(parts, names, strict=True))


def lineage_tree(lineages: Sequence[ColumnLineage]) -> str:
    """Each column as a tree: column, then model fields, serializer fields, endpoints."""
    lines: list[str] = []
    for lineage in lineages:
        about = {True: "nullable", False: "not null", None: "nullability unknown"}
        note = about[lineage.nullable]
        if lineage.origin is not None:
            note += f"; via {lineage.origin}"
        lines.append(f"{lineage.column}  ({note})")
        layers = [
            (title, sorted(set(getattr(lineage.usage, attr))))
            for attr, title in _LAYERS
            if getattr(lineage.usage, attr)
        ]
        if not layers:
            lines.append("└── not read by the site")
        for depth, (title, members) in enumerate(layers):
            lines.append("    " * depth + f"└── {title}: {', '.join(members)}")
    return "\n".join(lines) + ("\n" if lines else "")


def run_lineage(
    columns: Sequence[str] = (),
    *,
    contract: Path | None = None,
    fmt: str = "text",
    out: Echo = echo,
) -> int:
    """Print the lineage of ``columns`` (default: every read column); exit code 0."""
    from mirror.drift.check import resolve_contract
    from mirror.report.mermaid import flowchart
    from mirror.sources.contract_file import load_contract

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    catalog = load_contract(resolve_contract(contract))
    if catalog.lineage is None:
        raise UsageError("the contract has no lineage: run `billig contracts update` with a site")
    lineages = select_lineages(catalog, columns)
    if fmt == "mermaid":
        out(flowchart(lineage_graph(lineages)), nl=False)
    else:
        out(lineage_tree(lineages), nl=False)
    return 0
