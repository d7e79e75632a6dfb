"""GitHub Actions output: workflow-command annotations, and the job summary file.

An annotation's data escapes ``%``, CR and LF as GitHub documents, its properties also ``:``
and ``,``; values are printable first (:func:`~mirror.report.printable.printable`), so a name
can neither end the command nor start another one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mirror.catalog.findings import Severity
from mirror.report import markdown
from mirror.report.model import RenderOptions, Report, by_severity, entry_text, summary
from mirror.report.printable import printable


def _gh_data(text: str) -> str:
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(
    level: str, message: str, *, title: str, file: str | None, line: str | None = None
) -> str:
    props = []
    if file:
        props.append(f"file={_gh_property(file)}")
        if line:
            props.append(f"line={_gh_property(line)}")
    props.append(f"title={_gh_property(title)}")
    return f"::{level} {','.join(props)}::{_gh_data(message)}"


def render(report: Report, options: RenderOptions) -> str:
    """An annotation per finding and per expired or stale policy entry, then the verdict.

    Findings at or above ``fail_on`` are errors; lesser ones warnings or notices.
    """
    lines = []
    for f in by_severity(report.findings):
        if f.severity >= report.fail_on:
            level = "error"
        else:
            level = "warning" if f.severity is Severity.WARNING else "notice"
        message = f.message
        if f.evidence:
            message += f" (evidence: {f.evidence})"
        if f.impact:
            message += f" (impact: {', '.join(f.impact)})"
        lines.append(
            _annotation(
                level, message, title=f"{f.severity} {f.kind} {f.object}", file=report.contract
            )
        )
    for kind, entries in (("expired", report.policy.expired), ("stale", report.policy.stale)):
        for e in entries:
            file, _, line = e.source.rpartition(":")
            lines.append(
                _annotation(
                    "warning",
                    f"{kind} drift policy entry: {entry_text(e)}",
                    title=f"{kind} policy entry {e.kind} {e.object}",
                    file=file or report.policy_file,
                    line=line if file else None,
                )
            )
    verdict = "drift" if report.exit_code else "no drift"
    lines.append(
        f"{printable(report.title)}: {verdict} (exit {report.exit_code}); {summary(report)}"
    )
    return "\n".join(lines) + "\n"


def step_summary_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The job summary file ``$GITHUB_STEP_SUMMARY`` names (None when unset or blank)."""
    env = os.environ if environ is None else environ
    target = env.get("GITHUB_STEP_SUMMARY", "").strip()
    return Path(target) if target else None


def write_step_summary(report: Report, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when set; return the file."""
    path = step_summary_path(environ)
    if path is None:
        return None
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown.render(report, RenderOptions()))
    return path
