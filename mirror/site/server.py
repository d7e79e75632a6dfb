"""Running the API for real: its databases, and uvicorn in the foreground or in the background.

``billig serve`` reads Billig from ``--dsn`` (read-only) or from a fresh seeded mirror
(:func:`mirror.provision.mirror.start_mirror`), and the site's own data from ``--site-db`` or from a
temporary SQLite file seeded with site events that point into that Billig
(:func:`mirror.site.seed.seed_site`). :func:`api_backends` provides both and removes what it
made; :class:`BackgroundServer` runs uvicorn on a socket bound up front (so port 0 works and
the URL is known before the first request) in a thread, for running a command such as the
Schemathesis CLI against it; :func:`serve_forever` runs it in the foreground until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from mirror.errors import DatabaseUnreachable, UsageError
from mirror.provision.providers import ProviderOptions
from mirror.secrets import password_of, redact, scrub

SITE_SEED = 7
READY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Backends:
    """Where the API reads from; ``billig_shown``/``site_shown`` are safe to print."""

    billig: URL
    site: str
    billig_shown: str
    site_shown: str


def _billig_url(dsn: str) -> URL:
    try:
        url = make_url(dsn)
    except Exception:
        raise UsageError(f"not a database URL: {redact(dsn)}") from None
    if url.get_backend_name() != "postgresql":
        raise UsageError(f"Billig is PostgreSQL; got {url.get_backend_name()!r} in {redact(url)}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    return url


def billig_event_ids(url: URL) -> list[int]:
    """Every event id the web can see, read in one read-only statement."""
    engine = create_engine(url, execution_options={"postgresql_readonly": True})
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT event FROM billig.event_lim_web ORDER BY 1")))
    except SQLAlchemyError as exc:
        reason = scrub(str(getattr(exc, "orig", exc)).strip().splitlines()[0], password_of(url))
        raise DatabaseUnreachable(
            f"cannot read Billig events from {redact(url)}: {reason}"
        ) from None
    finally:
        engine.dispose()


def seed_site_file(path: Path, billig_url: URL, now: datetime | None = None) -> str:
    """A SQLite site database at ``path`` with site events pointing at Billig's events."""
    from mirror.site.seed import seed_site

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        seed_site(engine, billig_event_ids(billig_url), SITE_SEED, now=now)
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def api_backends(
    dsn: str | None = None,
    site_db: str | None = None,
    *,
    provider: str = "auto",
    options: ProviderOptions | None = None,
    events: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> Iterator[Backends]:
    """Billig (``dsn`` or a fresh seeded mirror) and the site database (``site_db`` or a
    seeded temporary SQLite file); everything created here is removed afterwards."""
    from mirror.provision.mirror import DEFAULT_EVENTS, DEFAULT_SEED, start_mirror

    with contextlib.ExitStack() as stack:
        if dsn:
            billig = _billig_url(dsn)
            shown = redact(billig)
        else:
            mirror = stack.enter_context(
                start_mirror(
                    provider,
                    events=DEFAULT_EVENTS if events is None else events,
                    seed=DEFAULT_SEED if seed is None else seed,
                    now=now,
                    options=options,
                )
            )
            billig = mirror.url
            shown = f"{mirror.masked_url} (fresh mirror, provider {mirror.provider})"
        if site_db:
            site, site_shown = site_db, redact(site_db)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billig-site-")))
            site = seed_site_file(folder / "site.sqlite3", billig, now)
            site_shown = f"{site} (temporary, seeded)"
        yield Backends(billig=billig, site=site, billig_shown=shown, site_shown=site_shown)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port); a clear error if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol spelled out: asyncio sets TCP_NODELAY on accepted connections only when it
    # reads IPPROTO_TCP here; without it every keep-alive response waits for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(app: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    return uvicorn.Server(config)


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM (uvicorn handles both)."""
    _server(app).run(sockets=[sock])


class BackgroundServer:
    """uvicorn serving ``app`` on ``sock`` in a thread; a context manager that waits until it
    answers and stops it on exit."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.sock = sock
        self.url = base_url(sock)
        self._server = _server(app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="billig-api", daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise UsageError(f"the API server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=READY_TIMEOUT)
        self.sock.close()
