"""CHECK constraints of a relation: removed, added or changed, by their definitions.

A CHECK constraint is a promise about the values a reader meets (``num_sold <= num``): one
removed lets rows the site never saw before appear (a warning), one changed may break what the
site assumes (breaking where a reader reads its columns), one added only narrows what exists
(info). A constraint's name carries no meaning. A relation whose contract pins no CHECK (a
contract from before they were pinned) reports none added.
"""

from __future__ import annotations

from collections.abc import Iterator

from mirror.catalog.compare.impact import NONE, Context, judge
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import CheckConstraint, Relation


def compare_checks(ctx: Context, exp: Relation, act: Relation) -> Iterator[Finding]:
    if exp.checks == act.checks or not exp.checks:
        return
    after = {c.definition for c in act.checks}
    before = {c.definition for c in exp.checks}
    removed = [c for c in exp.checks if c.definition not in after]
    added = [c for c in act.checks if c.definition not in before]
    if not removed and not added:
        return  # the same definitions, on columns renamed or reordered
    columns = {name for c in removed + added for name in c.columns if exp.column(name)}
    reading = ctx.columns(exp.key, sorted(columns)) if columns else ctx.relation(exp)
    if removed and added:
        change, severity = "changed", judge(Severity.BREAKING, reading)
        what = f"changed: {_text(removed)} became {_text(added)}"
    elif removed:
        change, severity, what = "removed", Severity.WARNING, f"removed: {_text(removed)}"
    else:
        if not ctx.report_added:
            return
        change, severity, what = "added", Severity.INFO, f"added: {_text(added)}"
    yield Finding(
        FindingKind.CHECK_CHANGED,
        severity,
        exp.key.schema,
        exp.key.name,
        None,
        _text(removed),
        _text(added),
        f"CHECK constraint of {exp.key} {what}",
        reading.readers,
        change=change,
    )


def _text(checks: list[CheckConstraint]) -> str:
    return "; ".join(c.definition for c in checks) or NONE
