"""How a failed command ends: one scrubbed line on stderr and the exit code of the error's type.

A traceback is printed only with ``--debug`` (scrubbed too). Nothing here reads the text of a
message to decide anything: the code is :func:`~mirror.errors.exit_code_of` the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import click

from mirror.config import secret_variables
from mirror.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    HarnessError,
    exit_code_of,
)
from mirror.report.printable import printable
from mirror.secrets import password_of, scrub, spellings


def report_failure(exc: BaseException, args: Sequence[str]) -> int:
    """Print what went wrong (one line, no secret) and return the exit code to end with."""
    debug = "--debug" in args
    code = exit_code_of(exc)
    if code == EXIT_INTERRUPTED:
        said = "aborted" if isinstance(exc, click.exceptions.Abort) else "interrupted"
        click.echo(f"billig: {said}", err=True)
        return code
    if isinstance(exc, click.ClickException):
        exc.show()  # click's usage errors: the option and what is wrong with it
        return code
    secrets = dsn_secrets(args)
    if isinstance(exc, HarnessError):
        lines = [f"billig: error: {line}" for line in exc.lines()]
    elif code == EXIT_UNREACHABLE:  # a driver's connection error where nothing expected it
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        lines = [f"billig: error: lost the database connection: {first}"]
    else:  # a bug: still no secrets and no traceback without --debug
        text = " ".join(str(exc).split())
        lines = [
            f"billig: internal error: {type(exc).__name__}: {text} "
            "(run with --debug for a traceback)"
        ]
        code = EXIT_INTERNAL
    if debug:
        import traceback

        trace = scrub("".join(traceback.format_exception(exc)), *secrets)
        click.echo(
            "".join(printable(line) + "\n" for line in trace.splitlines()), err=True, nl=False
        )
    for line in lines:  # names in messages may come from production: printed escaped
        click.echo(printable(scrub(line, *secrets)), err=True)
    return code


# Options whose value is a DSN (billig init reads production's catalog from --schema-from).
DSN_OPTIONS = ("--dsn", "--schema-from")


def dsn_secrets(args: Sequence[str]) -> list[str]:
    """Passwords of the DSNs given as options or in the environment, in every spelling."""
    candidates = secret_variables()
    for i, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if option in DSN_OPTIONS:
            if equals:
                candidates.append(value)
            elif i + 1 < len(args):
                candidates.append(args[i + 1])
    found: list[str] = []
    for dsn in candidates:
        with contextlib.suppress(Exception):
            found += spellings(password_of(dsn) if dsn else None)
    return found
