"""Progress of long steps: a status line on a terminal, nothing in pipes, logs or CI."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import threading
import time

from mirror.progress import enabled, reporting, step


class Terminal(io.StringIO):
    """What a stream attached to a terminal looks like to the reporter."""

    def isatty(self) -> bool:
        return True


def _wait_for(stream: io.StringIO, text: str) -> str:
    deadline = time.monotonic() + 30
    while text not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    return stream.getvalue()


def test_a_long_step_shows_its_latest_label_on_a_terminal() -> None:
    out = Terminal()
    with reporting(out, environ={}, delay_s=0), step("seeding") as update:
        update("seeding: 5,000 of 200,000 events")
        shown = _wait_for(out, "seeding: 5,000 of 200,000 events")
    assert "seeding: 5,000 of 200,000 events" in shown


def test_the_innermost_step_is_shown() -> None:
    out = Terminal()
    with reporting(out, environ={}, delay_s=0), step("outer"), step("reading the catalog"):
        shown = _wait_for(out, "reading the catalog")
    assert "reading the catalog" in shown


def test_a_step_that_ends_before_the_delay_shows_nothing() -> None:
    out = Terminal()
    with reporting(out, environ={}, delay_s=3600), step("quick"):
        pass
    assert out.getvalue() == ""


def test_nothing_is_shown_in_ci_or_when_not_a_terminal() -> None:
    cases = ((Terminal(), {"CI": "true"}), (Terminal(), {"TERM": "dumb"}), (io.StringIO(), {}))
    for out, environ in cases:
        assert not enabled(out, environ)
        before = _timers()
        with reporting(out, environ=environ, delay_s=0), step("seeding") as update:
            update("seeding: 1 of 2")
            # No status line is ever scheduled (on a terminal, a timer thread would show it).
            assert _timers() == before
        assert out.getvalue() == ""


def test_a_terminal_schedules_the_status_line() -> None:
    out = Terminal()
    assert enabled(out, {})
    before = _timers()
    with reporting(out, environ={}, delay_s=3600), step("seeding"):
        assert _timers() == before + 1


def _timers() -> int:
    # Timers only: other threads of the test process come and go meanwhile. A cancelled timer's
    # thread ends a moment later; wait for those so the count does not drop under the test.
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    for timer in timers:
        if timer.finished.is_set():
            timer.join()
    return sum(t.is_alive() for t in timers)


def test_steps_outside_reporting_cost_nothing_and_show_nothing(capsys) -> None:
    with step("not reported") as update:
        update("still not reported")
    assert capsys.readouterr() == ("", "")


def _billig_on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``billig ARGS`` with stdin, stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mirror.cli", *args],
        stdin=follower, stdout=follower, stderr=follower, env=env,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the child is gone
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    return proc.returncode, seen.decode(errors="replace")


def test_billig_shows_progress_on_a_terminal_and_none_in_ci() -> None:
    args = ("mirror", "run", "--provider", "embedded", "--events", "5", "--", "true")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # A mirror from the cache starts in a blink, before any status line is drawn: the uncached
    # start (initdb) is the step long enough to be shown.
    env.update(BILLIG_PROGRESS_DELAY="0", TERM="xterm", BILLIG_CACHE="0")
    code, shown = _billig_on_a_terminal(*args, env=env)
    assert code == 0, shown
    assert "starting the embedded PostgreSQL server" in shown
    code, shown = _billig_on_a_terminal(*args, env={**env, "CI": "true"})
    assert code == 0, shown
    assert "starting the embedded PostgreSQL server" not in shown
