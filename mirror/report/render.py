"""Renderers: one :class:`Report` of findings turned into text, JSON, JUnit, Markdown or GitHub.

Rendering is separate from comparing (as in Alembic's compare/render split): a ``Report`` holds
the findings that count after the drift policy, what the policy tolerated, expired or found
stale, the relations checked, timings and where the data came from; each ``render_*`` function
is a pure function of it. Reports take an already-redacted DSN as ``target`` (and scrub it once
more), so no renderer can print a password. The JSON layout is pinned by
``contracts/drift-report.schema.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mirror.catalog.findings import Finding, Severity, counts, exit_code, sort_findings
from mirror.catalog.model import RelationKey, quote_ident
from mirror.drift.policy import Policy, PolicyEntry, PolicyOutcome
from mirror.errors import UsageError
from mirror.report import FORMATS
from mirror.secrets import scrub
from mirror.sources.contract_file import write_files_atomic
from mirror.sources.json_locator import dump_json

REPORT_FORMAT_VERSION = 1


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


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """Render in one of :data:`FORMATS`."""
    renderers: dict[str, Callable[[Report], str]] = {
        "text": lambda r: render_text(r, color=color),
        "json": render_json,
        "junit": render_junit,
        "markdown": render_markdown,
        "github": render_github,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r} (one of: {', '.join(FORMATS)})")
    return renderers[fmt](report)


def _by_severity(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity, f.sort_key()))


def _summary(report: Report) -> str:
    parts = [f"{n} {label}" for label, n in report.counts.items()]
    return ", ".join(parts)


def _status(report: Report) -> str:
    return "drift" if report.exit_code else "ok"


def _entry_text(entry: PolicyEntry) -> str:
    return (
        f"{entry.kind} {entry.object}: {entry.reason} "
        f"(owner {entry.owner}, expires {entry.expires})"
    )


# --------------------------------------------------------------------------- text

_ANSI = {
    Severity.BREAKING: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def use_color(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, unless NO_COLOR forbids or FORCE_COLOR asks for it."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_text(report: Report, *, color: bool = False) -> str:
    """The human report: a verdict line, context, then findings worst first."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    verdict = "DRIFT" if report.exit_code else "OK"
    code = _ANSI[Severity.BREAKING] if report.exit_code else "\x1b[1;32m"
    lines = [
        f"{report.title}: {paint(code, verdict)} (exit {report.exit_code}, "
        f"fail on {report.fail_on})",
    ]
    if report.target:
        lines.append(f"  target    {report.target}")
    if report.contract:
        lines.append(f"  contract  {report.contract}")
    lines.append(f"  checked   {len(report.checked)} relations; {_summary(report)}")
    if report.timings:
        spent = ", ".join(f"{k} {v:.3f} s" for k, v in report.timings.items())
        lines.append(f"  timings   {spent}")
    lines.append("")
    if not report.findings:
        lines.append("no findings")
    width = max((len(f.kind) for f in report.findings), default=0)
    for finding in _by_severity(report.findings):
        label = paint(_ANSI[finding.severity], f"{finding.severity.label:<8}")
        lines.append(f"{label}  {finding.kind:<{width}}  {paint(_BOLD, finding.object)}")
        lines.append(f"{'':10}{finding.message}")
        if finding.evidence:
            lines.append(f"{'':10}{paint(_DIM, 'evidence: ' + finding.evidence)}")
        if finding.impact:
            lines.append(f"{'':10}impact: {', '.join(finding.impact)}")
    outcome = report.policy
    if outcome.tolerated or outcome.expired or outcome.stale:
        lines.append("")
        where = f" ({report.policy_file})" if report.policy_file else ""
        lines.append(
            f"policy{where}: {len(outcome.tolerated)} tolerated, {len(outcome.expired)} "
            f"expired, {len(outcome.stale)} stale"
        )
        for tol in outcome.tolerated:
            lines.append(f"  tolerated  {tol.finding.severity.label} {_entry_text(tol.entry)}")
        for entry in outcome.expired:
            lines.append(f"  {paint(_ANSI[Severity.WARNING], 'expired')}    {_entry_text(entry)}")
        for entry in outcome.stale:
            lines.append(f"  stale      {_entry_text(entry)} [{entry.source}]")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- JSON


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON report as a plain dict (validated by contracts/drift-report.schema.json)."""
    outcome = report.policy
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "title": report.title,
        "status": _status(report),
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


def render_json(report: Report) -> str:
    return dump_json(report_dict(report))


# --------------------------------------------------------------------------- JUnit


def _finding_line(f: Finding) -> str:
    line = f"[{f.severity.label}] {f.kind} {f.object}: {f.message}"
    if f.evidence:
        line += f" (evidence: {f.evidence})"
    if f.impact:
        line += f" (impact: {', '.join(f.impact)})"
    return line


def render_junit(report: Report) -> str:
    """JUnit XML: one test case per contracted relation (plus one per other object with findings).

    A test case fails when it has findings at or above ``fail_on``; lesser findings go to its
    ``system-out``.
    """
    groups: dict[tuple[str, str | None], list[Finding]] = {
        (k.schema, k.name): [] for k in report.checked
    }
    for finding in report.findings:
        groups.setdefault((finding.schema, finding.relation), []).append(finding)
    failures = 0
    suite = ET.Element("testsuite", name=report.title)
    for (schema, relation), findings in sorted(
        groups.items(), key=lambda g: (g[0][0], g[0][1] or "")
    ):
        name = quote_ident(schema) if relation is None else str(RelationKey(schema, relation))
        case = ET.SubElement(suite, "testcase", classname=f"{report.title}.{schema}", name=name)
        bad = [f for f in findings if f.severity >= report.fail_on]
        rest = [f for f in findings if f.severity < report.fail_on]
        if bad:
            failures += 1
            worst = max(f.severity for f in bad)
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(bad)} finding(s) at or above {report.fail_on}: {bad[0].message}",
                type=worst.label,
            )
            failure.text = "\n".join(_finding_line(f) for f in bad)
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(_finding_line(f) for f in rest)
    outcome = report.policy
    if outcome.tolerated or outcome.expired or outcome.stale:
        case = ET.SubElement(suite, "testcase", classname=f"{report.title}.policy", name="policy")
        notes = [f"tolerated: {_finding_line(t.finding)}" for t in outcome.tolerated]
        notes += [f"expired entry: {_entry_text(e)} [{e.source}]" for e in outcome.expired]
        notes += [f"stale entry: {_entry_text(e)} [{e.source}]" for e in outcome.stale]
        ET.SubElement(case, "system-out").text = "\n".join(notes)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    total = report.timings.get("total", sum(report.timings.values()))
    suite.set("time", f"{total:.6f}")
    root = ET.Element("testsuites", name=report.title)
    root.append(suite)
    for attr in ("tests", "failures", "errors", "time"):
        root.set(attr, suite.get(attr, "0"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- Markdown


def _code(text: str | None) -> str:
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{table_cell(text)}{pad}{fence}"


def table_cell(text: str) -> str:
    """``text`` safe in a Markdown table cell: one line, pipes and backslashes escaped."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """A job summary / PR comment: verdict, counts, then one table row per finding."""
    verdict = "drift" if report.exit_code else "no drift"
    lines = [
        f"## {table_cell(report.title)}: {verdict} (exit {report.exit_code})",
        "",
        f"{_summary(report)}; fail on **{report.fail_on}**; "
        f"{len(report.checked)} relations checked"
        + (f"; target {_code(report.target)}" if report.target else "")
        + (f"; contract {_code(report.contract)}" if report.contract else ""),
        "",
    ]
    if report.findings:
        lines += [
            "| Severity | Kind | Object | Expected | Actual | Message | Impact |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in _by_severity(report.findings):
            severity = f"**{f.severity}**" if f.severity >= report.fail_on else f.severity.label
            message = f.message + (f" (evidence: {f.evidence})" if f.evidence else "")
            lines.append(
                f"| {severity} | {f.kind} | {_code(f.object)} | {_code(f.expected)} | "
                f"{_code(f.actual)} | {table_cell(message)} | {table_cell(', '.join(f.impact))} |"
            )
    else:
        lines.append("No findings.")
    outcome = report.policy
    if outcome.tolerated or outcome.expired or outcome.stale:
        lines += ["", "### Drift policy", ""]
        for t in outcome.tolerated:
            lines.append(
                f"- tolerated: [{t.finding.severity}] {_code(t.finding.object)} "
                f"{table_cell(t.finding.message)}; reason: {table_cell(t.entry.reason)} "
                f"(owner {table_cell(t.entry.owner)}, expires {t.entry.expires})"
            )
        for e in outcome.expired:
            lines.append(f"- **expired**: {table_cell(_entry_text(e))} ({_code(e.source)})")
        for e in outcome.stale:
            lines.append(
                f"- stale (matches nothing): {table_cell(_entry_text(e))} ({_code(e.source)})"
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- GitHub


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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


def render_github(report: Report) -> str:
    """GitHub workflow commands: an annotation per finding and per expired or stale entry.

    Findings at or above ``fail_on`` are errors; lesser ones warnings or notices.
    """
    lines = []
    for f in _by_severity(report.findings):
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
                    f"{kind} drift policy entry: {_entry_text(e)}",
                    title=f"{kind} policy entry {e.kind} {e.object}",
                    file=file or report.policy_file,
                    line=line if file else None,
                )
            )
    verdict = "drift" if report.exit_code else "no drift"
    lines.append(f"{report.title}: {verdict} (exit {report.exit_code}); {_summary(report)}")
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
        fh.write(render_markdown(report))
    return path


# --------------------------------------------------------------------------- destinations


def cannot_write(path: Path, *, append: bool = False) -> str | None:
    """Why a report cannot be written to ``path``, or None when it can.

    Asked before a check runs, so that a bad destination is a usage error rather than a
    failure after the verdict was printed. A report file is replaced atomically (a temporary
    file next to it, folders created as needed), so the nearest existing folder must take a
    new file: that is tried, and the trial file removed. An appended file (the job summary) is
    opened for appending, which creates it empty if missing and never blocks.
    """
    try:
        if path.is_dir():
            return "it is a directory"
        if append:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
            os.close(fd)
            return None
        if path.exists() and not path.is_file():
            return "it is not a regular file (use - for stdout)"
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a directory"
        fd, trial = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(trial)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_destinations(files: Iterable[Path], step_summary: Path | None = None) -> None:
    """Raise :class:`~mirror.errors.UsageError` for the first report destination that cannot
    be written (see :func:`cannot_write`)."""
    for path in files:
        reason = cannot_write(path)
        if reason is not None:
            raise UsageError(f"--output {path}: cannot write the report there: {reason}")
    if step_summary is not None:
        reason = cannot_write(step_summary, append=True)
        if reason is not None:
            raise UsageError(
                f"$GITHUB_STEP_SUMMARY ({step_summary}): cannot append the job summary: {reason}"
            )


def write_reports(
    report: Report, files: Iterable[tuple[str, Path]], step_summary: Path | None = None
) -> None:
    """Write the report files (all or none, atomically) and append the job summary.

    A destination that fails even so (the disk filled up since it was checked) is a
    :class:`~mirror.errors.UsageError`: a report that was not written is never a success.
    """
    rendered = {path: render(report, fmt) for fmt, path in files}
    try:
        write_files_atomic(rendered)
    except OSError as exc:
        where = ", ".join(map(str, rendered))
        raise UsageError(f"--output {where}: cannot write the reports: {exc.strerror}") from None
    if step_summary is not None:
        try:
            write_step_summary(report, {"GITHUB_STEP_SUMMARY": str(step_summary)})
        except OSError as exc:
            raise UsageError(
                f"$GITHUB_STEP_SUMMARY ({step_summary}): cannot append the job summary: "
                f"{exc.strerror}"
            ) from None
