#!/usr/bin/env python3
"""The body of the nightly drift tracking issue (or of a comment on it), within GitHub's limit.

GitHub rejects an issue or comment body over 65,536 characters, and a drift report of a large
change easily exceeds that. The body is the report's summary (its heading and counts) and as many
of its finding rows as fit into a budget well under the limit, followed by a link to the full
report (the uploaded artifact) and a note of how many rows were left out.

Usage: drift_issue_body.py REPORT.md REPORT_URL [RUN_URL]   (writes the body to stdout)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Well under GitHub's 65,536: room for the note, the links and characters GitHub counts twice.
BUDGET = 60_000


def body(report: str, report_url: str, run_url: str | None = None) -> str:
    footer = [f"Full report (JSON, JUnit, Markdown): {report_url}"]
    if run_url:
        footer.append(f"Run: {run_url}")
    lines = report.rstrip("\n").splitlines()
    kept: list[str] = []
    size = sum(len(line) + 1 for line in footer) + 200
    for line in lines:
        if size + len(line) + 1 > BUDGET:
            break
        kept.append(line)
        size += len(line) + 1
    left_out = len(lines) - len(kept)
    parts = kept
    if left_out:
        parts += ["", f"*{left_out} more line(s) of the report are not shown (size limit).*"]
    return "\n".join([*parts, "", *footer]) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        report = Path(argv[0]).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"drift_issue_body.py: cannot read {argv[0]}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(body(report, *argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
