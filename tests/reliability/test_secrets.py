"""A distinctive password goes through every command, report and error path and never comes out.

The password needs URL quoting (``/ : @ % # ? & =`` and a space), so both its raw and its
URL-encoded spellings are looked for in stdout, stderr, every file a command writes (reports,
contracts, the GitHub step summary) and every log record, with and without ``--debug``. The same
password written raw into a URL, as people do, must not leak either: not even a fragment.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg2 import sql
from sqlalchemy.engine import URL

from mirror.provision.providers import Server, connect_url
from mirror.provision.schema import load_schema
from mirror.secrets import MASK, scrub

from .sandbox import (
    ROOT,
    Result,
    assert_error,
    billig,
    billig_command,
    cli_env,
    finish,
    full,
)

pytestmark = pytest.mark.usefixtures("capture_logs")


@dataclass(frozen=True)
class Login:
    """A role with a distinctive password, its own database and a schema.sql database to read."""

    server: Server
    role: str
    password: str
    prod: URL  # schema/billig.sql loaded; the role may CONNECT, USE billig and SELECT

    def url(self, database: str | None = None, **changes: object) -> URL:
        url = self.prod.set(username=self.role, password=self.password)
        if database:
            url = url.set(database=database)
        return url.set(**changes) if changes else url

    def dsn(self, database: str | None = None, **changes: object) -> str:
        return full(self.url(database, **changes))

    @property
    def forms(self) -> set[str]:
        return {self.password, quote(self.password, safe=""), quote(self.password)}


@pytest.fixture(scope="module")
def login(billig_server: Server) -> Iterator[Login]:
    token = secrets.token_hex(4)
    role, prod = f"secret_{token}", f"secret_prod_{token}"
    password = f"Hemmelig/Pa55:{secrets.token_hex(6)} %#?&=@x"
    with contextlib.closing(billig_server.connect()) as conn, conn.cursor() as cur:
        conn.autocommit = True
        cur.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    url = billig_server.create_database(prod)
    try:
        with contextlib.closing(connect_url(url)) as conn:
            load_schema(conn)
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL(
                        "GRANT USAGE ON SCHEMA billig TO {0};"
                        " GRANT SELECT ON ALL TABLES IN SCHEMA billig TO {0}"
                    ).format(sql.Identifier(role))
                )
            conn.commit()
        yield Login(billig_server, role, password, url)
    finally:
        billig_server.drop_database(prod)
        with contextlib.closing(billig_server.connect()) as conn, conn.cursor() as cur:
            conn.autocommit = True
            # Databases the role made and a failed test left behind go with it.
            cur.execute(
                "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles"
                " WHERE rolname = %s)",
                (role,),
            )
            for (name,) in cur.fetchall():
                billig_server.drop_database(name)
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def own_database(login: Login) -> Iterator[str]:
    """An empty database owned by the login (to seed)."""
    name = f"secret_own_{secrets.token_hex(4)}"
    with contextlib.closing(login.server.connect()) as conn, conn.cursor() as cur:
        conn.autocommit = True
        cur.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(login.role)
            )
        )
    try:
        yield name
    finally:
        login.server.drop_database(name)


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_password(
    login: Login, result: Result, folder: Path | None = None, logs: Iterator[str] | None = None
) -> None:
    texts = {"stdout": result.out, "stderr": result.err}
    if folder is not None:
        for path in folder.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_text(errors="replace")
    for i, line in enumerate(logs or ()):
        texts[f"log record {i}"] = line
    for where, text in texts.items():
        for form in login.forms:
            assert form not in text, f"the password appears in {where}"


def log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    for record in caplog.records:
        yield record.getMessage()
        if record.exc_text:
            yield record.exc_text


# --------------------------------------------------------------------------- every command


def test_mirror_seed(login: Login, own_database: str, run_cli, caplog, tmp_path) -> None:
    result = run_cli("mirror", "seed", "--dsn", login.dsn(own_database), "--events", "20")
    assert result.code == 0, result
    assert result.out.startswith(f"seeded postgresql://{login.role}:***@"), result
    assert_no_password(login, result, logs=log_lines(caplog))


def test_mirror_run_with_the_dsn_provider(login: Login, run_cli, caplog) -> None:
    result = run_cli(
        "mirror", "run", "--provider", "dsn", "--dsn", login.dsn("postgres"), "--events", "5",
        "--", "true",
    )  # fmt: skip
    assert result.code == 0, result
    assert_no_password(login, result, logs=log_lines(caplog))


def test_mirror_up_with_the_dsn_provider(login: Login, spawn) -> None:
    proc = spawn(
        billig_command(
            "mirror", "up", "--provider", "dsn", "--dsn", login.dsn("postgres"), "--events", "5"
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=cli_env(), cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    shown = proc.stdout.readline() + proc.stdout.readline()  # "mirror ready …" and the URL
    proc.send_signal(signal.SIGINT)
    result = finish(proc)
    result = Result(result.code, shown + result.out, result.err)
    assert result.out.startswith("mirror ready in "), result
    assert f"\npostgresql://{login.role}:***@{login.prod.host}:" in result.out, result
    assert_no_password(login, result)


@pytest.mark.parametrize("form", ["url", "key=value"])
def test_contracts_snapshot(login: Login, run_cli, caplog, tmp_path: Path, form: str) -> None:
    dsn = login.dsn() if form == "url" else _key_value(login.url())
    output = tmp_path / "pinned.json"
    result = run_cli(
        "contracts", "snapshot", "--dsn", dsn, "--schema", "billig", "--output", str(output)
    )
    assert result.code == 0, result
    assert output.is_file()
    assert_no_password(login, result, tmp_path, log_lines(caplog))


def _key_value(url: URL) -> str:
    return (
        f"host={url.host} port={url.port} dbname={url.database} user={url.username} "
        f"password='{url.password}'"
    )


def test_contract_commands_with_the_dsn_provider(login: Login, run_cli, caplog, tmp_path) -> None:
    folder = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", folder)
    provider = ["--provider", "dsn", "--dsn", login.dsn("postgres"), "--contracts", str(folder)]
    for args in (
        ["check", *provider, "--report", str(tmp_path / "contracts.md"), "--kind", "columns"],
        ["contracts", "check", *provider, "--kind", "columns"],
        ["contracts", "update", *provider, "--kind", "columns"],
    ):
        result = run_cli(*args)
        assert result.code == 0, (args, result)
        assert_no_password(login, result, tmp_path, log_lines(caplog))


def test_drift_in_every_format_to_stdout_and_files(
    login: Login, run_cli, caplog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirror.report.render import FORMATS

    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step-summary.md"))
    outputs = [f"--output={fmt}:{tmp_path / 'reports' / f'drift.{fmt}'}" for fmt in FORMATS]
    result = run_cli("drift", "--dsn", login.dsn(), *outputs, "--output", "text:-", "--suggest")
    assert result.code == 0, result
    assert len(list((tmp_path / "reports").iterdir())) == len(FORMATS)
    assert (tmp_path / "step-summary.md").is_file()
    for fmt in FORMATS:
        shown = run_cli("drift", "--dsn", login.dsn(), "--format", fmt)
        assert shown.code == 0, shown
        assert_no_password(login, shown)
    assert_no_password(login, result, tmp_path, log_lines(caplog))


def test_serve_and_what_its_api_answers(login: Login) -> None:
    fetch = (
        "import os, urllib.request as r; u = os.environ['BILLIG_API_URL']\n"
        "for path in ('/health', '/billig/events', '/events', '/openapi.json'):\n"
        "    print(r.urlopen(u + path).read().decode())"
    )
    result = billig("serve", "--dsn", login.dsn(), "--port", "0", "--", sys.executable, "-c", fetch)
    assert result.code == 0, result
    assert '"billig":"ok"' in result.out
    assert f"Billig: postgresql://{login.role}:***@" in result.err
    assert_no_password(login, result)


# --------------------------------------------------------------------------- every error path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Each failure: how it changes the login's URL, and what the message says.
FAILURES: dict[str, tuple[Callable[[Login], str], str]] = {
    "wrong password": (
        lambda lg: full(lg.url().set(password=lg.password[::-1])),
        "password authentication failed",
    ),
    "refused": (lambda lg: lg.dsn(port=_closed_port()), "refused"),
    "dns": (lambda lg: lg.dsn(host="nonexistent.invalid"), "nonexistent.invalid"),
    "tls required": (lambda lg: lg.dsn() + "?sslmode=require", "SSL"),
    "bad url": (lambda lg: lg.dsn().replace(f":{lg.prod.port}/", ":notaport/"), "notaport"),
}

# Each command that takes a DSN, with ``{dsn}`` where it goes; 2 for a bad URL, 3 otherwise.
# (`mirror up` fails on the same path as `mirror run`; run in this process, a DSN that wrongly
# worked would leave it serving forever.)
COMMANDS = {
    "mirror seed": ["mirror", "seed", "--dsn", "{dsn}", "--events", "5"],
    "mirror run": ["mirror", "run", "--provider", "dsn", "--dsn", "{dsn}", "--", "true"],
    "check": ["check", "--provider", "dsn", "--dsn", "{dsn}"],
    "contracts snapshot": ["contracts", "snapshot", "--dsn", "{dsn}", "--schema", "billig",
                           "--output", "{tmp}/pinned.json"],
    "drift": ["drift", "--dsn", "{dsn}", "--connect-timeout", "3", "--output", "json:{tmp}/d.json"],
    "serve": ["serve", "--dsn", "{dsn}", "--port", "0", "--", "true"],
}  # fmt: skip


@pytest.fixture(scope="module")
def server_speaks_tls(login: Login) -> bool:
    try:
        psycopg2.connect(login.dsn() + "?sslmode=require", connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        return "SSL" not in str(exc)
    return True


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("command", COMMANDS)
def test_error_paths_name_the_problem_but_never_the_password(
    login: Login, run_cli, caplog, tmp_path: Path, command: str, failure: str, server_speaks_tls
) -> None:
    if failure == "tls required" and server_speaks_tls:
        pytest.skip("this server speaks TLS, so requiring it does not fail")
    make, says = FAILURES[failure]
    dsn = make(login)
    args = [a.replace("{dsn}", dsn).replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    result = run_cli(*args)
    message = assert_error(result, 2 if failure == "bad url" else 3)
    assert says in message or failure == "bad url", message
    assert list(tmp_path.iterdir()) == []  # no report, no contract from a failed run
    assert_no_password(login, result, logs=log_lines(caplog))


@pytest.mark.parametrize("failure", ["wrong password", "bad url"])
@pytest.mark.parametrize("command", ["mirror seed", "contracts snapshot", "drift", "check"])
def test_debug_tracebacks_never_show_the_password(
    login: Login, tmp_path: Path, command: str, failure: str
) -> None:
    dsn = FAILURES[failure][0](login)
    args = [a.replace("{dsn}", dsn).replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    result = billig("--debug", *args, env=cli_env())
    assert result.code != 0
    assert_no_password(login, result)


# --------------------------------------------------------------------------- written raw

# Passwords written into a URL without URL-encoding. libpq reads a part of each as the host or the
# port, which is how fragments reached messages ("cannot connect to u2@2024@127.0.0.1", "port
# 'Sec' is not a number"). Every piece holds a token of its own, so any fragment is found.
RAW_PASSWORDS = {
    "an @": "Secret{0}@2024{1}",
    "a /": "Sec{0}/ret2024{1}",
    "@ : / % # ? & = and a space": "Gj{0}@Qx{1}:Zq{2}/Wv{3}%#?&= Vy{4}",
}


def _raw(login: Login, shape: str) -> tuple[str, list[str]]:
    """A URL with a password written raw, and the tokens of its pieces."""
    tokens = [f"{secrets.token_hex(3)}" for _ in range(5)]
    password = RAW_PASSWORDS[shape].format(*tokens)
    host = f"{login.prod.host}:{login.prod.port}"
    dsn = f"postgresql://{login.role}:{password}@{host}/{login.prod.database}"
    return dsn, [t for t in tokens if t in password]


@pytest.mark.parametrize("shape", RAW_PASSWORDS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_password_written_raw_is_a_usage_error_masked_whole(
    login: Login, run_cli, caplog, tmp_path: Path, command: str, shape: str
) -> None:
    dsn, tokens = _raw(login, shape)
    args = [a.replace("{dsn}", dsn).replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    result = run_cli(*args)
    host = f"{login.prod.host}:{login.prod.port}"
    message = assert_error(result, 2, f"malformed DSN postgresql://***@{host}/", "URL-encoded")
    assert login.role not in message  # the user name is masked with the rest
    texts = [result.out, result.err, *log_lines(caplog)]
    for token in tokens:
        assert not any(token in text for text in texts), f"a fragment of the password: {message}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape", RAW_PASSWORDS)
@pytest.mark.parametrize("command", ["drift", "contracts snapshot", "mirror seed"])
def test_a_password_written_raw_leaves_no_fragment_in_a_debug_traceback(
    login: Login, tmp_path: Path, command: str, shape: str
) -> None:
    dsn, tokens = _raw(login, shape)
    args = [a.replace("{dsn}", dsn).replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    for env in (cli_env(), cli_env(BILLIG_PROD_DSN=dsn)):
        result = billig("--debug", *args, env=env)
        assert result.code == 2, result
        assert "Traceback" in result.err
        for token in tokens:
            assert token not in result.output, result.err


def test_a_password_written_raw_in_the_environment_is_masked_whole(login: Login, run_cli) -> None:
    dsn, tokens = _raw(login, "@ : / % # ? & = and a space")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BILLIG_PROD_DSN", dsn)
        result = run_cli("drift", "--connect-timeout", "3")
    assert_error(result, 2, "malformed DSN postgresql://***@")
    assert not any(token in result.output for token in tokens)


# --------------------------------------------------------------------------- bugs


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "--debug"])
@pytest.mark.parametrize(
    ("raised", "code", "says"),
    [
        (lambda text: RuntimeError(f"a bug that shows {text}"), 70, "internal error: RuntimeError"),
        (
            lambda text: psycopg2.OperationalError(f"server at {text} closed the connection"),
            3,
            "error: lost the database connection",
        ),
    ],
    ids=["bug", "connection lost"],
)
def test_an_exception_that_carries_the_dsn_is_scrubbed_even_with_debug(
    login: Login,
    run_cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    raised: Callable[[str], Exception],
    code: int,
    says: str,
    debug: bool,
) -> None:
    """A library (or a bug of ours) that puts the DSN, or the bare password, into a message."""
    import mirror.contracts.snapshot

    dsn = login.dsn()

    def broken(*args: object, **kwargs: object) -> None:
        raise raised(f"{dsn} (password {login.password}, {quote(login.password, safe='')})")

    monkeypatch.setattr(mirror.contracts.snapshot, "snapshot_database", broken)
    args = ["contracts", "snapshot", "--dsn", dsn, "--schema", "billig", "--output", "x.json"]
    result = run_cli(*(["--debug", *args] if debug else args))
    assert result.code == code, result
    assert says in result.err.splitlines()[-1]
    assert ("Traceback (most recent call last)" in result.err) is debug
    assert_no_password(login, result)


# --------------------------------------------------------------------------- short passwords

_WORDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)


@given(
    password=st.text(alphabet=string.ascii_letters + string.digits + "!#%-_.~", min_size=1),
    words=st.lists(_WORDS, min_size=1, max_size=8),
)
def test_a_password_is_masked_wherever_it_stands_as_a_value_and_other_words_stay(
    password: str, words: list[str]
) -> None:
    message = " ".join([*words, f"with {password},", f"'{password}'", "done"])
    scrubbed = scrub(message, password)
    assert password not in scrubbed.replace(",", " ").replace("'", " ").split()
    # Every other word reads as it was, also one holding the password inside it.
    assert scrubbed.split()[: len(words)] == [MASK if w == password else w for w in words]


def test_a_one_letter_password_masks_the_value_not_every_letter(run_cli) -> None:
    assert scrub("connect as o with o: o rejected", "o") == "connect as *** with ***: *** rejected"
    result = run_cli("mirror", "seed", "--dsn", "postgresql://u:o@127.0.0.1:1/billig")
    message = assert_error(result, 3)
    assert "connection to server" in message and "port 1 failed" in message, message
    assert "postgresql://u:***@127.0.0.1:1/billig" in message
