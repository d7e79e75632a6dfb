"""Progress of long steps (seeding many events, reading a huge catalog, starting a server).

Library code marks a step with :func:`step` and reports how far it got through the function it
yields; that costs nothing unless a command line turned reporting on with :func:`reporting`.
Then a step still running after :data:`DELAY_S` seconds (``BILLIG_PROGRESS_DELAY`` overrides)
shows one transient status line with its label and elapsed time on stderr, and only when stderr
is a terminal and ``CI`` is not set: logs, pipes and CI stay quiet. Steps nest; the innermost
one is shown.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, Any

# A step shorter than this shows nothing: a flash of text for every quick command is noise.
DELAY_S = 2.0

Update = Callable[[str], None]


@dataclass
class _Reporter:
    stream: IO[str]
    delay_s: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    labels: list[tuple[str, float]] = field(default_factory=list)  # (label, started) per step
    status: Any = None  # rich's Status while one is shown
    timer: threading.Timer | None = None

    def __rich__(self) -> str:
        # Rendered again on every refresh of the status line: the elapsed time keeps counting.
        if not self.labels:
            return ""
        label, started = self.labels[-1]
        return f"{label} ({time.monotonic() - started:.0f} s)"

    def show(self) -> None:
        with self.lock:
            if not self.labels or self.status is not None:
                return
            from rich.console import Console

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self.status = console.status(self, spinner="dots", refresh_per_second=4)
            self.status.start()

    def hide(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.status is not None:
                self.status.stop()
                self.status = None


_current: ContextVar[_Reporter | None] = ContextVar("billig_progress", default=None)


def enabled(stream: IO[str], environ: Mapping[str, str]) -> bool:
    """Progress goes to terminals only, never into CI logs or pipes."""
    if environ.get("CI") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextlib.contextmanager
def reporting(
    stream: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    delay_s: float = DELAY_S,
) -> Iterator[None]:
    """Show the progress of steps run inside, when ``stream`` (default stderr) is a terminal."""
    import os

    out = stream if stream is not None else sys.stderr
    env = os.environ if environ is None else environ
    if not enabled(out, env):
        yield
        return
    from mirror.config import variable

    configured = variable("BILLIG_PROGRESS_DELAY", env)
    delay_s = delay_s if configured is None else configured
    reporter = _Reporter(out, delay_s)
    token = _current.set(reporter)
    try:
        yield
    finally:
        _current.reset(token)
        reporter.hide()


@contextlib.contextmanager
def step(label: str) -> Iterator[Update]:
    """Mark a step; the function yielded replaces its label (e.g. with a count so far)."""
    reporter = _current.get()
    if reporter is None:
        yield _ignore
        return
    # Replacing the label is cheap enough to call per row batch: the status line reads it.
    index = len(reporter.labels)
    reporter.labels.append((label, time.monotonic()))

    def update(text: str) -> None:
        if len(reporter.labels) > index:
            reporter.labels[index] = (text, reporter.labels[index][1])

    if index == 0:
        reporter.timer = threading.Timer(reporter.delay_s, reporter.show)
        reporter.timer.daemon = True
        reporter.timer.start()
    try:
        yield update
    finally:
        del reporter.labels[index:]
        if index == 0:
            reporter.hide()


def _ignore(text: str) -> None:
    """What :func:`step` yields when nothing is reported."""
