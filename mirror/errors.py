"""The one exception hierarchy of the harness, and the one table of its exit codes.

The CLI prints ``str(error)`` on one line (a traceback only with ``--debug``) and exits with
:func:`exit_code_of` the error: its type decides, never the text of its message. Messages never
contain secrets: build them from :func:`mirror.secrets.redact`-ed values.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

# Exit codes, documented in the README. Drift/contract mismatches are results, not errors.
EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


EXIT_INTERNAL = 70  # a bug: no bad input ever ends here
EXIT_INTERRUPTED = 130


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    @property
    def exit_code(self) -> int:
        return exit_code_of(self)

    def lines(self) -> list[str]:
        """The message as printed: one line."""
        return [" ".join(str(self).split())]


class UsageError(HarnessError):
    """Bad command-line arguments or options."""


class ConfigError(UsageError):
    """The ``[tool.billig]`` configuration is malformed or names something that does not exist."""


class ObservationError(HarnessError):
    """Site code failed on the seeded mirror (it raised, or read a column the mirror lacks).

    The observed checks turn it into a failed check naming the model, the row and the exception.
    """


class ContractError(HarnessError):
    """A contract, snapshot or policy file is missing, malformed or inconsistent."""


class PolicyError(ContractError):
    """The drift policy file is malformed."""


class SchemaLoadError(HarnessError):
    """``schema/billig.sql`` (or another DDL file) failed to load; names statement and line."""


class DatabaseError(HarnessError):
    """The database could not be reached or read: never a clean verdict."""


class DatabaseUnreachable(DatabaseError):
    """Connection refused, DNS failure, wrong password, TLS required, connect timeout."""


class IntrospectionError(DatabaseError):
    """The catalog could not be read completely (timeout, lost connection, permissions)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider ``auto`` tried, and why it did not start."""

    provider: str
    reason: str


class ProviderError(DatabaseError):
    """No throwaway PostgreSQL could be provisioned; ``attempts`` are what ``auto`` tried."""

    def __init__(self, message: str, attempts: Sequence[Attempt] = ()) -> None:
        super().__init__(message)
        self.attempts = tuple(attempts)

    def lines(self) -> list[str]:
        # The list of attempts keeps one line per provider: each names its own fix.
        if not self.attempts:
            return super().lines()
        return str(self).splitlines()


# Exit code by error type; the most specific type of an error's class hierarchy wins. Drivers'
# connection errors are named by module and type, so that none is imported to build the table.
EXIT_CODES: dict[str, int] = {
    "mirror.errors.HarnessError": EXIT_USAGE,
    "mirror.errors.ObservationError": EXIT_DRIFT,
    "mirror.errors.DatabaseError": EXIT_UNREACHABLE,
    "psycopg2.OperationalError": EXIT_UNREACHABLE,
    "psycopg2.InterfaceError": EXIT_UNREACHABLE,
    "sqlalchemy.exc.OperationalError": EXIT_UNREACHABLE,
    "sqlalchemy.exc.InterfaceError": EXIT_UNREACHABLE,
    "builtins.KeyboardInterrupt": EXIT_INTERRUPTED,
    # click's own: a bad option or argument is a usage error; Ctrl-C at a prompt an interrupt.
    "click.exceptions.ClickException": EXIT_USAGE,
    "click.exceptions.Abort": EXIT_INTERRUPTED,
}


def exit_code_of(error: BaseException) -> int:
    """The documented exit code of ``error`` (:data:`EXIT_INTERNAL` for a type not in the table).

    A driver error counts only when its module is loaded: a command that never loaded a driver
    cannot have raised its errors.
    """
    for cls in type(error).__mro__:
        code = EXIT_CODES.get(f"{cls.__module__}.{cls.__qualname__}")
        if code is not None:
            return code
    for name, code in EXIT_CODES.items():
        module, _, attr = name.rpartition(".")
        driver_type = getattr(sys.modules.get(module), attr, None)
        if isinstance(driver_type, type) and isinstance(error, driver_type):
            return code
    return EXIT_INTERNAL


def database_failure(error: BaseException) -> BaseException | None:
    """The database driver's error behind ``error`` (through ``raise … from``, an exception
    raised while handling another, and the ``orig`` that ORMs wrap) when it is one that means the
    database failed (lost, shut down, timed out: exit 3), else None.

    Site code reaching the mirror through an ORM raises the ORM's own exception type; what
    happened is in the driver's error behind it.
    """
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if not isinstance(current, HarnessError) and exit_code_of(current) == EXIT_UNREACHABLE:
            return current
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return None
