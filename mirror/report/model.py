"""The report every renderer reads: findings after the drift policy, and their context.

A ``Report`` holds the findings that count after the drift policy, what the policy tolerated,
expired or found stale, the relations checked, timings and where the data came from. Reports
take an already-redacted DSN as ``target`` (and scrub it once more), so no renderer can print a
password. The few phrasings every format shares (the counts, a policy entry, a finding on one
line) live here, already made printable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mirror.catalog.findings import Finding, Severity, counts, exit_code, sort_findings
from mirror.catalog.model import Catalog, RelationKey
from mirror.drift.policy import Policy, PolicyEntry, PolicyOutcome
from mirror.report.printable import printable
from mirror.secrets import scrub


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a renderer needs; ``findings`` are the ones that count (after the policy)."""

    findings: tuple[Finding, ...]
    checked: tuple[RelationKey, ...] = ()
    fail_on: Severity = Severity.BREAKING
    policy: PolicyOutcome = field(default_factory=PolicyOutcome)
    timings: Mapping[str, float] = field(default_factory=dict)
    title: str = "billig drift"
    target: str | None = None  # an already-redacted DSN
    contract: str | None = None  # the contract file, for annotations
    policy_file: str | None = None
    # The contract checked against, with its lineage: what the broken-paths graph is drawn from.
    expected: Catalog | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(sort_findings(self.findings)))
        object.__setattr__(self, "checked", tuple(sorted(set(self.checked))))
        object.__setattr__(self, "timings", dict(self.timings))
        if self.target is not None:
            object.__setattr__(self, "target", scrub(self.target))

    @classmethod
    def build(
        cls,
        findings: Iterable[Finding],
        *,
        policy: Policy | None = None,
        today: dt.date | None = None,
        **fields: Any,
    ) -> Report:
        """A report of raw comparator findings, with ``policy`` applied as of ``today``."""
        found = tuple(findings)
        if policy is None:
            return cls(found, policy=PolicyOutcome(found), **fields)
        outcome = policy.apply(found, today)
        fields.setdefault("policy_file", policy.source or None)
        return cls(outcome.findings, policy=outcome, **fields)

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings, self.fail_on)

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.findings)

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity >= self.fail_on)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What a renderer may be asked besides the report: colour (text) and a link to the full
    report (the tracking-issue body)."""

    color: bool = False
    link: str | None = None


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then in the findings' own order."""
    return sorted(findings, key=lambda f: (-f.severity, f.sort_key()))


def summary(report: Report) -> str:
    """``2 breaking, 1 warning, 0 info``."""
    return ", ".join(f"{n} {label}" for label, n in report.counts.items())


def status(report: Report) -> str:
    return "drift" if report.exit_code else "ok"


def has_policy_notes(report: Report) -> bool:
    outcome = report.policy
    return bool(outcome.tolerated or outcome.expired or outcome.stale)


def entry_text(entry: PolicyEntry) -> str:
    """A drift policy entry on one line, printable."""
    return printable(
        f"{entry.kind} {entry.object}: {entry.reason} "
        f"(owner {entry.owner}, expires {entry.expires})"
    )


def finding_line(f: Finding) -> str:
    """A finding on one line, printable: ``[breaking] kind object: message (evidence…)``."""
    line = f"[{f.severity.label}] {f.kind} {f.object}: {f.message}"
    if f.evidence:
        line += f" (evidence: {f.evidence})"
    if f.impact:
        line += f" (impact: {', '.join(f.impact)})"
    return printable(line)
