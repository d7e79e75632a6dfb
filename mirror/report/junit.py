"""The JUnit XML report: one test case per contracted relation (plus one per other object with
findings), for CI systems that show test results.

Every value goes through :func:`~mirror.report.printable.printable` before it reaches the XML:
a control character is not even allowed in XML 1.0, and a line break in a name would start a
line of its own where a CI system prints the failure text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mirror.catalog.findings import Finding
from mirror.catalog.model import RelationKey, quote_ident
from mirror.report.model import (
    RenderOptions,
    Report,
    entry_text,
    finding_line,
    has_policy_notes,
)
from mirror.report.printable import printable


def render(report: Report, options: RenderOptions) -> str:
    """A test case fails when it has findings at or above ``fail_on``; lesser findings go to
    its ``system-out``."""
    title = printable(report.title)
    groups: dict[tuple[str, str | None], list[Finding]] = {
        (k.schema, k.name): [] for k in report.checked
    }
    for finding in report.findings:
        groups.setdefault((finding.schema, finding.relation), []).append(finding)
    failures = 0
    suite = ET.Element("testsuite", name=title)
    for (schema, relation), findings in sorted(
        groups.items(), key=lambda g: (g[0][0], g[0][1] or "")
    ):
        name = quote_ident(schema) if relation is None else str(RelationKey(schema, relation))
        case = ET.SubElement(
            suite, "testcase", classname=f"{title}.{printable(schema)}", name=printable(name)
        )
        bad = [f for f in findings if f.severity >= report.fail_on]
        rest = [f for f in findings if f.severity < report.fail_on]
        if bad:
            failures += 1
            worst = max(f.severity for f in bad)
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(bad)} finding(s) at or above {report.fail_on}: "
                f"{printable(bad[0].message)}",
                type=worst.label,
            )
            failure.text = "\n".join(finding_line(f) for f in bad)
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(finding_line(f) for f in rest)
    if has_policy_notes(report):
        outcome = report.policy
        case = ET.SubElement(suite, "testcase", classname=f"{title}.policy", name="policy")
        notes = [f"tolerated: {finding_line(t.finding)}" for t in outcome.tolerated]
        notes += [
            f"expired entry: {entry_text(e)} [{printable(e.source)}]" for e in outcome.expired
        ]
        notes += [f"stale entry: {entry_text(e)} [{printable(e.source)}]" for e in outcome.stale]
        ET.SubElement(case, "system-out").text = "\n".join(notes)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    total = report.timings.get("total", sum(report.timings.values()))
    suite.set("time", f"{total:.6f}")
    root = ET.Element("testsuites", name=title)
    root.append(suite)
    for attr in ("tests", "failures", "errors", "time"):
        root.set(attr, suite.get(attr, "0"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
