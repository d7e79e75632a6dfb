"""Bad input through the command line: broken contract, policy and schema files, arguments out of
range. Each is exit 2 with the file and the place in it, one line, no traceback, nothing written.

Contract and policy files go through ``billig drift`` aimed at a port nothing listens on: exit 2
(not 3) proves the file is rejected before any connection is tried.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from mirror.files import write_atomic
from mirror.provision.providers import Server, connect_url

from .sandbox import ROOT, Result, assert_error, databases, full, query

CONTRACT = (ROOT / "contracts" / "columns.json").read_text()


def _closed_port_dsn() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"postgresql://ro:pw@127.0.0.1:{s.getsockname()[1]}/billig"


def _edit(change: Callable[[dict], object]) -> str:
    doc = json.loads(CONTRACT)
    change(doc)
    return json.dumps(doc, indent=2)


def _first_column(doc: dict) -> dict:
    return doc["relations"][0]["columns"][0]


# name: (file content, what the message says after "FILE:")
CONTRACT_CORRUPTIONS: dict[str, tuple[str | bytes, str]] = {
    "truncated": (CONTRACT[: len(CONTRACT) * 3 // 5], r"\d+:\d+: invalid JSON: "),
    "cut after the first byte": (CONTRACT[:1], r"1:2: invalid JSON: "),
    "nullable as a string": (
        _edit(lambda d: _first_column(d).update(nullable="yes")),
        r"\d+:\d+: \$\.relations\[0\]\.columns\[0\]\.nullable: expected true or false",
    ),
    "relations as an object": (
        _edit(lambda d: d.update(relations={})),
        r"\d+:\d+: \$\.relations: expected an array, got an object",
    ),
    "type as a number": (
        _edit(lambda d: _first_column(d).update(type=4)),
        r"\d+:\d+: \$\.relations\[0\]\.columns\[0\]\.type: expected a string, got a number",
    ),
    "empty type": (
        _edit(lambda d: _first_column(d).update(type="")),
        r"\$\.relations\[0\]\.columns\[0\]\.type: expected a non-empty string",
    ),
    "unknown top-level key": (
        _edit(lambda d: d.update(comment="hand edit")),
        r"\d+:\d+: \$\.comment: unknown key 'comment'",
    ),
    "unknown column key": (
        _edit(lambda d: _first_column(d).update(size=4)),
        r"\$\.relations\[0\]\.columns\[0\]\.size: unknown key 'size'",
    ),
    "missing column key": (
        _edit(lambda d: _first_column(d).pop("type")),
        r"\$\.relations\[0\]\.columns\[0\]: missing key 'type'",
    ),
    "duplicated relation": (
        _edit(lambda d: d["relations"].append(d["relations"][0])),
        r"\$\.relations\[9\]\.name: relation billig\.event appears twice",
    ),
    "duplicated column": (
        _edit(lambda d: d["relations"][0]["columns"].append(_first_column(d))),
        r"\.columns\[15\]\.name: column 'event' appears twice",
    ),
    "duplicated JSON key": (
        CONTRACT.replace('"lineage": true,', '"lineage": true,\n  "lineage": false,', 1),
        r"4:3: \$\.lineage: duplicate key lineage",
    ),
    "primary key on a missing column": (
        _edit(lambda d: d["relations"][0].update(primary_key=["evnet"])),
        r"\$\.relations\[0\]\.primary_key\[0\]: no column 'evnet'",
    ),
    "unknown relation kind": (
        _edit(lambda d: d["relations"][0].update(kind="synonym")),
        r"\$\.relations\[0\]\.kind: unknown kind 'synonym'",
    ),
    "a future format version": (
        _edit(lambda d: d.update(format_version=99)),
        r"2:\d+: \$\.format_version: unsupported format_version 99",
    ),
    "format version as a string": (
        _edit(lambda d: d.update(format_version="1")),
        r'\$\.format_version: unsupported format_version "1"',
    ),
    "no format version": (
        _edit(lambda d: d.pop("format_version")),
        r"1:1: \$: missing key 'format_version'",
    ),
    "NUL in a relation name": (
        _edit(lambda d: d["relations"][0].update(name="ev\x00ent")),
        r"\$\.relations\[0\]\.name: contains a NUL character",
    ),
    "NUL in a schema name": (
        _edit(lambda d: d["relations"][0].update(schema="bil\x00lig")),
        r"\$\.relations\[0\]\.schema: contains a NUL character",
    ),
    "NUL in a column name": (
        _edit(lambda d: _first_column(d).update(name="\x00")),
        r"\$\.relations\[0\]\.columns\[0\]\.name: contains a NUL character",
    ),
    "lone surrogate in a relation name": (
        _edit(lambda d: d["relations"][0].update(name="event\ud800")),
        r"\$\.relations\[0\]\.name: contains a lone surrogate \(\\ud800\)",
    ),
    "lone surrogate in a schema name": (
        _edit(lambda d: d.update(schemas=["\udfff"])),
        r"\$\.schemas\[0\]: contains a lone surrogate \(\\udfff\)",
    ),
    "top level array": ("[]", r"1:1: \$: expected a JSON object, got an array"),
    "NaN": (CONTRACT.replace('"nullable": false', '"nullable": NaN', 1), r"invalid JSON"),
    "deeply nested": ("[" * 100_000 + "]" * 100_000, r"invalid JSON"),
    "binary garbage": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe garbage", r"1:1: not UTF-8 text"),
    "NUL bytes": ("\x00" * 64, r"1:1: invalid JSON"),
    "empty": ("", r"1:1: empty contract file"),
    "whitespace only": ("\n  \n", r"1:1: empty contract file"),
}


@pytest.mark.parametrize("corruption", CONTRACT_CORRUPTIONS)
def test_corrupt_contract_is_exit_2_with_its_file_and_location(
    run_cli: Callable[..., Result], tmp_path: Path, corruption: str
) -> None:
    content, says = CONTRACT_CORRUPTIONS[corruption]
    path = tmp_path / "columns.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = path.read_bytes()
    result = run_cli("drift", "--dsn", _closed_port_dsn(), "--contract", str(path))
    message = assert_error(result, 2, f"{path}:")
    assert re.search(says, message), message
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["columns.json"]


def test_contract_with_a_byte_order_mark_is_accepted(
    run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    path = tmp_path / "columns.json"
    path.write_text("\ufeff" + CONTRACT)
    result = run_cli("drift", "--dsn", _closed_port_dsn(), "--contract", str(path))
    assert_error(result, 3, "cannot connect")  # read fine; only the server is missing


POLICY = {
    "format_version": 1,
    "tolerate": [
        {
            "kind": "column_added",
            "object": "billig.ticket.seat_note",
            "reason": "Billig seats, not sold on the web",
            "owner": "web team",
            "expires": "2099-01-01",
        }
    ],
}


def _policy(change: Callable[[dict], object]) -> str:
    doc = json.loads(json.dumps(POLICY))
    change(doc)
    return json.dumps(doc, indent=2)


def _entry(doc: dict) -> dict:
    return doc["tolerate"][0]


POLICY_CORRUPTIONS: dict[str, tuple[str | bytes, str]] = {
    "truncated": (json.dumps(POLICY, indent=2)[:90], r"\d+:\d+: invalid JSON: "),
    "expiry as a number": (
        _policy(lambda d: _entry(d).update(expires=20990101)),
        r"\$\.tolerate\[0\]\.expires: expected a non-empty string",
    ),
    "tolerate as an object": (
        _policy(lambda d: d.update(tolerate={})),
        r"\$\.tolerate: expected a list, got an object",
    ),
    "unknown top-level key": (
        _policy(lambda d: d.update(ignore=[])),
        r"\$\.ignore: unknown key 'ignore'",
    ),
    "unknown entry key": (
        _policy(lambda d: _entry(d).update(ticket="WEB-1")),
        r"\$\.tolerate\[0\]\.ticket: unknown key 'ticket'",
    ),
    "missing reason": (
        _policy(lambda d: _entry(d).pop("reason")),
        r"\$\.tolerate\[0\]: missing key 'reason'",
    ),
    "blank owner": (
        _policy(lambda d: _entry(d).update(owner="  ")),
        r"\$\.tolerate\[0\]\.owner: expected a non-empty string",
    ),
    "duplicated entry": (
        _policy(lambda d: d["tolerate"].append(_entry(d))),
        r"\$\.tolerate\[1\]: duplicates tolerate\[0\]",
    ),
    "duplicated JSON key": (
        '{"format_version": 1, "format_version": 1, "tolerate": []}',
        r"1:23: \$\.format_version: duplicate key",
    ),
    "unknown finding kind": (
        _policy(lambda d: _entry(d).update(kind="column_gone")),
        r"\$\.tolerate\[0\]\.kind: unknown finding kind 'column_gone'",
    ),
    "bad object": (
        _policy(lambda d: _entry(d).update(object="billig..ticket")),
        r"\$\.tolerate\[0\]\.object: empty identifier or whitespace in 'billig\.\.ticket'",
    ),
    "impossible date": (
        _policy(lambda d: _entry(d).update(expires="2099-02-30")),
        r"\$\.tolerate\[0\]\.expires: '2099-02-30' is not a valid date",
    ),
    "format version 2": (
        _policy(lambda d: d.update(format_version=2)),
        r"\$\.format_version: unsupported format_version 2",
    ),
    "top level array": ("[]", r"1:1: \$: expected an object, got"),
    "deeply nested": ("[" * 100_000 + "]" * 100_000, r"invalid JSON"),
    "binary garbage": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe garbage", r"not UTF-8 text \(byte 0\)"),
    "empty": ("", r"1:1: empty policy file"),
    "a 5,001-digit number": (
        _policy(lambda d: None).replace('"format_version": 1', '"format_version": ' + "9" * 5_001),
        r"invalid JSON: .*\d+ digits",
    ),
    "lone surrogate in a reason": (
        _policy(lambda d: _entry(d).update(reason="seats \udc00")),
        r"\$\.tolerate\[0\]\.reason: contains a lone surrogate",
    ),
}


@pytest.mark.parametrize("corruption", POLICY_CORRUPTIONS)
def test_corrupt_policy_is_exit_2_with_its_file_and_location(
    run_cli: Callable[..., Result], tmp_path: Path, corruption: str
) -> None:
    content, says = POLICY_CORRUPTIONS[corruption]
    path = tmp_path / "policy.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = run_cli("drift", "--dsn", _closed_port_dsn(), "--policy", str(path))
    message = assert_error(result, 2, f"{path}:")
    assert re.search(says, message), message


def test_corrupt_shape_snapshot_fails_contracts_check_with_its_location(
    run_cli: Callable[..., Result], billig_server: Server, tmp_path: Path
) -> None:
    folder = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", folder)
    shape = folder / "shapes" / "PriceGroup.json"
    shape.write_text(shape.read_text()[:-40])
    result = run_cli(
        "contracts", "check", "--provider", "dsn", "--dsn", full(billig_server.admin_url),
        "--contracts", str(folder), "--kind", "shapes",
    )  # fmt: skip
    assert_error(result, 2, f"{shape}:", "invalid JSON")


# --------------------------------------------------------------------------- schema.sql

SCHEMA = (ROOT / "schema" / "billig.sql").read_text()
# The line of the statement that creates billig.ticket_group (what a broken edit points at).
TICKET_GROUP_LINE = SCHEMA[: SCHEMA.index("CREATE TABLE billig.ticket_group")].count("\n") + 1

SCHEMA_FILES: dict[str, tuple[str | bytes, int, str]] = {
    "syntax error": (
        SCHEMA.replace("CREATE TABLE billig.ticket_group", "CREATE TABEL billig.ticket_group"),
        2,
        rf"billig\.sql:{TICKET_GROUP_LINE}: statement `CREATE TABEL billig\.ticket_group .*` "
        r'failed: ERROR: syntax error at or near "TABEL"',  # one line: spaces folded
    ),
    "reference to a missing table": (
        SCHEMA.replace("REFERENCES billig.event", "REFERENCES billig.evnt", 1),
        2,
        rf'billig\.sql:{TICKET_GROUP_LINE}: .* relation "billig\.evnt" does not exist',
    ),
    "empty": ("", 2, r"billig\.sql: contains no SQL statement"),
    "comments only": ("-- nothing yet\n/* really */\n", 2, r"contains no SQL statement"),
    "not UTF-8": (b"CREATE SCHEMA billig;\n\xff\xfe", 2, r"billig\.sql: not UTF-8 text"),
}


def _schema_dir(tmp_path: Path, content: str | bytes) -> Path:
    """A working directory whose schema/billig.sql is ``content`` (commands use it first)."""
    (tmp_path / "schema").mkdir()
    path = tmp_path / "schema" / "billig.sql"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return tmp_path


def _schemas(url: URL) -> set[str]:
    with contextlib.closing(connect_url(url)) as conn:
        return {r[0] for r in query(conn, "SELECT nspname FROM pg_namespace")}


@pytest.mark.parametrize("case", SCHEMA_FILES)
def test_schema_file_that_does_not_load_names_statement_and_line_and_loads_nothing(
    run_cli: Callable[..., Result],
    fresh_database: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    content, code, says = SCHEMA_FILES[case]
    monkeypatch.chdir(_schema_dir(tmp_path, content))
    monkeypatch.delenv("BILLIG_SCHEMA")  # the default: schema/billig.sql here
    result = run_cli("mirror", "seed", "--dsn", full(fresh_database), "--events", "5")
    message = assert_error(result, code)
    assert re.search(says, message), message
    assert "billig" not in _schemas(fresh_database)


def test_broken_schema_file_fails_the_main_job_and_leaves_no_database(
    run_cli: Callable[..., Result],
    billig_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content, _, says = SCHEMA_FILES["syntax error"]
    before = databases(billig_server)
    monkeypatch.chdir(_schema_dir(tmp_path, content))
    monkeypatch.delenv("BILLIG_SCHEMA")  # the default: schema/billig.sql here
    result = run_cli(
        "check", "--provider", "dsn", "--dsn", full(billig_server.admin_url),
        "--contracts", str(ROOT / "contracts"), "--kind", "columns",
    )  # fmt: skip
    message = assert_error(result, 2)
    assert re.search(says, message), message
    assert databases(billig_server) == before


OUTSIDE = """
-- Production has relations the site never reads, also outside the billig schema.
CREATE TABLE public.kort (kort bigint PRIMARY KEY, eier text);
CREATE SCHEMA kasse;
CREATE TABLE kasse.salg (salg integer PRIMARY KEY, belop integer NOT NULL);
CREATE VIEW kasse.dagens AS SELECT salg, belop FROM kasse.salg;
"""


def test_statements_outside_the_billig_schema_are_loaded_and_ignored_by_the_contract(
    run_cli: Callable[..., Result],
    billig_server: Server,
    fresh_database: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(_schema_dir(tmp_path, SCHEMA + OUTSIDE))
    monkeypatch.delenv("BILLIG_SCHEMA")  # the default: schema/billig.sql here
    seeded = run_cli("mirror", "seed", "--dsn", full(fresh_database), "--events", "12")
    assert seeded.code == 0, seeded
    assert {"billig", "kasse"} <= _schemas(fresh_database)
    with contextlib.closing(connect_url(fresh_database)) as conn:
        assert query(conn, "SELECT count(*) FROM billig.event")[0][0] == 12
        # The seed fills every table the schema has, the billig schema's and the others alike.
        sold = query(conn, "SELECT count(*) FROM kasse.salg")[0][0]
        assert sold > 0 and query(conn, "SELECT count(*) FROM kasse.dagens")[0][0] == sold
    checked = run_cli(
        "check", "--provider", "dsn", "--dsn", full(billig_server.admin_url),
        "--contracts", str(ROOT / "contracts"), "--kind", "columns",
    )  # fmt: skip
    assert checked.code == 0, checked
    assert "all contracts hold" in checked.out


# --------------------------------------------------------------------------- arguments

ARGUMENTS: dict[str, tuple[list[str], str]] = {
    "negative events": (["mirror", "up", "--events", "-1"], "'--events': -1 is not in the range"),
    "too many events": (["mirror", "up", "--events", "1000001"], "'--events': 1000001 is not"),
    "events not a number": (["mirror", "run", "--events", "many", "--", "true"], "'--events'"),
    "seed not an integer": (["mirror", "up", "--seed", "1.5"], "'--seed': '1.5' is not"),
    "unknown provider": (["mirror", "up", "--provider", "cloud"], "'--provider': 'cloud' is not"),
    "now not a date": (["mirror", "up", "--now", "yesterday"], "'--now': 'yesterday'"),
    "run without a command": (["mirror", "run"], "Missing argument 'COMMAND...'"),
    "seed without a dsn": (["mirror", "seed"], "Missing option '--dsn'"),
    "snapshot without a schema": (
        ["contracts", "snapshot", "--dsn", "postgresql://x@127.0.0.1:1/x", "--output", "c.json"],
        "Missing option '--schema'",
    ),
    "zero statement timeout": (["drift", "--statement-timeout", "0"], "'--statement-timeout'"),
    "negative lock timeout": (["drift", "--lock-timeout", "-5"], "'--lock-timeout'"),
    "zero connect timeout": (["drift", "--connect-timeout", "0"], "'--connect-timeout'"),
    "unknown format": (["drift", "--format", "yaml"], "'--format': 'yaml' is not one of"),
    "unknown command": (["frobnicate"], "No such command 'frobnicate'"),
    "unknown option": (["drift", "--frobnicate"], "No such option '--frobnicate'"),
}


@pytest.mark.parametrize("case", ARGUMENTS)
def test_arguments_out_of_range_are_exit_2_and_name_the_argument(
    run_cli: Callable[..., Result], case: str
) -> None:
    args, says = ARGUMENTS[case]
    result = run_cli(*args)
    assert result.code == 2, result
    assert "Traceback" not in result.output
    assert result.out == ""
    assert says in result.err.splitlines()[-1], result.err


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BILLIG_MIRROR_PROVIDER", "cloud", "$BILLIG_MIRROR_PROVIDER: must be one of auto, docker"),
        ("BILLIG_MIRROR_DISABLE", "lokal", "BILLIG_MIRROR_DISABLE names unknown provider(s) lokal"),
    ],
)
def test_bad_environment_is_exit_2_and_names_the_variable(
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    says: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = run_cli("mirror", "run", "--", "true")
    assert result.code == 2, result
    assert says in result.err.splitlines()[-1], result.err


# --------------------------------------------------------------------------- report destinations

# name: (a destination in tmp_path, what the message says)
DESTINATIONS: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "--output naming a folder": (lambda tmp: ["--output", f"json:{tmp}"], "is a directory"),
    "--output under a regular file": (
        lambda tmp: ["--output", f"json:{tmp / 'columns.json' / 'drift.json'}"],
        "is not a directory",
    ),
    "--output in a folder nothing can be created in": (
        lambda tmp: ["--output", "junit:/proc/drift.xml"],
        "cannot write the report",
    ),
    "--output naming a device": (
        lambda tmp: ["--output", "text:/dev/null"],
        "not a regular file (use - for stdout)",
    ),
}


@pytest.mark.parametrize("case", DESTINATIONS)
def test_a_report_destination_that_cannot_be_written_is_exit_2_before_the_check(
    run_cli: Callable[..., Result], tmp_path: Path, case: str
) -> None:
    (tmp_path / "columns.json").write_text(CONTRACT)
    args, says = DESTINATIONS[case]
    result = run_cli(
        "drift", "--dsn", _closed_port_dsn(), "--contract", str(tmp_path), *args(tmp_path)
    )
    assert_error(result, 2, "--output", says)
    assert result.out == ""  # never a verdict
    assert sorted(p.name for p in tmp_path.iterdir()) == ["columns.json"]


def test_a_step_summary_naming_a_folder_is_exit_2_before_the_check(
    run_cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))
    result = run_cli("drift", "--dsn", _closed_port_dsn(), "--format", "github")
    assert_error(result, 2, "$GITHUB_STEP_SUMMARY", str(tmp_path), "is a directory")
    assert result.out == ""


@pytest.mark.parametrize("where", ["a folder", "a pipe", "/proc"])
def test_a_snapshot_destination_that_cannot_be_written_is_exit_2_before_connecting(
    run_cli: Callable[..., Result], tmp_path: Path, where: str
) -> None:
    output = {"a folder": tmp_path, "a pipe": tmp_path / "pipe", "/proc": Path("/proc/c.json")}
    if where == "a pipe":
        os.mkfifo(output[where])
    result = run_cli(
        "contracts", "snapshot", "--dsn", _closed_port_dsn(), "--schema", "billig",
        "--output", str(output[where]),
    )  # fmt: skip
    assert result.code == 2, result
    assert "Traceback" not in result.output and result.out == ""


def test_an_atomic_write_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(pipe, "{}")
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
