"""The reaper: a watchdog process that removes a provider's server when the harness dies.

A provider cleans up after itself on normal exit, on exceptions and on Ctrl-C; a harness that is
killed outright (SIGKILL, the OOM killer, a CI timeout) cannot. So each provider starts this
script as a separate process, in its own session, reading a pipe whose write end only the
harness holds. The harness announces what it creates, one line each::

    pid <pid>                 a postmaster (stopped by SIGINT, then SIGKILL)
    dir <path>                a temporary directory (removed)
    container <name> <socket> a Docker container (removed through the engine's API socket)

End of input means the harness is done or gone: the reaper then removes whatever of that is
still there (after a normal shutdown nothing is, and it exits at once). It runs as
``python -I watchdog.py`` with only the standard library, so it starts in milliseconds and does
not depend on the environment it watches.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import sys
import time
from urllib.parse import quote

STOP_GRACE = 10.0


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid``: tells a process apart from a later one with its pid."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def _stop(pid: int, started: str | None) -> None:
    if started is None or _start_time(pid) != started:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # postgres: fast shutdown, backends end with it
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if _start_time(pid) != started:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _remove_container(sock: str, name: str) -> None:
    conn = _UnixHTTPConnection(sock)
    try:
        conn.request("DELETE", f"/containers/{quote(name, safe='')}?force=1&v=1")
        conn.getresponse().read()
    except OSError:
        pass
    finally:
        conn.close()


def reap(lines: list[str]) -> None:
    """Remove everything announced in ``lines`` that still exists."""
    pids: list[tuple[int, str | None]] = []
    dirs: list[str] = []
    containers: list[tuple[str, str]] = []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "pid":
            number, _, start_time = rest.partition(" ")
            pids.append((int(number), start_time or None))
        elif kind == "dir":
            dirs.append(rest)
        elif kind == "container":
            name, _, sock = rest.partition(" ")  # the name has no spaces, a path might
            containers.append((sock, name))
    for pid, started in pids:
        _stop(pid, started)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
    for sock, name in containers:
        _remove_container(sock, name)


def main() -> None:
    # The harness's terminal may signal its whole session; we must outlive the harness.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    lines: list[str] = []
    while raw := sys.stdin.readline():
        line = raw.rstrip("\n")
        if line.startswith("pid "):
            # Pin the identity now, while the announced pid surely is the postmaster.
            line = f"{line} {_start_time(int(line.split()[1])) or ''}".rstrip()
        lines.append(line)
    reap(lines)


if __name__ == "__main__":
    main()
