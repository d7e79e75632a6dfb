"""``billig drift`` reports and options: several reports in one run (the nightly job's command
line), JSON against the shipped schema, JUnit, Markdown, GitHub annotations and step summary,
the drift policy, colour, and usage errors (exit 2)."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from mirror.commands.drift import parse_output
from mirror.drift.check import check_drift
from mirror.errors import UsageError

from .production import ROOT, Production, run_cli

# The nightly job's command line (tox -e drift).
NIGHTLY = (
    "--output", "text:-", "--output", "json:reports/drift.json",
    "--output", "junit:reports/drift.xml", "--output", "markdown:reports/drift.md",
    "--output", "issue:reports/drift-issue.md", "--output", "github:-",
)  # fmt: skip

RENAME_AND_WIDEN = (
    "ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO name; "
    "ALTER TABLE billig.ticket_group ALTER COLUMN ticket_group_name TYPE varchar(255)"
)


@pytest.fixture
def nightly(production: Production, tmp_path: Path) -> tuple[Production, Path, object]:
    production.execute(RENAME_AND_WIDEN)
    summary = tmp_path / "step-summary.md"
    done = run_cli(
        *NIGHTLY, dsn=production.dsn, cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    return production, tmp_path, done


def test_nightly_command_line_writes_every_report_and_exits_1(nightly) -> None:
    production, folder, done = nightly
    assert done.code == 1, done.stderr
    text = done.stdout.partition("::")[0]
    assert text.startswith("billig drift: DRIFT (exit 1, fail on breaking)")
    assert "::error " in done.stdout and "::warning " in done.stdout
    for name in ("drift.json", "drift.xml", "drift.md", "drift-issue.md"):
        assert (folder / "reports" / name).is_file()
    everything = done.stdout + done.stderr
    everything += "".join(p.read_text() for p in (folder / "reports").iterdir())
    everything += (folder / "step-summary.md").read_text()
    assert production.password not in everything


def test_json_report_validates_against_the_shipped_schema(nightly) -> None:
    _, folder, _ = nightly
    data = json.loads((folder / "reports" / "drift.json").read_text())
    schema = json.loads((ROOT / "contracts" / "drift-report.schema.json").read_text())
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)
    assert data["exit_code"] == 1
    assert data["counts"] == {"breaking": 1, "warning": 1, "info": 2}
    assert len(data["checked"]) == 9
    assert set(data["timings"]) == {"contract", "introspect", "compare", "total"}
    renamed = next(f for f in data["findings"] if f["kind"] == "column_renamed")
    assert renamed["object"] == "billig.price_group.price_group_name"
    assert renamed["actual"] == "name"
    assert "PriceGroup.name" in renamed["impact"]


def test_junit_report_has_one_case_per_contracted_relation(nightly) -> None:
    _, folder, _ = nightly
    root = ET.parse(folder / "reports" / "drift.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 9 and suite.get("tests") == "9"
    failing = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failing == ["billig.price_group"]
    assert suite.get("failures") == "1"


def test_markdown_report_renders_a_table_and_goes_to_the_step_summary(nightly) -> None:
    _, folder, _ = nightly
    markdown = (folder / "reports" / "drift.md").read_text()
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    assert html.count("<table>") == 1
    assert html.count("<tr>") == 1 + 4  # header and one row per finding
    assert "<code>billig.price_group.price_group_name</code>" in html
    assert (folder / "step-summary.md").read_text() == markdown


HOSTILE = "x\n::warning file=app.py,line=1::pwned\r\x1b[2J\u2028::add-mask::m"
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def test_production_names_never_forge_a_log_line_or_reach_a_terminal_raw(
    production: Production, tmp_path: Path
) -> None:
    production.execute(
        f'ALTER TABLE billig.price_group RENAME COLUMN price_group_name TO "{HOSTILE}"; '
        f'ALTER TABLE billig.ticket ADD COLUMN "::error::{HOSTILE}" text; '
        f'CREATE TABLE billig."{HOSTILE}" ("{HOSTILE}" integer)'
    )
    summary = tmp_path / "step-summary.md"
    done = run_cli(
        *NIGHTLY, "--schema", "billig", dsn=production.dsn, cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert done.code == 1, done.stderr
    reports = [p.read_text() for p in sorted((tmp_path / "reports").iterdir())]
    for text in (done.stdout, done.stderr, summary.read_text(), *reports):
        assert not UNSAFE.search(text)
        commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
        assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    data = json.loads((tmp_path / "reports" / "drift.json").read_text())
    assert len(annotations) == len(data["findings"])
    assert HOSTILE in {f["actual"] for f in data["findings"]}  # the JSON keeps the real name
    fixing = run_cli("--suggest", dsn=production.dsn)  # DDL and model lines name them too
    assert fixing.code == 1, fixing.stderr
    assert "CREATE TABLE" in fixing.stdout
    for text in (fixing.stdout, fixing.stderr):
        assert not UNSAFE.search(text)
        assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]


def test_json_on_stdout_stays_parseable_with_suggest(production: Production) -> None:
    production.execute(RENAME_AND_WIDEN)
    done = run_cli("--format", "json", "--suggest", dsn=production.dsn)
    assert done.code == 1
    assert json.loads(done.stdout)["exit_code"] == 1
    assert 'name: Mapped[str] = mapped_column("name", String(140))' in done.stderr


def test_colour_only_when_asked_or_on_a_terminal(production: Production) -> None:
    plain = run_cli(dsn=production.dsn)
    coloured = run_cli("--color", dsn=production.dsn)
    assert "\x1b[" not in plain.stdout
    assert "\x1b[1;32mOK\x1b[0m" in coloured.stdout


# --------------------------------------------------------------------------- policy


def _policy(folder: Path, expires: str, kind: str = "column_renamed") -> Path:
    path = folder / "drift-policy.json"
    entry = {
        "kind": kind,
        "object": "billig.price_group.price_group_name",
        "reason": "Billig renames it back next week",
        "owner": "team-web",
        "expires": expires,
    }
    path.write_text(json.dumps({"format_version": 1, "tolerate": [entry]}))
    return path


def test_policy_tolerates_a_finding_until_it_expires(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    production.execute(RENAME_AND_WIDEN)
    policy = _policy(tmp_path, "2031-01-31")
    before = check_drift(
        production.login, contract=contract_dir, policy=policy, today=dt.date(2031, 1, 31)
    ).report
    assert before.exit_code == 0
    assert [t.finding.kind.value for t in before.policy.tolerated] == ["column_renamed"]
    after = check_drift(
        production.login, contract=contract_dir, policy=policy, today=dt.date(2031, 2, 1)
    ).report
    assert after.exit_code == 1
    assert [e.object for e in after.policy.expired] == ["billig.price_group.price_group_name"]


def test_policy_entry_matching_nothing_is_reported_stale(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, "2099-01-01")
    report = check_drift(production.login, contract=contract_dir, policy=policy).report
    assert report.exit_code == 0
    assert [e.kind.value for e in report.policy.stale] == ["column_renamed"]


def test_policy_next_to_the_contract_is_used_by_default(
    production: Production, contract_dir: Path, tmp_path: Path
) -> None:
    production.execute(RENAME_AND_WIDEN)
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "columns.json").write_text((contract_dir / "columns.json").read_text())
    _policy(folder, "2099-01-01")
    report = check_drift(production.login, contract=folder).report
    assert report.exit_code == 0 and report.policy_file is not None
    assert report.policy_file.endswith("drift-policy.json")


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no database to check: pass --dsn URL or set $BILLIG_PROD_DSN"),
        (("--dsn", "postgresql://ro@127.0.0.1:1/x", "--fail-on", "never"), "'never' is not one"),
        (("--dsn", "postgresql://ro@127.0.0.1:1/x", "--contract", "nowhere"), "contract file"),
        (("--dsn", "postgresql://ro@127.0.0.1:1/x", "--policy", "nowhere.json"), "policy file"),
        (("--dsn", "postgresql://ro@127.0.0.1:1/x", "--schema", "kasse"), "covers no schema"),
        (("--dsn", "postgresql://ro@127.0.0.1:1/x", "--output", "json:"), "no file after"),
    ],
    ids=["no dsn", "bad severity", "no contract", "no policy", "unknown schema", "bad output"],
)
def test_usage_and_contract_errors_exit_2_before_connecting(args, message) -> None:
    done = run_cli(*args)
    assert done.code == 2, done
    assert message in done.stderr


def test_malformed_policy_exits_2_with_its_location(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"format_version": 1, "tolerate": [{"kind": "column_gone"}]}')
    done = run_cli("--dsn", "postgresql://ro@127.0.0.1:1/x", "--policy", str(policy))
    assert done.code == 2
    assert f"{policy}:1:" in done.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json:reports/drift.json", ("json", "reports/drift.json")),
        ("text:-", ("text", "-")),
        ("-", ("markdown", "-")),
        ("reports/drift.md", ("markdown", "reports/drift.md")),
        ("C:drift.md", ("markdown", "C:drift.md")),  # not a format: a file name with a colon
    ],
)
def test_output_values_name_a_format_and_a_file(value, expected) -> None:
    assert parse_output(value, "markdown") == expected


def test_output_without_a_file_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_output("github:", "text")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (("--output", "json:{tmp}"), {}, "--output {tmp}: cannot write the report there"),
        (
            ("--format", "github"),
            {"GITHUB_STEP_SUMMARY": "{tmp}"},
            "$GITHUB_STEP_SUMMARY ({tmp}): cannot append the job summary",
        ),
    ],
    ids=["--output a folder", "step summary a folder"],
)
def test_a_report_that_cannot_be_written_never_follows_a_verdict(
    production: Production,
    tmp_path: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    says: str,
) -> None:
    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp_path))

    done = run_cli(*map(fill, args), dsn=production.dsn, env={k: fill(v) for k, v in env.items()})
    assert done.code == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == f"billig: error: {fill(says)}: it is a directory\n"
    assert list(tmp_path.iterdir()) == []
