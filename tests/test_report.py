"""Report renderers: JSON against its shipped schema, JUnit, Markdown, GitHub, text; no secrets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import (
    Catalog,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    Usage,
)
from mirror.drift.policy import parse_policy
from mirror.report import FORMATS
from mirror.report.github import write_step_summary
from mirror.report.json_report import report_dict
from mirror.report.render import Report, cannot_write, render, use_color
from mirror.secrets import redact

PASSWORD = "s3cr3t-Pa55:w@rd"
DSN = "postgresql://reader:s3cr3t-Pa55%3Aw%40rd@prod.example:5432/billig"
EVENT = RelationKey("billig", "event")
GROUP = RelationKey("billig", "ticket_group")
DOTTED = RelationKey("public", "odd|name")


def _render_json(report: Report) -> str:
    return render(report, "json")


def _render_junit(report: Report) -> str:
    return render(report, "junit")


def _render_markdown(report: Report) -> str:
    return render(report, "markdown")


def _render_github(report: Report) -> str:
    return render(report, "github")


def render_text_(report: Report) -> str:
    return render(report, "text")


def _contract() -> Catalog:
    event = Relation(
        EVENT,
        Kind.TABLE,
        (
            Column("event", "integer", False),
            Column("event_name", "character varying(140)", False),
            Column("event_note", "text", True),
        ),
        primary_key=("event",),
    )
    group = Relation(
        GROUP,
        Kind.TABLE,
        (
            Column("ticket_group", "integer", False),
            Column("num", "integer", False),
            Column("is_theater_ticket_group", "boolean", False, "false"),
        ),
        primary_key=("ticket_group",),
    )
    odd = Relation(DOTTED, Kind.VIEW, (Column("a|b", "text", None),))
    lineage = {
        ColumnRef("billig", "event", "event_name"): Usage(
            models=("BilligEvent.name",),
            fields=("BilligEvent.name",),
            endpoints=("GET /billig/events",),
            requires_not_null=True,
        ),
        ColumnRef("billig", "ticket_group", "num"): Usage(models=("TicketGroup.num",)),
        ColumnRef("public", "odd|name", "a|b"): Usage(models=("Odd.ab",)),
    }
    return Catalog.of([event, group, odd], lineage=lineage)


def _production() -> Catalog:
    contract = _contract()
    event, group, odd = (contract.relations[k] for k in (EVENT, GROUP, DOTTED))
    return Catalog.of(
        [
            dataclasses.replace(
                event,
                columns=(
                    Column("event", "integer", False),
                    Column("event_name", "character varying(140)", True),
                    Column("event_url", "integer", True),
                ),
            ),
            dataclasses.replace(
                group,
                columns=(
                    Column("ticket_group", "integer", False),
                    Column("num", "bigint", False),
                    Column("is_theater_ticket_group", "boolean", False, "true"),
                ),
            ),
            dataclasses.replace(odd, columns=(Column("a|b", "character varying(5)", None),)),
            Relation(
                RelationKey("billig", "seat"), Kind.TABLE, (Column("seat", "integer", False),)
            ),
        ]
    )


POLICY = parse_policy(
    json.dumps(
        {
            "format_version": 1,
            "tolerate": [
                {
                    "kind": "default_changed",
                    "object": "billig.ticket_group.is_theater_ticket_group",
                    "reason": "billig flips the default in June",
                    "owner": "web-team",
                    "expires": "2026-12-31",
                },
                {
                    "kind": "column_missing",
                    "object": "billig.event.event_note",
                    "reason": "was tolerated until spring",
                    "owner": "web-team",
                    "expires": "2026-03-01",
                },
                {
                    "kind": "relation_missing",
                    "object": "billig.purchase",
                    "reason": "no longer happening",
                    "owner": "ops",
                    "expires": "2026-12-31",
                },
            ],
        },
        indent=2,
    ),
    "contracts/drift-policy.json",
)


def _report(**kw: object) -> Report:
    contract = _contract()
    findings = compare_catalogs(contract, _production())
    fields: dict[str, object] = {
        "checked": tuple(contract.relations),
        "timings": {"introspect": 0.0123, "compare": 0.0004},
        "target": redact(DSN),
        "contract": "contracts/columns.json",
    }
    fields.update(kw)
    return Report.build(findings, policy=POLICY, today=dt.date(2026, 6, 1), **fields)


@pytest.fixture(scope="module")
def report() -> Report:
    return _report()


@pytest.fixture(scope="module")
def schema(project_root_module: Path) -> dict:
    return json.loads((project_root_module / "contracts/drift-report.schema.json").read_text())


@pytest.fixture(scope="module")
def project_root_module() -> Path:
    return Path(__file__).resolve().parent.parent


def test_the_sample_report_has_each_severity_and_policy_outcome(report: Report) -> None:
    assert report.counts == {"breaking": 2, "warning": 2, "info": 2}
    assert report.exit_code == 1
    assert len(report.policy.tolerated) == 1
    assert [e.object for e in report.policy.expired] == ["billig.event.event_note"]
    assert [e.object for e in report.policy.stale] == ["billig.purchase"]


# --------------------------------------------------------------------------- JSON


def test_json_report_validates_against_the_shipped_schema(report: Report, schema: dict) -> None:
    data = json.loads(_render_json(report))
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)
    assert data["exit_code"] == 1
    assert data["counts"] == {"breaking": 2, "warning": 2, "info": 2}
    assert [c["object"] for c in data["checked"]] == [
        "billig.event",
        "billig.ticket_group",
        'public."odd|name"',
    ]
    assert data["timings"] == {"introspect": 0.0123, "compare": 0.0004}
    assert data["policy"]["tolerated"][0]["entry"]["source"] == "contracts/drift-policy.json:4"


def test_clean_json_report_validates_too(schema: dict) -> None:
    data = json.loads(_render_json(Report((), checked=(EVENT,))))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert (data["exit_code"], data["status"], data["findings"]) == (0, "ok", [])


def test_schema_rejects_a_report_missing_its_exit_code(report: Report, schema: dict) -> None:
    data = report_dict(report)
    del data["exit_code"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_json_finding_fields(report: Report) -> None:
    data = json.loads(_render_json(report))
    by_object = {(f["kind"], f["object"]): f for f in data["findings"]}
    loosened = by_object[("nullability_changed", "billig.event.event_name")]
    assert loosened == {
        "kind": "nullability_changed",
        "severity": "breaking",
        "schema": "billig",
        "relation": "event",
        "column": "event_name",
        "object": "billig.event.event_name",
        "expected": "NOT NULL",
        "actual": "NULL",
        "change": "loosened",
        "message": "column billig.event.event_name now allows NULL (a reader declares it non-null)",
        "impact": ["BilligEvent.name", "GET /billig/events"],
        "evidence": None,
    }


def test_json_output_is_deterministic() -> None:
    assert _render_json(_report()) == _render_json(_report())


# --------------------------------------------------------------------------- JUnit


def test_junit_has_one_test_case_per_contracted_relation(report: Report) -> None:
    root = ET.fromstring(_render_junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {
        "billig.event",
        "billig.ticket_group",
        'public."odd|name"',
        "billig.seat",
        "policy",
    }
    assert cases["billig.event"].find("failure") is not None
    assert cases["billig.ticket_group"].find("failure") is None  # only a widening (warning)
    assert "type_changed" in (cases["billig.ticket_group"].findtext("system-out") or "")
    assert cases["billig.seat"].find("failure") is None  # an added relation is information
    assert suite.get("tests") == "5"
    assert suite.get("failures") == root.get("failures") == "2"


def test_junit_fails_lesser_findings_when_fail_on_is_lower() -> None:
    root = ET.fromstring(_render_junit(_report(fail_on=Severity.INFO)))
    assert root.get("failures") == "4"


def test_junit_of_a_clean_run_has_passing_cases() -> None:
    root = ET.fromstring(_render_junit(Report((), checked=(EVENT, GROUP))))
    assert [c.get("name") for c in root.iter("testcase")] == ["billig.event", "billig.ticket_group"]
    assert root.get("failures") == "0"


# --------------------------------------------------------------------------- Markdown


def test_markdown_renders_a_table_with_a_row_per_finding(report: Report) -> None:
    text = _render_markdown(report)
    lines = text.splitlines()
    header = lines.index("| Severity | Kind | Object | Expected | Actual | Message | Impact |")
    assert lines[header + 1] == "|---|---|---|---|---|---|---|"
    rows = [line for line in lines[header + 2 :] if line.startswith("| ")]
    assert len(rows) == len(report.findings)
    # every row has exactly 7 cells: pipes inside values are escaped
    for row in rows:
        assert len(re.split(r"(?<!\\)\|", row)) == 9
    assert "\\|" in text
    assert "### Drift policy" in text
    assert "**expired**" in text


def test_markdown_of_a_clean_run_says_so() -> None:
    text = _render_markdown(Report((), checked=(EVENT,)))
    assert "no drift (exit 0)" in text
    assert "No findings." in text


# --------------------------------------------------------------------------- GitHub


def test_github_annotations(report: Report) -> None:
    lines = _render_github(report).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == report.counts["breaking"]
    assert any(line.startswith("::warning ") for line in lines)
    assert any(line.startswith("::notice ") for line in lines)
    assert errors[0].startswith("::error file=contracts/columns.json,title=breaking ")
    stale = [line for line in lines if "stale drift policy entry" in line]
    assert stale == [
        "::warning file=contracts/drift-policy.json,line=18,title=stale policy entry "
        "relation_missing billig.purchase::stale drift policy entry: relation_missing "
        "billig.purchase: no longer happening (owner ops, expires 2026-12-31)"
    ]
    assert lines[-1].startswith("billig drift: drift (exit 1)")


def test_github_annotation_properties_are_escaped() -> None:
    finding = Finding(
        kind=FindingKind.COLUMN_MISSING,
        severity=Severity.BREAKING,
        schema="s",
        relation="a,b:c",
        column="x",
        expected=None,
        actual=None,
        message="50% gone\nnext line",
    )
    [line, _] = _render_github(Report((finding,), contract="dir,1/c:x.json")).splitlines()
    assert line == (
        '::error file=dir%2C1/c%3Ax.json,title=breaking column_missing s."a%2Cb%3Ac".x'
        "::50%25 gone\\nnext line"
    )


def test_step_summary_is_written_only_when_set(tmp_path: Path, report: Report) -> None:
    assert write_step_summary(report, environ={}) is None
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    assert write_step_summary(report, environ={"GITHUB_STEP_SUMMARY": str(summary)}) == summary
    assert summary.read_text() == "earlier step\n" + _render_markdown(report)


# --------------------------------------------------------------------------- text


def test_text_report_is_plain_unless_colour_is_asked_for(report: Report) -> None:
    plain = render_text_(report)
    assert "\x1b[" not in plain
    assert plain.startswith("billig drift: DRIFT (exit 1, fail on breaking)")
    assert "impact: BilligEvent.name, GET /billig/events" in plain
    coloured = render(report, "text", color=True)
    assert "\x1b[1;31m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_report_lists_worst_findings_first(report: Report) -> None:
    severities = re.findall(r"^(breaking|warning|info) ", render_text_(report), re.M)
    assert severities == sorted(severities, key=lambda s: -Severity.parse(s))
    assert len(severities) == len(report.findings)


def test_text_report_of_a_clean_run() -> None:
    text = render_text_(Report((), checked=(EVENT,)))
    assert text.startswith("billig drift: OK (exit 0")
    assert "no findings" in text


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
    ],
)
def test_colour_only_on_a_terminal(tty: bool, environ: dict[str, str], expected: bool) -> None:
    assert use_color(_Stream(tty), environ) is expected


# --------------------------------------------------------------------------- all formats


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_report_contains_the_password(fmt: str) -> None:
    rendered = render(_report(), fmt, color=True)
    assert "prod.example" in rendered or fmt in ("junit", "github")
    assert PASSWORD not in rendered
    assert "s3cr3t" not in rendered


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_dsn_passed_unredacted_by_mistake_is_scrubbed(fmt: str) -> None:
    rendered = render(_report(target=DSN), fmt)
    assert "s3cr3t" not in rendered


def test_unknown_format_is_rejected(report: Report) -> None:
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render(report, "yaml")


def test_build_accepts_a_generator_of_findings() -> None:
    findings = compare_catalogs(_contract(), _production())
    report = Report.build(f for f in findings)
    assert report.findings == tuple(findings)
    assert report.policy.findings == tuple(findings)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retargeted_foreign_key_reads_as_was_then_now_in_every_format(fmt: str) -> None:
    def group(target: RelationKey) -> Catalog:
        contract = _contract()
        rel = dataclasses.replace(
            contract.relations[GROUP],
            foreign_keys=(ForeignKey(("num",), target, ("event",)),),
        )
        return Catalog.of([contract.relations[EVENT], rel])

    report = Report.build(
        compare_catalogs(group(RelationKey("public", "billig.event")), group(EVENT)),
        checked=(GROUP,),
    )
    rendered = render(report, fmt)
    if fmt == "json":
        rendered = "\n".join(str(v) for v in json.loads(rendered)["findings"][0].values())
    elif fmt == "junit":
        rendered = "".join(ET.fromstring(rendered).itertext())
    assert (
        'foreign key billig.ticket_group (num) → public."billig.event" (event) '
        "became → billig.event (event)"
    ) in rendered
    assert "(num): (num)" not in rendered


def test_a_destination_is_tried_without_leaving_anything_behind(tmp_path: Path) -> None:
    assert cannot_write(tmp_path / "reports" / "new" / "drift.json") is None
    assert cannot_write(tmp_path / "drift.json") is None
    assert list(tmp_path.iterdir()) == []  # folders are created only when writing
    assert cannot_write(tmp_path) == "it is a directory"
    (tmp_path / "file").write_text("x")
    assert (
        cannot_write(tmp_path / "file" / "drift.json") == f"{tmp_path / 'file'} is not a directory"
    )
    assert cannot_write(tmp_path / "file", append=True) is None
    assert (tmp_path / "file").read_text() == "x"
