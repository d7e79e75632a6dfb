"""The nightly job's tracking-issue body (report format ``issue``) stays within GitHub's limit:
the summary, as many findings as fit (worst first), the policy notes when they fit, a link."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import RelationKey
from mirror.drift.policy import parse_policy
from mirror.report.issue import GITHUB_LIMIT, run_url, size
from mirror.report.render import Report, render

LINK = "https://github.com/o/r/actions/runs/1"


def _finding(n: int, severity: Severity = Severity.BREAKING, note: str = "") -> Finding:
    return Finding(
        kind=FindingKind.COLUMN_MISSING,
        severity=severity,
        schema="billig",
        relation="event",
        column=f"c{n:05d}",
        expected="text",
        actual=None,
        message=f"column billig.event.c{n:05d} (text) is missing – ünïcode {note}",
    )


def _report(count: int, note: str = "") -> Report:
    findings = [_finding(n, Severity(n % 3 + 1), note) for n in range(count)]
    return Report.build(findings, checked=(RelationKey("billig", "event"),))


def _rows(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_a_huge_report_becomes_its_summary_the_rows_that_fit_and_a_link() -> None:
    report = _report(20_000)
    markdown = render(report, "markdown")
    assert len(markdown) > 10 * GITHUB_LIMIT
    body = render(report, "issue", link=LINK)
    assert size(body) <= GITHUB_LIMIT
    lines = body.splitlines()
    assert lines[:3] == markdown.splitlines()[:3]  # heading, counts
    shown = _rows(body)
    assert 100 < len(shown) < 20_000
    assert shown == _rows(markdown)[: len(shown)]  # worst first, as in the full report
    assert f"*{20_000 - len(shown)} more finding(s) not shown here (size limit).*" in body
    assert lines[-1] == f"Full report (text, JSON, JUnit, Markdown): {LINK}"


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=3_000), st.sampled_from(["", "𝔘" * 40, "x" * 300]))
def test_the_body_never_exceeds_the_limit_counted_as_github_counts(count: int, note: str) -> None:
    body = render(_report(count, note), "issue", link=LINK)
    assert size(body) <= GITHUB_LIMIT
    shown = len(_rows(body))
    assert shown == count or f"*{count - shown} more finding(s) not shown" in body


def test_a_small_report_is_kept_whole_with_the_link_and_the_policy() -> None:
    policy = parse_policy(
        json.dumps({"format_version": 1, "tolerate": [{
            "kind": "column_missing", "object": "billig.gone", "reason": "r", "owner": "o",
            "expires": "2027-01-01"}]}),
        "contracts/drift-policy.json",
    )  # fmt: skip
    report = Report.build([_finding(1)], policy=policy, today=dt.date(2026, 1, 1))
    body = render(report, "issue", link=LINK)
    markdown = render(report, "markdown")
    assert body == markdown + f"\nFull report (text, JSON, JUnit, Markdown): {LINK}\n"
    assert "### Drift policy" in body


def test_the_link_defaults_to_the_github_actions_run(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    }
    assert run_url(env) == "https://github.com/o/r/actions/runs/42"
    assert run_url({}) is None
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert render(_report(1), "issue").splitlines()[-1].endswith("/o/r/actions/runs/42")
    monkeypatch.delenv("GITHUB_RUN_ID")
    assert "artifact" in render(_report(1), "issue").splitlines()[-1]
