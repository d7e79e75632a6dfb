"""The one exception hierarchy of the harness; every error maps to a documented exit code.

The CLI prints ``str(error)`` on one line (a traceback only with ``--debug``). Messages never
contain secrets: build them from :func:`mirror.secrets.redact`-ed values.
"""

from __future__ import annotations

# Exit codes, documented in the README. Drift/contract mismatches are results, not errors.
EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code: int = EXIT_USAGE


class UsageError(HarnessError):
    """Bad command-line arguments or options."""


class ConfigError(UsageError):
    """The ``[tool.billig]`` configuration is malformed or names something that does not exist."""


class ObservationError(HarnessError):
    """Site code failed on the seeded mirror (it raised, or read a column the mirror lacks).

    The observed checks turn it into a failed check naming the model, the row and the exception.
    """

    exit_code = 1


class ContractError(HarnessError):
    """A contract, snapshot or policy file is missing, malformed or inconsistent."""


class PolicyError(ContractError):
    """The drift policy file is malformed."""


class SchemaLoadError(HarnessError):
    """``schema/billig.sql`` (or another DDL file) failed to load; names statement and line."""


class DatabaseError(HarnessError):
    """The database could not be reached or read: never a clean verdict."""

    exit_code = EXIT_UNREACHABLE


class DatabaseUnreachable(DatabaseError):
    """Connection refused, DNS failure, wrong password, TLS required, connect timeout."""


class IntrospectionError(DatabaseError):
    """The catalog could not be read completely (timeout, lost connection, permissions)."""


class ProviderError(DatabaseError):
    """No throwaway PostgreSQL could be provisioned."""
