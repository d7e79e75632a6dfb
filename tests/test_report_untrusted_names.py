"""Production's names are untrusted: whatever a relation, column, default or policy value holds
(line breaks, carriage returns, terminal escapes, ``::`` workflow commands), no report format
prints it raw, and no line of any report becomes a GitHub workflow command it did not mean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Relation, RelationKey, Usage
from mirror.report import FORMATS
from mirror.report.printable import printable
from mirror.report.render import Report, render

HOSTILE = (
    "\n",
    "\r",
    "\r\n",
    "\x1b[2J",
    "\x1b]0;owned\x07",
    "\x9b31m",
    "\x85",
    "\u2028",
    "\u202e",
    "\x00",
    "\t",
    "::warning file=app.py,line=1::pwned",
    "::error::forged",
    "::add-mask::secret",
    "::stop-commands::token",
    "%0A::notice::x",
    "  ::group::g",
)
# Control characters, separators and bidirectional controls: none may reach the output raw.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
OUR_COMMANDS = ("::error ", "::warning ", "::notice ")

names = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(alphabet='ab_|`\\."%:', max_size=4)),
    min_size=1,
    max_size=5,
).map("".join)


def _catalogs(
    schema: str, table: str, dropped: str, changed: str, added: str
) -> tuple[Catalog, Catalog]:
    key = RelationKey(schema, table)
    contract = Catalog.of(
        [
            Relation(
                key,
                Kind.TABLE,
                (Column(dropped, "integer", False), Column(changed, "text", False, "'a'")),
            )
        ],
        lineage={ColumnRef(schema, table, dropped): Usage(models=(f"Model.{added}",))},
    )
    production = Catalog.of(
        [
            Relation(
                key,
                Kind.TABLE,
                (Column(changed, "bigint", True, f"'{added}'::text"), Column(added, "text", True)),
            ),
            Relation(RelationKey(schema, added), Kind.VIEW, (Column(dropped, "text", None),)),
        ]
    )
    return contract, production


def _commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("::")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=5, max_size=5, unique=True))
def test_no_format_prints_a_hostile_name_raw(parts: list[str]) -> None:
    schema, table, dropped, changed, added = parts
    contract, production = _catalogs(schema, table, dropped, changed, added)
    findings = compare_catalogs(contract, production)
    report = Report.build(
        findings,
        checked=tuple(contract.relations),
        title=f"drift {added}",
        contract=f"contracts/{table}.json",
        target=f"postgresql://reader@{schema}/billig",
        expected=contract,  # the issue body and Markdown draw the broken paths from it
    )
    assert report.findings
    for fmt in FORMATS:
        text = render(report, fmt, color=True, link=f"https://example.test/{changed}")
        visible = re.sub(r"\x1b\[[0-9;]*m", "", text) if fmt == "text" else text
        assert not UNSAFE.search(visible), (fmt, UNSAFE.search(visible))
        commands = _commands(text)
        if fmt == "github":
            assert all(line.startswith(OUR_COMMANDS) for line in commands), commands
            assert len(commands) == len(report.findings)
        else:
            assert commands == [], (fmt, commands)
        if fmt == "json":
            data = json.loads(text)
            assert {f["object"] for f in data["findings"]} == {f.object for f in findings}
            assert data["title"] == report.title
        if fmt == "junit":
            ET.fromstring(text)  # still well-formed XML: no control character reached it
        if fmt == "text":
            assert all(printable(f.object) in text for f in report.findings)


@given(names)
def test_printable_is_one_safe_line_and_leaves_plain_names_alone(name: str) -> None:
    shown = printable(name)
    assert "\n" not in shown and "\r" not in shown and not UNSAFE.search(shown)
    assert not shown.lstrip().startswith("::")
    plain = re.sub(r"[^a-z_.]", "", name) or "event"
    assert printable(plain) == plain


def test_the_escapes_are_visible() -> None:
    assert printable("x\n::warning::y") == "x\\n::warning::y"
    assert printable("::error::y") == "\\x3a:error::y"
    assert printable("a\x1b[2Jb\u2028c\rd") == "a\\x1b[2Jb\\u2028c\\rd"


@pytest.mark.parametrize("debug", [False, True], ids=["message", "debug traceback"])
def test_an_error_naming_a_hostile_name_prints_it_escaped(tmp_path: Path, debug: bool) -> None:
    hostile = "x\x1b[2J\n::error::forged\r\u2028::add-mask::m"
    args = ["--debug"] if debug else []
    done = subprocess.run(
        [sys.executable, "-m", "mirror.cli", *args, "drift", "--dsn",
         "postgresql://ro@127.0.0.1:1/x", "--contract", str(tmp_path / hostile)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "contract" in done.stderr
    assert not UNSAFE.search(done.stdout + done.stderr)
    assert _commands(done.stderr) == []
    assert "\\x1b[2J" in done.stderr
