"""The bounded read session: one read-only, repeatable-read transaction that never hangs.

Every catalog read of the harness (introspection, view definitions) runs in a
:class:`ReadSession`: ``session.sql`` sets statement, lock and idle timeouts and a fixed
``search_path``; the client gives every statement the statement timeout plus a grace to be
answered and then shuts the socket down, and TCP keepalives notice a peer that is gone. The
bounds are one value, :class:`Timeouts`. Driver errors become one-line
:class:`~mirror.errors.IntrospectionError` (exit 3) or
:class:`~mirror.errors.DatabaseUnreachable`, never with the password.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import DatabaseUnreachable, IntrospectionError, UsageError
from mirror.secrets import scrub

DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
DEFAULT_LOCK_TIMEOUT_MS = 2_000
DEFAULT_IDLE_TIMEOUT_MS = 30_000
DEFAULT_CONNECT_TIMEOUT_S = 10.0
APPLICATION_NAME = "billig-harness introspect"
# The client's bounds on top of the server's (see Timeouts): the grace after statement_timeout
# for an answer, and TCP keepalives (seconds; count of unanswered probes).
ANSWER_GRACE_S = 3.0
KEEPALIVE_IDLE_S = 5
KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3


Connection = psycopg2.extensions.connection
Target = str | Dsn | SqlAlchemyUrl | Connection


@cache
def statement_sql(name: str) -> str:
    """The text of ``mirror/sources/sql/<name>.sql``."""
    return (
        resources.files("mirror.sources").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    )


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long one read may take: the session's server-side timeouts and the client's own.

    The server cancels a statement after ``statement_ms`` and a lock wait after ``lock_ms``, but
    only a server that still answers does. So the client gives every statement
    :attr:`answer_s` (the statement timeout plus :data:`ANSWER_GRACE_S`) to be answered and then
    abandons the connection; TCP keepalives and ``tcp_user_timeout`` make the kernel notice a
    peer that is gone. A frozen backend or a network partition is then exit 3 within the
    configured timeouts plus a few seconds, never a hang. ``connect_s`` bounds connecting.
    """

    statement_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    lock_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    idle_ms: int = DEFAULT_IDLE_TIMEOUT_MS

    def __post_init__(self) -> None:
        for name in ("statement_ms", "lock_ms", "idle_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise UsageError(f"{name} must be a positive number of milliseconds, not {value!r}")
        limit = self.connect_s
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0:
            raise UsageError(f"connect_s must be positive, not {limit!r}")

    @property
    def answer_s(self) -> float:
        """Seconds the client waits for the answer to one statement before giving up."""
        return self.statement_ms / 1000 + ANSWER_GRACE_S

    def session_args(self) -> dict[str, int]:
        """The parameters of ``session.sql``."""
        return {
            "statement_timeout_ms": self.statement_ms,
            "lock_timeout_ms": self.lock_ms,
            "idle_timeout_ms": self.idle_ms,
        }


class ReadSession:
    """One read-only, repeatable-read transaction with bounded waits, already opened.

    :meth:`run` sends one statement of ``sql/`` (or generated SQL) and returns its rows; every
    statement must be answered within the bounds' :attr:`Timeouts.answer_s`, or the connection is
    shut down under it. :meth:`failure` words a driver error as the one-line error of the read.
    """

    def __init__(
        self, conn: Connection, bounds: Timeouts, what: str, where: str, secret: str | None
    ) -> None:
        self.conn = conn
        self.bounds = bounds
        self.what = what
        self.where = where
        self.secret = secret
        self.sent: list[str] = []
        self.abandoned = False

    def run(self, name: str, args: Mapping[str, Any] | None = None, *, sql: str = "") -> list[Any]:
        """Rows of statement ``name`` (the text of ``sql/<name>.sql`` unless ``sql`` is given)."""
        self.sent.append(name)
        with self.conn.cursor() as cur, _answered_within(self):
            values = None if args is None else _literal_arrays(dict(args))
            cur.execute(sql or statement_sql(name), values)
            return cur.fetchall() if cur.description is not None else []

    def failure(self, exc: psycopg2.Error) -> IntrospectionError:
        detail = one_line(exc, self.secret)
        bounds = self.bounds
        if self.abandoned:
            why = (
                f"the server did not answer within {bounds.answer_s:g} s (statement_timeout "
                f"{bounds.statement_ms} ms plus {ANSWER_GRACE_S:g} s), so the connection "
                "was given up"
            )
            return IntrospectionError(f"{self.what} of {self.where} failed, {why}")
        if isinstance(exc, psycopg2.errors.LockNotAvailable):
            why = f"waited longer than lock_timeout ({bounds.lock_ms} ms) for a lock"
        elif isinstance(exc, psycopg2.errors.QueryCanceled):
            limit = bounds.statement_ms
            why = f"a statement was cancelled (statement_timeout is {limit} ms)"
        elif isinstance(exc, psycopg2.errors.InsufficientPrivilege):
            why = "the login lacks a privilege"
        elif isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
            why = "the connection was lost"
        else:
            why = "a catalog statement failed"
        return IntrospectionError(f"{self.what} of {self.where} failed, {why}: {detail}")


@contextlib.contextmanager
def read_session(
    target: Target, bounds: Timeouts | None = None, *, what: str = "reading the catalog"
) -> Iterator[ReadSession]:
    """A :class:`ReadSession` on ``target``, rolled back (and its own connection closed) after.

    Every driver error inside becomes an :class:`~mirror.errors.IntrospectionError` (exit 3)
    naming ``what``; connecting fails as :class:`~mirror.errors.DatabaseUnreachable`.
    """
    bounds = bounds or Timeouts()
    with _connection(target, bounds) as (conn, secret):
        session = ReadSession(conn, bounds, what, _where(conn), secret)
        try:
            session.run("session", bounds.session_args())
            yield session
        except psycopg2.Error as exc:
            raise session.failure(exc) from None
        finally:
            # Read-only anyway; rolling back also ends the transaction of a borrowed connection.
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()


class _Severer:
    """Shuts a session's socket down when its statement is not answered in time.

    A frozen backend keeps its TCP connection open (the kernel still acknowledges), so neither
    keepalives nor the server's own timeouts end the wait; shutting the socket down makes the
    blocked read return at once. The lock keeps it from touching a connection that moved on.
    """

    def __init__(self, session: ReadSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._done = False

    def sever(self) -> None:
        with self._lock:
            if self._done:
                return
            self._session.abandoned = True
            with contextlib.suppress(OSError, psycopg2.Error):
                fd = self._session.conn.fileno()
                with socket.socket(fileno=os.dup(fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self._lock:
            self._done = True


@contextlib.contextmanager
def _answered_within(session: ReadSession) -> Iterator[None]:
    severer = _Severer(session)
    timer = threading.Timer(session.bounds.answer_s, severer.sever)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        severer.finish()
        timer.cancel()


def _literal_arrays(args: dict[str, Any]) -> dict[str, Any]:
    """Lists as PostgreSQL array literals (``'{"a","b"}'``), one constant each.

    psycopg2 sends a list as ``ARRAY['a', 'b', …]``, an expression the server parses and plans
    element by element: with 2,000 relations in scope that was a quarter of a statement's time.
    Every element is quoted, so any name (quotes, backslashes, commas, braces) survives.
    """
    return {key: _array(value) if isinstance(value, list) else value for key, value in args.items()}


def _array(values: list[Any]) -> str:
    # Every element quoted, quotes and backslashes escaped: any name survives.
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


@contextlib.contextmanager
def _connection(target: Target, bounds: Timeouts) -> Iterator[tuple[Connection, str | None]]:
    """An idle connection in transaction mode, and the password to scrub from messages."""
    if isinstance(target, Connection):
        yield from _borrowed(target)
        return
    dsn = _dsn_of(target)
    params = connect_params(dsn, bounds.connect_s, bounds)
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {dsn.where}: {one_line(exc, dsn.password)}"
        ) from None
    try:
        yield conn, dsn.password
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.close()


def _dsn_of(target: object) -> Dsn:
    if isinstance(target, str | Dsn) or hasattr(target, "render_as_string"):
        return Dsn.of(target)
    raise UsageError(f"cannot introspect a {type(target).__name__}: give a DSN or URL")


def _borrowed(conn: Connection) -> Iterator[tuple[Connection, str | None]]:
    if conn.closed:
        raise IntrospectionError("cannot introspect: the connection is closed")
    status = conn.info.transaction_status
    if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        raise UsageError(
            "cannot introspect on a connection inside a transaction: commit or roll back first"
        )
    secret = conn.info.password or None
    autocommit = conn.autocommit
    conn.autocommit = False  # the session statement needs a transaction to apply to
    try:
        yield conn, secret
    finally:
        if not conn.closed:
            with contextlib.suppress(psycopg2.Error):
                conn.autocommit = autocommit


def connect_params(
    target: str | Dsn | SqlAlchemyUrl, connect_timeout_s: float, bounds: Timeouts | None = None
) -> dict[str, Any]:
    """psycopg2 keyword arguments for a DSN or URL: read-only by default, bounded connect.

    With ``bounds``, also the client-side bounds of a read (keepalives, ``tcp_user_timeout``).
    """
    params: dict[str, Any] = Dsn.of(target).params()
    options = params.get("options", "")
    params["options"] = f"{options} -c default_transaction_read_only=on".strip()
    # libpq takes whole seconds (and treats 1 as 2); never round a short timeout down to 0.
    params["connect_timeout"] = max(1, math.ceil(connect_timeout_s))
    params.setdefault("application_name", APPLICATION_NAME)
    params.setdefault("client_encoding", "UTF8")
    if bounds is not None:
        params.update(client_bounds(bounds.answer_s))
    return params


def client_bounds(answer_s: float) -> dict[str, int]:
    """libpq settings that make the kernel give up on a peer that is gone (TCP only).

    Keepalives probe an idle connection; ``tcp_user_timeout`` ends one whose data stays
    unacknowledged for ``answer_s`` (a network partition in the middle of a statement).
    """
    return {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_S,
        "keepalives_interval": KEEPALIVE_INTERVAL_S,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": math.ceil(answer_s * 1000),
    }


def one_line(exc: BaseException, secret: str | None) -> str:
    # The server's primary message, without the statement excerpt psycopg2 appends.
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc)
    return scrub(" ".join(text.split()) or type(exc).__name__, secret)


def _where(conn: Connection) -> str:
    info = conn.info
    return Dsn.from_params(
        {"user": info.user, "host": info.host, "port": info.port, "dbname": info.dbname}
    ).where
