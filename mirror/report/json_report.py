"""The JSON report, for machines; its layout is pinned by ``contracts/drift-report.schema.json``.

JSON escapes line breaks and C0 controls inside strings itself; the characters it leaves raw
(DEL, C1 controls, separators, bidirectional marks) are escaped as ``\\uXXXX`` as well, so the
report is safe on a terminal and the same JSON value.
"""

from __future__ import annotations

from typing import Any

from mirror.report.model import RenderOptions, Report, status
from mirror.report.printable import json_safe
from mirror.sources.json_locator import dump_json

REPORT_FORMAT_VERSION = 1


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON report as a plain dict (validated by contracts/drift-report.schema.json)."""
    outcome = report.policy
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "title": report.title,
        "status": status(report),
        "exit_code": report.exit_code,
        "fail_on": report.fail_on.label,
        "counts": report.counts,
        "findings": [f.to_dict() for f in report.findings],
        "checked": [
            {"schema": k.schema, "relation": k.name, "object": str(k)} for k in report.checked
        ],
        "timings": {k: round(v, 6) for k, v in report.timings.items()},
        "policy": {
            "file": report.policy_file,
            "tolerated": [
                {"finding": t.finding.to_dict(), "entry": t.entry.to_dict()}
                for t in outcome.tolerated
            ],
            "expired": [e.to_dict() for e in outcome.expired],
            "stale": [e.to_dict() for e in outcome.stale],
        },
        "target": report.target,
        "contract": report.contract,
    }


def render(report: Report, options: RenderOptions) -> str:
    return json_safe(dump_json(report_dict(report)))
