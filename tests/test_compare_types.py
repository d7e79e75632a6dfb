"""Classifying column type changes as widening, narrowing or incompatible (for a reader)."""

from __future__ import annotations

import pytest

from mirror.catalog.compare import TypeChange, classify_type_change
from mirror.catalog.findings import Finding, FindingKind, Severity, counts, exit_code
from mirror.catalog.type_names import parse_type
from mirror.errors import UsageError

W, N, X = TypeChange.WIDENING, TypeChange.NARROWING, TypeChange.INCOMPATIBLE

CASES = [
    # strings: capacity decides
    ("character varying(140)", "character varying(255)", W),
    ("character varying(255)", "character varying(140)", N),
    ("character varying(140)", "text", W),
    ("character varying(140)", "character varying", W),
    ("text", "character varying(255)", N),
    ("character varying", "character varying(10)", N),
    ("character(10)", "character varying(10)", W),
    ("character(1)", "text", W),
    ("character varying(64)", "character(32)", N),
    # integers and floats
    ("smallint", "integer", W),
    ("integer", "bigint", W),
    ("bigint", "integer", N),
    ("integer", "smallint", N),
    ("real", "double precision", W),
    ("double precision", "real", N),
    # numeric: integer digits and scale must both fit
    ("numeric(10,2)", "numeric(12,2)", W),
    ("numeric(10,2)", "numeric(12,4)", W),
    ("numeric(10,2)", "numeric(10,4)", N),
    ("numeric(10,2)", "numeric(8,2)", N),
    ("numeric(10,2)", "numeric", W),
    ("numeric", "numeric(10,2)", N),
    # time precision
    ("timestamp(3) without time zone", "timestamp without time zone", W),
    ("timestamp without time zone", "timestamp(0) without time zone", N),
    # json
    ("json", "jsonb", W),
    ("jsonb", "json", W),
    # across families: the Python value a reader gets changes
    ("integer", "text", X),
    ("text", "integer", X),
    ("boolean", "integer", X),
    ("integer", "numeric(10,0)", X),
    ("integer", "double precision", X),
    ("timestamp without time zone", "timestamp with time zone", X),
    ("timestamp with time zone", "timestamp without time zone", X),
    ("date", "timestamp without time zone", X),
    ("uuid", "text", X),
    ("integer", "integer[]", X),
    ("integer[]", "bigint[]", W),
    ("text[]", "character varying(10)[]", N),
    ("billig.status", "text", X),
    ('"Mood"', "text", X),
]


@pytest.mark.parametrize(("old", "new", "change"), CASES, ids=[f"{o}->{n}" for o, n, _ in CASES])
def test_type_change_classification(old: str, new: str, change: TypeChange) -> None:
    assert classify_type_change(old, new) is change


def _finding(severity: Severity) -> Finding:
    return Finding(FindingKind.COLUMN_ADDED, severity, "billig", "t", "c", None, "text", "m")


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ([], Severity.BREAKING, 0),
        ([Severity.INFO, Severity.WARNING], Severity.BREAKING, 0),
        ([Severity.INFO, Severity.WARNING], Severity.WARNING, 1),
        ([Severity.INFO], Severity.WARNING, 0),
        ([Severity.INFO], Severity.INFO, 1),
        ([Severity.BREAKING], Severity.BREAKING, 1),
    ],
)
def test_exit_code_is_one_only_at_or_above_fail_on(
    severities: list[Severity], fail_on: Severity, code: int
) -> None:
    assert exit_code([_finding(s) for s in severities], fail_on) == code


def test_counts_list_every_severity_most_severe_first() -> None:
    findings = [_finding(Severity.INFO), _finding(Severity.INFO), _finding(Severity.BREAKING)]
    assert list(counts(findings).items()) == [("breaking", 1), ("warning", 0), ("info", 2)]


def test_severity_parses_and_orders() -> None:
    assert Severity.parse(" Warning ") is Severity.WARNING
    assert Severity.INFO < Severity.WARNING < Severity.BREAKING
    assert str(Severity.BREAKING) == "breaking"


def test_unknown_severity_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown severity 'fatal'"):
        Severity.parse("fatal")


@pytest.mark.parametrize(
    ("spelling", "length"),
    [
        ("varchar(10)", 10),
        ("character(5)", 5),
        ("char", 1),
        ("bit varying(7)", 7),
        ("text", None),
        ("character varying", None),
        ("character varying(10)[]", None),
        ("numeric(10)", None),
        ("time(3) with time zone", None),
    ],
)
def test_the_length_limit_of_a_type_is_read_from_any_spelling(
    spelling: str, length: int | None
) -> None:
    parsed = parse_type(spelling)
    assert parsed is not None and parsed.length == length


def test_a_user_types_qualified_name_has_no_parts() -> None:
    assert parse_type('"billig"."Mood"') is None
