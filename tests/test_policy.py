"""The drift policy file: matching, expiry, stale entries, and located errors for broken files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import quote_ident, split_qualified_name
from mirror.drift.policy import (
    DEFAULT_POLICY_PATH,
    Policy,
    load_policy,
    parse_object,
    parse_policy,
    policy_template,
)
from mirror.errors import PolicyError

TODAY = dt.date(2026, 6, 1)


def entry(kind: str = "default_changed", obj: str = "billig.ticket_group.x", **kw: str) -> dict:
    return {
        "kind": kind,
        "object": obj,
        "reason": kw.get("reason", "billig team is migrating"),
        "owner": kw.get("owner", "web-team"),
        "expires": kw.get("expires", "2026-12-31"),
    }


def policy(*entries: dict) -> Policy:
    text = json.dumps({"format_version": 1, "tolerate": list(entries)}, indent=2)
    return parse_policy(text, "contracts/drift-policy.json")


def finding(
    kind: FindingKind = FindingKind.DEFAULT_CHANGED,
    schema: str = "billig",
    relation: str | None = "ticket_group",
    column: str | None = "x",
    severity: Severity = Severity.WARNING,
) -> Finding:
    return Finding(kind, severity, schema, relation, column, "a", "b", "changed")


# --------------------------------------------------------------------------- matching


def test_entry_tolerates_the_finding_it_names() -> None:
    outcome = policy(entry()).apply([finding()], TODAY)
    assert outcome.findings == ()
    assert [t.finding for t in outcome.tolerated] == [finding()]
    assert outcome.expired == () and outcome.stale == ()


def test_entry_matches_by_kind_and_object_only() -> None:
    p = policy(entry())
    other_kind = finding(FindingKind.TYPE_CHANGED)
    other_column = finding(column="y")
    relation_level = finding(column=None)
    outcome = p.apply([other_kind, other_column, relation_level], TODAY)
    assert outcome.findings == (other_kind, other_column, relation_level)
    assert outcome.stale == p.entries


def test_wildcard_part_matches_any_column() -> None:
    p = policy(entry(obj="billig.ticket_group.*"))
    outcome = p.apply([finding(column="a"), finding(column="b"), finding(column=None)], TODAY)
    assert [t.finding.column for t in outcome.tolerated] == ["a", "b"]
    assert [f.column for f in outcome.findings] == [None]


def test_quoted_object_matches_a_dotted_identifier() -> None:
    confused = finding(FindingKind.QUOTING_CONFUSION, "public", "billig.event", None)
    outcome = policy(entry("quoting_confusion", 'public."billig.event"')).apply(
        [confused, finding(FindingKind.QUOTING_CONFUSION, "billig", "event", None)], TODAY
    )
    assert [t.finding for t in outcome.tolerated] == [confused]
    assert len(outcome.findings) == 1


def test_schema_level_entry() -> None:
    missing = finding(FindingKind.SCHEMA_MISSING, "billig", None, None, Severity.BREAKING)
    outcome = policy(entry("schema_missing", "billig")).apply([missing], TODAY)
    assert outcome.findings == ()


def test_finding_object_round_trips_through_the_policy_object_syntax() -> None:
    f = finding(schema="Odd Schema", relation='we"ird.name', column="Ünïcode")
    assert f.object == '"Odd Schema"."we""ird.name"."Ünïcode"'
    assert parse_object(f.object) == f.parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("billig", ("billig",)),
        ("billig.event", ("billig", "event")),
        ("Billig.Event.Name", ("billig", "event", "name")),  # unquoted folds like PostgreSQL
        ('"Billig"."Event"', ("Billig", "Event")),
        ('public."billig.event"', ("public", "billig.event")),
        ('public."a""b"', ("public", 'a"b')),
        ("billig.*.event", ("billig", None, "event")),
        ('billig."*"', ("billig", "*")),
    ],
)
def test_object_syntax(text: str, parts: tuple[str | None, ...]) -> None:
    assert parse_object(text) == parts


@given(st.lists(st.text(min_size=1).filter(lambda s: "\x00" not in s), min_size=1, max_size=4))
def test_a_quoted_qualified_name_reads_back_as_its_parts(parts: list[str]) -> None:
    # The one reader of qualified names (policy objects, Django's db_table) undoes quote_ident.
    assert split_qualified_name(".".join(map(quote_ident, parts))) == tuple(parts)


@pytest.mark.parametrize(
    "text", ["", "billig.", ".event", "a.b.c.d", '"unterminated', 'a."".c', "a. b"]
)
def test_bad_object_syntax(text: str) -> None:
    with pytest.raises(ValueError):
        parse_object(text)


# --------------------------------------------------------------------------- expiry and staleness


def test_entry_still_tolerates_on_its_expiry_date() -> None:
    p = policy(entry(expires="2026-06-01"))
    assert p.apply([finding()], TODAY).findings == ()


def test_expired_entry_stops_tolerating_and_is_reported() -> None:
    p = policy(entry(expires="2026-05-31"))
    outcome = p.apply([finding(severity=Severity.BREAKING)], TODAY)
    assert outcome.findings == (finding(severity=Severity.BREAKING),)
    assert outcome.tolerated == ()
    assert outcome.expired == p.entries
    assert outcome.stale == ()


def test_entry_that_matches_nothing_is_stale() -> None:
    p = policy(entry(), entry(obj="billig.ticket_group.gone"))
    outcome = p.apply([finding()], TODAY)
    assert [e.object for e in outcome.stale] == ["billig.ticket_group.gone"]


def test_expired_entry_that_matches_nothing_is_both_expired_and_stale() -> None:
    p = policy(entry(expires="2020-01-01"))
    outcome = p.apply([], TODAY)
    assert outcome.expired == outcome.stale == p.entries


def test_today_is_injectable() -> None:
    p = policy(entry(expires="2026-06-01"))
    assert p.apply([finding()], dt.date(2026, 6, 2)).findings == (finding(),)
    assert p.apply([finding()], dt.date(2026, 6, 1)).findings == ()


def test_entries_remember_where_they_are() -> None:
    p = policy(entry(), entry(obj="billig.ticket_group.y"))
    assert [e.source for e in p.entries] == [
        "contracts/drift-policy.json:4",  # the line of the entry's opening brace
        "contracts/drift-policy.json:11",
    ]


# --------------------------------------------------------------------------- files


def test_shipped_policy_file_is_valid_and_empty(project_root: Path) -> None:
    p = load_policy(project_root / DEFAULT_POLICY_PATH)
    assert p.entries == ()
    assert (project_root / DEFAULT_POLICY_PATH).read_text() == policy_template()


def test_missing_file_is_an_error_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "drift-policy.json"
    with pytest.raises(PolicyError, match=r"drift-policy\.json: policy file not found"):
        load_policy(path)
    assert load_policy(path, missing_ok=True).entries == ()


def test_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'{"format_version": 1, "tolerate": ["\xff"]}')
    with pytest.raises(PolicyError, match=r"p\.json:1:37: not UTF-8 text \(byte 36\)"):
        load_policy(path)


def test_directory_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path)


GOOD = {"format_version": 1, "tolerate": [entry()]}


def _with(**changes: object) -> str:
    data = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        target = data
        *head, last = path.split("__")
        for part in head:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return json.dumps(data, indent=2)


_DELETE = object()

MALFORMED = [
    (
        "truncated",
        json.dumps(GOOD, indent=2)[:-20],
        r"^P:9:18: invalid JSON: Unterminated string starting at$",
    ),
    ("empty file", "", r"^P:1:1: empty policy file, expected a JSON object$"),
    ("not an object", "[]", r"^P:1:1: \$: expected an object, got a list"),
    ("unknown top key", _with(tolerate_extra=[]), r"^P:12:3: \$\.tolerate_extra: unknown key"),
    ("missing tolerate", _with(tolerate=_DELETE), r"^P:1:1: \$: missing key 'tolerate'"),
    (
        "format_version is a string",
        _with(format_version="1"),
        r"^P:2:21: \$\.format_version: unsupported format_version '1'",
    ),
    ("format_version 2", _with(format_version=2), r"\$\.format_version: unsupported"),
    ("format_version true", _with(format_version=True), r"\$\.format_version: unsupported"),
    ("tolerate not a list", _with(tolerate={}), r"^P:3:15: \$\.tolerate: expected a list"),
    ("entry not an object", _with(tolerate__0="x"), r"^P:4:5: \$\.tolerate\[0\]: expected an obj"),
    (
        "unknown entry key",
        _with(tolerate__0__severity="info"),
        r"^P:10:7: \$\.tolerate\[0\]\.severity: unknown key 'severity'",
    ),
    (
        "missing reason",
        _with(tolerate__0__reason=_DELETE),
        r"^P:4:5: \$\.tolerate\[0\]: missing key 'reason'",
    ),
    (
        "owner is a number",
        _with(tolerate__0__owner=7),
        r"^P:8:16: \$\.tolerate\[0\]\.owner: expected a non-empty string, got a number",
    ),
    (
        "blank reason",
        _with(tolerate__0__reason="  "),
        r"\$\.tolerate\[0\]\.reason: expected a non-empty string, got an empty string",
    ),
    (
        "unknown kind",
        _with(tolerate__0__kind="column_gone"),
        r"^P:5:15: \$\.tolerate\[0\]\.kind: unknown finding kind 'column_gone'",
    ),
    (
        "bad object",
        _with(tolerate__0__object="a.b.c.d"),
        r"\$\.tolerate\[0\]\.object: 'a\.b\.c\.d' has more than three parts",
    ),
    (
        "date in the wrong format",
        _with(tolerate__0__expires="31.12.2026"),
        r"^P:9:18: \$\.tolerate\[0\]\.expires: expected a date YYYY-MM-DD, got '31\.12\.2026'",
    ),
    (
        "impossible date",
        _with(tolerate__0__expires="2027-02-30"),
        r"\$\.tolerate\[0\]\.expires: '2027-02-30' is not a valid date",
    ),
    (
        "duplicate key",
        '{"format_version": 1, "tolerate": [], "tolerate": []}',
        r"^P:1:39: \$\.tolerate: duplicate key tolerate$",
    ),
    (
        "duplicate entry",
        json.dumps({"format_version": 1, "tolerate": [entry(), entry(reason="again")]}),
        r"\$\.tolerate\[1\]: duplicates tolerate\[0\]",
    ),
]


@pytest.mark.parametrize(
    ("text", "pattern"), [pytest.param(t, p, id=name) for name, t, p in MALFORMED]
)
def test_malformed_policy_is_a_located_policy_error(text: str, pattern: str) -> None:
    with pytest.raises(PolicyError, match=pattern.replace("P:", "contracts/drift-policy.json:")):
        parse_policy(text, "contracts/drift-policy.json")


def test_policy_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "drift-policy.json"
    path.write_text(_with(tolerate__0__kind="bad\nkind"))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"{path}:")
    assert info.value.exit_code == 2
