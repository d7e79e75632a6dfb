"""The thin CLI: commands are library functions, and an error's type alone decides its exit code."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mirror.cli.failure import report_failure
from mirror.commands.config import show_config
from mirror.commands.drift import run_drift
from mirror.commands.mirror import mirror_seed
from mirror.errors import (
    EXIT_INTERNAL,
    Attempt,
    ConfigError,
    ContractError,
    DatabaseUnreachable,
    HarnessError,
    IntrospectionError,
    ObservationError,
    PolicyError,
    ProviderError,
    SchemaLoadError,
    UsageError,
    exit_code_of,
)
from mirror.provision.mirror import Mirror


class Lines:
    """An Echo that keeps what a command printed."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []

    def __call__(
        self, message: str, *, err: bool = False, nl: bool = True, color: bool | None = None
    ) -> None:
        (self.err if err else self.out).append(message)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), 2),
        (ConfigError("x"), 2),
        (ContractError("x"), 2),
        (PolicyError("x"), 2),
        (SchemaLoadError("x"), 2),
        (HarnessError("x"), 2),
        (ObservationError("x"), 1),
        (DatabaseUnreachable("x"), 3),
        (IntrospectionError("x"), 3),
        (ProviderError("x"), 3),
        (ValueError("connection refused"), EXIT_INTERNAL),
        (KeyboardInterrupt(), 130),
    ],
)
def test_exit_codes_come_from_the_error_type(error: BaseException, code: int) -> None:
    assert exit_code_of(error) == code


def test_a_message_never_decides_the_exit_code() -> None:
    assert exit_code_of(RuntimeError("lost the connection to the server")) == EXIT_INTERNAL
    assert exit_code_of(UsageError("connection refused")) == 2


def test_driver_connection_errors_are_unreachable_once_the_driver_is_loaded() -> None:
    import psycopg2

    assert exit_code_of(psycopg2.OperationalError("server closed the connection")) == 3
    assert exit_code_of(psycopg2.ProgrammingError("syntax error")) == EXIT_INTERNAL


def test_a_provider_error_carries_its_attempts_and_prints_one_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    attempts = [Attempt("docker", "no engine"), Attempt("local", "no initdb")]
    message = "no provider worked; tried:\n  - docker: no engine\n  - local: no initdb"
    error = ProviderError(message, attempts)
    assert error.attempts == tuple(attempts)
    assert report_failure(error, []) == 3
    err = capsys.readouterr().err.splitlines()
    assert err == [f"billig: error: {line}" for line in message.splitlines()]


def test_any_other_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_failure(ContractError("bad\nfile   here"), []) == 2
    assert capsys.readouterr().err == "billig: error: bad file here\n"


def test_a_password_given_as_dsn_is_scrubbed_from_the_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = UsageError("the server said: password s3cr3t-pw is wrong")
    report_failure(error, ["drift", "--dsn", "postgresql://u:s3cr3t-pw@h/db"])
    assert "s3cr3t-pw" not in capsys.readouterr().err


def test_config_is_a_function_without_click(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.billig]\nevents = 7\n", encoding="utf-8")
    lines = Lines()
    assert show_config(lines, cwd=tmp_path) == 0
    assert lines.out[0] == f"pyproject: {tmp_path / 'pyproject.toml'}"
    assert any(line.startswith("events") and " 7 " in line for line in lines.out)


def test_click_usage_errors_and_aborts_are_in_the_table() -> None:
    import click

    assert exit_code_of(click.BadParameter("x")) == 2
    assert exit_code_of(click.ClickException("x")) == 2
    assert exit_code_of(click.exceptions.Abort()) == 130


def test_drift_is_a_function_without_click(billig_mirror: Mirror, project_root: Path) -> None:
    lines = Lines()
    code = run_drift(billig_mirror.full_url, contract=project_root / "contracts", out=lines)
    assert code == 0, lines.out
    assert "checked   9 relations" in "".join(lines.out)


def test_a_command_error_is_an_exception_not_an_exit(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--now 9999-12-31: must be from"):
        mirror_seed("postgresql://u@127.0.0.1:1/db", now=datetime(9999, 12, 31), out=Lines())
