"""A running PostgreSQL server as the harness sees it, and connecting to one.

Every provider yields a :class:`Server`; :func:`wait_ready` is how the cluster and container
providers wait for theirs to accept connections.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import ProviderError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Prepared:
    """A server that started with the seeded template in place: ``origin`` is ``cache`` (a
    stored cluster was copied) or ``built`` (seeded now, and stored for the next run)."""

    origin: str
    meta: Mapping[str, Any]


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server we may create and drop databases in.

    ``dsn`` is the superuser (or database owner) DSN of the maintenance database; the
    ``*_url`` members give SQLAlchemy URLs for the parts built on SQLAlchemy.
    """

    provider: str
    dsn: Dsn
    detail: str = ""
    bindir: Path | None = None  # the server's programs (psql among them), when it runs here
    prepared: Prepared | None = None  # set when the provider built or reused the template

    @property
    def admin_url(self) -> URL:
        return self.dsn.sqlalchemy()

    def dsn_for(self, database: str) -> Dsn:
        return self.dsn.set(database=database)

    def url_for(self, database: str) -> URL:
        return self.dsn_for(database).sqlalchemy()

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        return connect_url(self.dsn_for(database) if database else self.dsn)

    def create_database(self, name: str, template: str | None = None) -> Dsn:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                cur.execute(stmt)
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def connect_url(url: str | Dsn | SqlAlchemyUrl, **kwargs: Any) -> psycopg2.extensions.connection:
    """psycopg2 connection for a DSN (text, :class:`~mirror.dsn.Dsn` or SQLAlchemy URL).

    libpq settings of the DSN (``sslmode``, ``sslrootcert``, ``options``, …) are kept:
    dropping them would, for one, connect without the TLS that ``sslmode=require`` demands.
    """
    params: dict[str, Any] = {"connect_timeout": 10, **Dsn.of(url).params(), **kwargs}
    return psycopg2.connect(**params)


def wait_ready(url: Dsn, died: Callable[[], object], log: Path | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if died():
            tail = []
            if log is not None and log.exists():
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ProviderError("postgres exited during start-up: " + " | ".join(tail))
        try:
            connect_url(url, connect_timeout=2).close()
            return
        except psycopg2.OperationalError as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            time.sleep(0.02)
    raise ProviderError(f"postgres did not accept connections within {READY_TIMEOUT:.0f}s: {last}")
