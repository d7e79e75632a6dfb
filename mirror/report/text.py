"""The text report, for people: a verdict line, context, then the findings worst first.

Colour only where asked (:func:`use_color` decides for a stream); every value is printed
through :func:`~mirror.report.printable.printable`, so a name from production never breaks a
line, moves the cursor or forges a CI log command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

from mirror.catalog.findings import Severity
from mirror.report.model import (
    RenderOptions,
    Report,
    by_severity,
    entry_text,
    has_policy_notes,
    summary,
)
from mirror.report.printable import printable

_ANSI = {
    Severity.BREAKING: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
}
_GREEN, _BOLD, _DIM, _RESET = "\x1b[1;32m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


def use_color(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, unless NO_COLOR forbids or FORCE_COLOR asks for it."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render(report: Report, options: RenderOptions) -> str:
    """The human report."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if options.color else text

    p = printable
    verdict = "DRIFT" if report.exit_code else "OK"
    code = _ANSI[Severity.BREAKING] if report.exit_code else _GREEN
    lines = [
        f"{p(report.title)}: {paint(code, verdict)} (exit {report.exit_code}, "
        f"fail on {report.fail_on})",
    ]
    if report.target:
        lines.append(f"  target    {p(report.target)}")
    if report.contract:
        lines.append(f"  contract  {p(report.contract)}")
    lines.append(f"  checked   {len(report.checked)} relations; {summary(report)}")
    if report.timings:
        spent = ", ".join(f"{p(k)} {v:.3f} s" for k, v in report.timings.items())
        lines.append(f"  timings   {spent}")
    lines.append("")
    if not report.findings:
        lines.append("no findings")
    width = max((len(f.kind) for f in report.findings), default=0)
    for finding in by_severity(report.findings):
        label = paint(_ANSI[finding.severity], f"{finding.severity.label:<8}")
        lines.append(f"{label}  {finding.kind:<{width}}  {paint(_BOLD, p(finding.object))}")
        lines.append(f"{'':10}{p(finding.message)}")
        if finding.evidence:
            lines.append(f"{'':10}{paint(_DIM, 'evidence: ' + p(finding.evidence))}")
        if finding.impact:
            lines.append(f"{'':10}impact: {p(', '.join(finding.impact))}")
    if has_policy_notes(report):
        outcome = report.policy
        lines.append("")
        where = f" ({p(report.policy_file)})" if report.policy_file else ""
        lines.append(
            f"policy{where}: {len(outcome.tolerated)} tolerated, {len(outcome.expired)} "
            f"expired, {len(outcome.stale)} stale"
        )
        for tol in outcome.tolerated:
            lines.append(f"  tolerated  {tol.finding.severity.label} {entry_text(tol.entry)}")
        for entry in outcome.expired:
            lines.append(f"  {paint(_ANSI[Severity.WARNING], 'expired')}    {entry_text(entry)}")
        for entry in outcome.stale:
            lines.append(f"  stale      {entry_text(entry)} [{p(entry.source)}]")
    return "\n".join(lines) + "\n"
