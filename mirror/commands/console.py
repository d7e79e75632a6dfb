"""What a command talks to: where its lines go, and SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import Protocol


class Echo(Protocol):
    """Prints one message (``click.echo`` is one): stdout, or stderr with ``err``."""

    def __call__(
        self, message: str, *, err: bool = False, nl: bool = True, color: bool | None = None
    ) -> None: ...


def echo(message: str, *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """The default :class:`Echo`: the text as given (colour is decided by whoever renders it)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + ("\n" if nl else ""))
    stream.flush()


def echo_warnings(out: Echo, warnings: Iterable[object]) -> None:
    """Located warnings (what the seed filled or left out), one line each, on stderr."""
    for warning in warnings:
        out(str(warning), err=True)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C so that `kill` also tears a mirror down."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
