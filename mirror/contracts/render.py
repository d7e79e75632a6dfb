"""Contract results and update changes as text: plain for the terminal, Markdown for reports."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from mirror.catalog.model import Catalog
from mirror.contracts.kinds import CheckResult, FileChange
from mirror.report.mermaid import broken_paths_lines
from mirror.report.render import table_cell


def render_results(results: Sequence[CheckResult], *, title: str = "contracts") -> str:
    """Plain text: one line per check, its problems indented below it, then a verdict."""
    failed = [r for r in results if not r.ok]
    width = max((len(r.kind) for r in results), default=0)
    lines = []
    for r in results:
        detail = f" ({r.detail})" if r.detail else ""
        lines.append(f"{'ok  ' if r.ok else 'FAIL'}  {r.kind:<{width}}  {r.name}{detail}")
        lines += [f"        {p}" for p in r.problems]
    verdict = "all contracts hold" if not failed else f"{len(failed)} of {len(results)} failed"
    lines.append(f"{title}: {len(results)} checks, {verdict}")
    return "\n".join(lines) + "\n"


def render_results_markdown(
    results: Sequence[CheckResult], *, title: str = "Contracts", contract: Catalog | None = None
) -> str:
    """The Markdown report; with the columns ``contract``, a graph of the broken paths too."""
    failed = sum(1 for r in results if not r.ok)
    verdict = "all contracts hold" if not failed else f"**{failed} of {len(results)} failed**"
    out = [f"## {title}", "", f"{len(results)} checks, {verdict}.", ""]
    out += ["| | kind | check | detail |", "|---|---|---|---|"]
    for r in results:
        mark = "✅" if r.ok else "❌"
        out.append(f"| {mark} | {r.kind} | {table_cell(r.name)} | {table_cell(r.detail)} |")
    for r in results:
        if r.problems:
            out += ["", f"### {r.kind}: {r.name}", "", "```"]
            out += list(r.problems)
            out.append("```")
    graph = broken_paths_lines([f for r in results if not r.ok for f in r.findings], contract)
    if graph:
        out += ["", *graph]
    return "\n".join(out) + "\n"


def render_changes(changes: Sequence[FileChange], root: Path | None = None) -> str:
    """What an update did, one line per file and the change lines below it."""
    lines = []
    for change in changes:
        shown = change.path
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = Path(os.path.relpath(change.path, root))
        lines.append(f"{change.status:<9} {shown}")
        lines += [f"          {line}" for line in change.lines]
    touched = sum(1 for c in changes if c.status != "unchanged")
    lines.append(
        f"contracts: {touched} file(s) updated" if touched else "contracts: already up to date"
    )
    return "\n".join(lines) + "\n"
