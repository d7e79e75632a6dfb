"""Running the site's code: site code is user code, and whatever it raises on import or when
called (``sys.exit()`` included) is a :class:`SiteError` (exit 2) naming the module, attribute or
method and the exception, its message scrubbed of secrets. When the database failed under it (a
lost connection, a shutdown, a timeout), that is no fault of the site: exit 3."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import ModuleType

from mirror.errors import ConfigError, DatabaseUnreachable, HarnessError, database_failure
from mirror.secrets import scrub


class SiteError(ConfigError):
    """Site code raised, exited, or returned a value the site source interface does not allow."""


def _described(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    detail = " ".join(str(exc).split())
    return f"raised {type(exc).__name__}" + (f": {scrub(detail)}" if detail else "")


@contextlib.contextmanager
def user_code(what: str) -> Iterator[None]:
    """Run site code: anything it raises but the harness's own errors and Ctrl-C (``SystemExit``
    and other ``BaseException`` included) becomes a :class:`SiteError` naming ``what``, or
    :class:`DatabaseUnreachable` when the database failed under it."""
    try:
        yield
    except (HarnessError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        failed = database_failure(exc)
        if failed is not None:
            raise DatabaseUnreachable(f"{what}: the database failed: {_described(failed)}") from exc
        raise SiteError(f"{what} {_described(exc)}") from exc


def import_user_module(name: str, what: str) -> ModuleType:
    """Import module ``name`` of the site (``what`` says which: "site", "URLconf" ...)."""
    with user_code(f"{what} module {name!r}"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
                raise SiteError(f"cannot import {what} module {name!r}: {exc}") from None
            raise
