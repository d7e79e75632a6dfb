"""Rendering results for a person: one rich table per benchmark case, then the target verdicts.

The same rows also render as Markdown (:func:`markdown`) for the README, so the README shows
exactly what the run printed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.results import Result, growth, ratio
from benchmarks.targets import Verdict

TITLES = {
    "check": "billig check, whole process",
    "processes": "Whole processes (start-up included)",
    "drift": "Drift check",
    "prefetch": "Prefetch + serialize",
    "startup": "Mirror start-up",
    "isolation": "Per-test isolation (set-up + tiny test + tear-down)",
}
# The baseline of a group is ours, or a floor where the group has one (whole processes).
_HEADERS = ("size", "approach", "median", "min", "statements", "time / baseline", "per 10× size")
_RIGHT = {"size", "median", "min", "statements", "time / baseline", "per 10× size"}


def _time(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def _cells(result: Result, results: Sequence[Result]) -> tuple[str, ...]:
    r = ratio(result, results)
    g = growth(result, results)
    return (
        f"{result.size:,}" if result.size is not None else "",
        result.approach,
        _time(result.timing.median),
        _time(result.timing.best),
        f"{result.statements:,}" if result.statements is not None else "",
        "1.0" if result.baseline else (f"{r:.1f}×" if r is not None else ""),
        f"{g:.1f}×" if g is not None else "",
    )


def sections(results: Sequence[Result]) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(title, rows) per benchmark and case, in benchmark order then first appearance."""
    out: list[tuple[str, list[tuple[str, ...]]]] = []
    for benchmark, title in TITLES.items():
        cases = dict.fromkeys(r.case for r in results if r.benchmark == benchmark)
        for case in cases:
            body = [
                _cells(r, results) for r in results if r.benchmark == benchmark and r.case == case
            ]
            out.append((f"{title}: {case}", body))
    return out


def print_tables(console: Console, results: Sequence[Result], verdicts: Sequence[Verdict]) -> None:
    for title, body in sections(results):
        table = Table(title=title, title_justify="left", title_style="bold")
        for header in _HEADERS:
            table.add_column(header, justify="right" if header in _RIGHT else "left")
        for cells in body:
            table.add_row(*cells)
        console.print(table)
    if not verdicts:
        return
    table = Table(title="Performance targets", title_justify="left", title_style="bold")
    for header in ("what", "target", "measured", "met"):
        table.add_column(header)
    for v in verdicts:
        table.add_row(v.what, v.target, v.measured, _met(v.met))
    console.print(table)


def _met(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "–"}[met]


def markdown(results: Sequence[Result], verdicts: Sequence[Verdict]) -> str:
    """The tables as Markdown (for the README)."""
    out: list[str] = []
    for title, body in sections(results):
        out += [f"**{title}**", "", "| " + " | ".join(_HEADERS) + " |"]
        out.append("|" + "|".join("--:" if h in _RIGHT else "---" for h in _HEADERS) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in body]
        out.append("")
    if verdicts:
        out += [
            "**Performance targets**",
            "",
            "| what | target | measured | met |",
            "|---|---|---|---|",
        ]
        out += [f"| {v.what} | {v.target} | {v.measured} | {_met(v.met)} |" for v in verdicts]
    return "\n".join(out) + "\n"
