"""The nightly job's tracking issue body stays under GitHub's limit and links the full report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "drift_issue_body.py"
GITHUB_LIMIT = 65_536
REPORT_URL = "https://github.com/o/r/actions/runs/1/artifacts/2"
RUN_URL = "https://github.com/o/r/actions/runs/1"


def _body(report: str, tmp_path: Path, *urls: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "drift.md"
    path.write_text(report, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *urls], capture_output=True, text=True, timeout=60
    )


def _report(rows: int) -> str:
    head = [
        "## billig drift: drift (exit 1)",
        "",
        f"{rows} breaking; fail on **breaking**; 9 relations checked",
        "",
        "| Severity | Kind | Object | Expected | Actual | Message | Impact |",
        "|---|---|---|---|---|---|---|",
    ]
    row = "| **breaking** | column_missing | `billig.event.c{n}` | `text` |  | gone – ünïcode | x |"
    return "\n".join(head + [row.format(n=n) for n in range(rows)]) + "\n"


def test_a_huge_report_becomes_its_summary_the_rows_that_fit_and_a_link(tmp_path: Path) -> None:
    report = _report(20_000)
    assert len(report) > 10 * GITHUB_LIMIT
    proc = _body(report, tmp_path, REPORT_URL, RUN_URL)
    assert proc.returncode == 0, proc.stderr
    body = proc.stdout
    assert len(body) < GITHUB_LIMIT and len(body.encode("utf-16-le")) // 2 < GITHUB_LIMIT
    lines = body.splitlines()
    assert lines[:6] == report.splitlines()[:6]  # heading, counts, table header
    shown = [line for line in lines if line.startswith("| **breaking**")]
    assert 100 < len(shown) < 20_000
    assert f"*{20_000 - len(shown)} more line(s) of the report are not shown" in body
    assert lines[-2:] == [f"Full report (JSON, JUnit, Markdown): {REPORT_URL}", f"Run: {RUN_URL}"]


def test_a_small_report_is_kept_whole_with_the_link(tmp_path: Path) -> None:
    report = _report(3)
    proc = _body(report, tmp_path, REPORT_URL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == report + f"\nFull report (JSON, JUnit, Markdown): {REPORT_URL}\n"


def test_a_missing_report_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "absent.md"), REPORT_URL],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
