"""A client-side bound on every use of a pooled database connection: late sockets are cut.

Server-side timeouts (``statement_timeout``, ``lock_timeout``) stop slow statements, but a server
that no longer runs at all (a frozen process, a stopped virtual machine) answers nothing, and
TCP keepalives do not notice while the peer's kernel still acknowledges. :func:`bound_engine`
arms a timer whenever the pool hands out a connection and disarms it when the connection comes
back; a connection still out when its timer fires has its socket shut down, so the blocked call
fails at once with a disconnect error and the pool discards that connection. The check of a
pooled connection before use (instead of SQLAlchemy's ``pool_pre_ping``, which runs before any
hook could bound it) runs under the same timer. Works for TCP and Unix-domain sockets alike.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError


class _Deadlines:
    """One timer per connection that is out of the pool; expiry cuts its socket."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[object, threading.Timer]] = {}

    def arm(self, dbapi_conn: Any) -> None:
        token = object()
        timer = threading.Timer(self.seconds, self._expire, (dbapi_conn, token))
        timer.daemon = True
        with self._lock:
            previous = self._armed.get(id(dbapi_conn))
            self._armed[id(dbapi_conn)] = (token, timer)
        if previous is not None:
            previous[1].cancel()
        timer.start()

    def disarm(self, dbapi_conn: Any) -> None:
        with self._lock:
            entry = self._armed.pop(id(dbapi_conn), None)
        if entry is not None:
            entry[1].cancel()

    def _expire(self, dbapi_conn: Any, token: object) -> None:
        # Under the lock, so that a connection disarmed (and maybe handed out again) meanwhile
        # is never cut by a timer of an earlier use.
        with self._lock:
            entry = self._armed.get(id(dbapi_conn))
            if entry is None or entry[0] is not token:
                return
            del self._armed[id(dbapi_conn)]
            _cut(dbapi_conn)


def _cut(dbapi_conn: Any) -> None:
    """Shut the connection's socket down: a call blocked on it returns with an error."""
    with contextlib.suppress(Exception):  # already closed: nothing is waiting on it
        duplicate = socket.socket(fileno=os.dup(dbapi_conn.fileno()))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)  # acts on the socket the connection shares
        finally:
            duplicate.close()


def _ping(dbapi_conn: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_conn.rollback()  # session settings such as read-only are set outside a transaction


def bound_engine(engine: Engine, seconds: float) -> Engine:
    """Bound every use of ``engine``'s pooled DB-API connections to ``seconds`` (see module).

    Use it on an engine created with ``pool_pre_ping=False``: the check before use is done
    here, under the bound; a connection that fails it is replaced (``DisconnectionError``).
    """
    deadlines = _Deadlines(seconds)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, record: Any) -> None:
        record.info["billig_fresh"] = True  # just connected: no need to check it

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        deadlines.arm(dbapi_conn)
        if record.info.pop("billig_fresh", False):
            return
        try:
            _ping(dbapi_conn)
        except Exception as exc:
            deadlines.disarm(dbapi_conn)
            raise DisconnectionError(f"pooled connection failed its check: {exc}") from exc

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_conn: Any, record: Any) -> None:
        if dbapi_conn is not None:
            deadlines.disarm(dbapi_conn)

    @event.listens_for(engine, "invalidate")
    def on_invalidate(dbapi_conn: Any, record: Any, exception: BaseException | None) -> None:
        if dbapi_conn is not None:
            deadlines.disarm(dbapi_conn)

    return engine
