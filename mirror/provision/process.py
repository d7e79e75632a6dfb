"""Processes that die with the harness: the reaper, announced process groups, guarded commands.

A provider announces to its reaper (``watchdog.py``) what it creates; when the harness is
killed outright the reaper removes it. :func:`run_guarded` runs a user's command that way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from mirror.provision.watchdog import start_time, stop_group

_REAPER_SCRIPT = Path(__file__).with_name("watchdog.py")


@contextlib.contextmanager
def reaper() -> Iterator[Callable[[str], None]]:
    """Start the watchdog and yield a function announcing what it must remove if we die.

    Leaving the context closes the pipe: the reaper then removes only what still exists, which
    after our own cleanup is nothing. Best effort: without a Python executable there is none.
    """
    read_fd, write_fd = os.pipe()
    reaper: subprocess.Popen[bytes] | None = None
    try:
        if sys.executable:
            reaper = subprocess.Popen(
                [sys.executable, "-I", str(_REAPER_SCRIPT)],
                stdin=read_fd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
    except OSError:
        reaper = None
    finally:
        os.close(read_fd)

    def announce(line: str) -> None:
        if reaper is not None:
            with contextlib.suppress(OSError):
                os.write(write_fd, (line + "\n").encode())

    try:
        yield announce
    finally:
        os.close(write_fd)
        if reaper is not None:
            # After our own cleanup it finds nothing to do and ends at once.
            with contextlib.suppress(subprocess.TimeoutExpired):
                reaper.wait(timeout=5)


# The leader of a process group that is announced to the reaper before anything runs in it. It
# only waits, and dies with the harness (PR_SET_PDEATHSIG); the reaper then ends its group.
_GROUP_LEADER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != int(sys.argv[1]):\n    sys.exit()\n"
    "signal.pause()\n"
)


@contextlib.contextmanager
def announced_group(announce: Callable[[str], None], kind: str = "group") -> Iterator[int]:
    """A process group the reaper knows of before anything runs in it; yields its id.

    A process started with ``process_group=`` this id is stopped (with everything it started)
    by the reaper if we are killed, however soon after starting it that happens: a ``group`` is
    asked to end (SIGTERM) first, a ``kill`` group is killed outright.
    """
    leader = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _GROUP_LEADER, str(os.getpid())],
        process_group=0, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        announce(f"{kind} {leader.pid} {start_time(leader.pid) or ''}".rstrip())
        yield leader.pid
    finally:
        leader.kill()
        leader.wait()


def run_guarded(args: list[str], env: Mapping[str, str]) -> int:
    """Run a command to its end and return its exit code (128 + N when signal N ended it).

    The command runs in a process group of its own, known to a reaper of its own: when we are
    killed outright, the group is killed with the mirror it was using instead of running on
    against nothing; interrupted (SIGTERM, Ctrl-C), we stop the group before tearing down. On a
    terminal the group becomes the foreground, as a shell makes a job, so the command reads the
    terminal and gets the terminal's Ctrl-C. Raises FileNotFoundError for an unknown command.
    """
    tty = _foreground_tty()
    with reaper() as announce, announced_group(announce) as group:
        proc = subprocess.Popen(
            args, env=dict(env), process_group=group,
            preexec_fn=(lambda: _give_terminal(tty, group)) if tty is not None else None,
        )  # fmt: skip
        try:
            if tty is not None:
                _give_terminal(tty, group)
            code = proc.wait()
        except BaseException:
            stop_group(group, start_time(group), grace=5)
            proc.wait()
            raise
        finally:
            if tty is not None:
                _give_terminal(tty, os.getpgrp())
    return 128 - code if code < 0 else code


def _foreground_tty() -> int | None:
    """Our stdin's terminal, when our process group is its foreground; else None."""
    try:
        fd = sys.stdin.fileno()
        return fd if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp() else None
    except (OSError, ValueError, AttributeError):
        return None


def _give_terminal(fd: int, pgid: int) -> None:
    # A background group may change the foreground only with SIGTTOU ignored.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, pgid)
    finally:
        signal.signal(signal.SIGTTOU, previous)
