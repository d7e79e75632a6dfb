"""Serving a site's ASGI app with uvicorn: in the foreground, or in a thread for a command.

uvicorn comes with the ``serve`` extra, not with the harness: :func:`require_server` says so
before anything starts. The socket is bound up front, so port 0 works and the URL is known
before the first request; :class:`BackgroundServer` runs uvicorn in a thread for running a
command such as the Schemathesis CLI against it; :func:`serve_forever` runs it in the foreground
until Ctrl-C.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from mirror.errors import UsageError

READY_TIMEOUT = 15.0
SERVE_EXTRA = "pip install 'billig-harness[serve]'"


def require_server() -> None:
    """Refuse (exit 2) when the ``serve`` extra is missing, before a mirror is started for it."""
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(f"billig serve needs the serve extra (uvicorn): {SERVE_EXTRA}") from None


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
