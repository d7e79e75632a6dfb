"""The body of the drift tracking issue (or of a comment on it), within GitHub's limit.

GitHub refuses an issue or comment body over 65,536 characters, and the report of a large
change easily exceeds that. The body is the Markdown report's heading and counts, as many of
its finding rows as fit (worst first), the drift policy section when it still fits, a note of
how many findings were left out, and a link to the full report. GitHub counts characters as
UTF-16 code units, so the budget does too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from mirror.report.markdown import TABLE_HEAD, finding_rows, head_lines, policy_lines
from mirror.report.mermaid import broken_paths_lines
from mirror.report.model import RenderOptions, Report
from mirror.report.printable import printable

GITHUB_LIMIT = 65_536
# Room below the limit for GitHub's own counting of line ends and anything a workflow adds.
MARGIN = 1_024


def size(text: str) -> int:
    """Characters as GitHub counts them (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The page of the current GitHub Actions run (its artifacts hold the full report), from
    the variables GitHub sets in every job; None outside GitHub Actions."""
    env = os.environ if environ is None else environ
    parts = [env.get(v, "").strip() for v in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY")]
    run_id = env.get("GITHUB_RUN_ID", "").strip()
    if not all(parts) or not run_id.isdigit():
        return None
    return f"{parts[0].rstrip('/')}/{parts[1]}/actions/runs/{run_id}"


def render(report: Report, options: RenderOptions) -> str:
    """The issue body: summary, the finding rows that fit, a note of the rest, the link."""
    if options.link:
        footer = [f"Full report (text, JSON, JUnit, Markdown): {printable(options.link)}"]
    else:
        footer = ["The full report is in the artifacts of the run that found the drift."]
    budget = GITHUB_LIMIT - MARGIN - sum(size(line) + 1 for line in footer)
    lines = [*head_lines(report), ""]
    rows = finding_rows(report)
    if rows:
        lines += TABLE_HEAD
    else:
        lines.append("No findings.")
    used = sum(size(line) + 1 for line in lines)
    note = 200  # room for the note of what was left out
    shown = 0
    for row in rows:
        if used + size(row) + 1 + note > budget:
            break
        lines.append(row)
        used += size(row) + 1
        shown += 1
    if shown < len(rows):
        lines += ["", f"*{len(rows) - shown} more finding(s) not shown here (size limit).*"]
        used += size(lines[-1]) + 2
    graph = broken_paths_lines(report.failing, report.expected)
    if graph and used + sum(size(line) + 1 for line in graph) + 1 <= budget:
        lines += ["", *graph]
        used += sum(size(line) + 1 for line in graph) + 1
    policy = policy_lines(report)
    if policy:
        block = ["", *policy]
        needed = sum(size(line) + 1 for line in block)
        if used + needed <= budget:
            lines += block
        else:
            lines += ["", "*The drift policy notes are in the full report (size limit).*"]
    return "\n".join([*lines, "", *footer]) + "\n"
