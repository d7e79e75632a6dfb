"""The Markdown report: a job summary or PR comment with a verdict, counts and a table row per
finding; its pieces also make the tracking-issue body (:mod:`mirror.report.issue`).

Values are printable (:func:`~mirror.report.printable.printable`) and table-safe
(:func:`table_cell`): one line, pipes and backslashes escaped.
"""

from __future__ import annotations

from mirror.catalog.findings import Finding
from mirror.report.mermaid import broken_paths_lines
from mirror.report.model import (
    RenderOptions,
    Report,
    by_severity,
    entry_text,
    has_policy_notes,
    summary,
)
from mirror.report.printable import printable

TABLE_HEAD = (
    "| Severity | Kind | Object | Expected | Actual | Message | Impact |",
    "|---|---|---|---|---|---|---|",
)


def table_cell(text: str) -> str:
    """``text`` safe in a Markdown table cell: printable, one line, pipes and backslashes
    escaped."""
    return printable(text).replace("\\", "\\\\").replace("|", "\\|")


def _code(text: str | None) -> str:
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{table_cell(text)}{pad}{fence}"


def head_lines(report: Report) -> list[str]:
    """The heading with the verdict, and the line of counts and context."""
    verdict = "drift" if report.exit_code else "no drift"
    return [
        f"## {table_cell(report.title)}: {verdict} (exit {report.exit_code})",
        "",
        f"{summary(report)}; fail on **{report.fail_on}**; "
        f"{len(report.checked)} relations checked"
        + (f"; target {_code(report.target)}" if report.target else "")
        + (f"; contract {_code(report.contract)}" if report.contract else ""),
    ]


def finding_row(report: Report, f: Finding) -> str:
    severity = f"**{f.severity}**" if f.severity >= report.fail_on else f.severity.label
    message = f.message + (f" (evidence: {f.evidence})" if f.evidence else "")
    return (
        f"| {severity} | {f.kind} | {_code(f.object)} | {_code(f.expected)} | "
        f"{_code(f.actual)} | {table_cell(message)} | {table_cell(', '.join(f.impact))} |"
    )


def finding_rows(report: Report) -> list[str]:
    """One table row per finding, worst first."""
    return [finding_row(report, f) for f in by_severity(report.findings)]


def policy_lines(report: Report) -> list[str]:
    """The drift policy section (empty when the policy tolerated, expired and found nothing)."""
    if not has_policy_notes(report):
        return []
    outcome = report.policy
    lines = ["### Drift policy", ""]
    for t in outcome.tolerated:
        lines.append(
            f"- tolerated: [{t.finding.severity}] {_code(t.finding.object)} "
            f"{table_cell(t.finding.message)}; reason: {table_cell(t.entry.reason)} "
            f"(owner {table_cell(t.entry.owner)}, expires {t.entry.expires})"
        )
    for e in outcome.expired:
        lines.append(f"- **expired**: {table_cell(entry_text(e))} ({_code(e.source)})")
    for e in outcome.stale:
        lines.append(f"- stale (matches nothing): {table_cell(entry_text(e))} ({_code(e.source)})")
    return lines


def render(report: Report, options: RenderOptions) -> str:
    """A job summary / PR comment: verdict, counts, then one table row per finding."""
    lines = [*head_lines(report), ""]
    lines += [*TABLE_HEAD, *finding_rows(report)] if report.findings else ["No findings."]
    graph = broken_paths_lines(report.failing, report.expected)
    if graph:
        lines += ["", *graph]
    policy = policy_lines(report)
    if policy:
        lines += ["", *policy]
    return "\n".join(lines) + "\n"
