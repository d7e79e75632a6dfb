"""The ``dsn`` provider: an existing server, where we only create and drop databases of our own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2

from mirror.dsn import Dsn
from mirror.errors import ProviderError
from mirror.provision.server import Server, connect_url
from mirror.secrets import scrub


@contextlib.contextmanager
def run_dsn(dsn: str) -> Iterator[Server]:
    """An existing server: we only create (and later drop) databases of our own in it."""
    url = Dsn.parse(dsn)
    try:
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_catalog.pg_roles"
                " WHERE rolname = current_user"
            )
            row = cur.fetchone()
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProviderError(
            f"cannot connect to {url.masked()}: {scrub(first, url.password)}"
        ) from None
    if not row or not row[0]:
        raise ProviderError(
            f"the login of {url.masked()} may not create databases (needs CREATEDB); the dsn "
            "provider creates a database of its own there and drops it afterwards"
        )
    yield Server(provider="dsn", dsn=url, detail=url.masked())
