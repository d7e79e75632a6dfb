"""The reaper: a watchdog process that removes a provider's server when the harness dies.

A provider cleans up after itself on normal exit, on exceptions and on Ctrl-C; a harness that is
killed outright (SIGKILL, the OOM killer, a CI timeout) cannot. So each provider starts this
script as a separate process, in its own session, reading a pipe whose write end only the
harness holds. The harness announces what it creates, one line each::

    pid <pid>                 a postmaster (stopped by SIGINT, then SIGKILL)
    kill <pid>                a process group and its leader, killed outright: initdb
    group <pid>               a process group and its leader: the command of
                              ``mirror run`` (SIGTERM to the group, then SIGKILL)
    dir <path>                a temporary directory (removed)
    container <name> <socket> a Docker container (removed through the engine's API socket)

End of input means the harness is done or gone: the reaper then removes whatever of that is
still there (after a normal shutdown nothing is, and it exits at once). Processes are stopped
before directories are removed, so nothing writes into a directory being removed. Shared memory
is part of what is removed: the System V header of a cluster whose postmaster was killed (named
in its ``postmaster.pid``), and the segments a process group killed outright had mapped (the
clusters themselves keep their dynamic segments in files of the data directory). It runs as
``python -I watchdog.py`` with only the standard library, so it starts in milliseconds and does
not depend on the environment it watches; the harness uses its functions for its own cleanup.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import http.client
import os
import shutil
import signal
import socket
import struct
import sys
import time
from urllib.parse import quote

STOP_GRACE = 10.0


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid``: tells a process apart from a later one with its pid."""
    fields = _stat(pid)
    return None if not fields or fields[0] == "Z" else fields[19]


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state, ppid, pgrp, …)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and fields[0] != "Z" and fields[2] == str(pgid):
                members.append(int(entry))
    return members


def stop_group(
    pgid: int, started: str | None, grace: float = STOP_GRACE, gentle: bool = True
) -> None:
    """SIGTERM the process group ``pgid``, SIGKILL what is left after ``grace`` seconds
    (not ``gentle``: SIGKILL at once).

    A process that ends on SIGTERM may still leave shared memory behind: initdb's bootstrap
    postgres has no handler for it and dies at once, and initdb then removes the data directory
    that named its System V segment; one that handles it may create more before it ends. So the
    group is frozen (SIGSTOP) before each signal and the segments its members have mapped or
    open, and those their control segment lists, are noted; once the group is gone, those still
    there are removed. A group that must leave nothing (initdb's) is not ``gentle``: killed
    while frozen, nothing of it runs after the reaper looked. ``started`` pins the leader: a
    later process with its pid is never signalled. A group whose leader is gone (it dies with
    the harness) is still stopped: the kernel keeps a group's id from being reused while any of
    its members lives.
    """
    leader = start_time(pgid)
    if started is None or (leader is not None and leader != started):
        return  # not known to be ours: the pid may be someone else's now
    if not group_members(pgid):
        return
    files: set[str] = set()
    ids: set[int] = set()
    signals = (signal.SIGTERM, signal.SIGKILL) if gentle else (signal.SIGKILL,)
    for sig in signals:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGSTOP)  # nothing maps, opens or removes memory meanwhile
        found = _mapped_segments(_stopped_members(pgid))
        files |= found[0]
        ids |= found[1]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
            os.killpg(pgid, signal.SIGCONT)  # a stopped process acts on SIGTERM only when resumed
        if _wait_gone(pgid, grace):
            break
    _remove_segments(files, ids)


def _stopped_members(pgid: int, timeout: float = 2.0) -> list[int]:
    """The group's members once all of them have stopped (a signal takes effect a moment
    after ``kill`` returns, on another CPU)."""
    deadline = time.monotonic() + timeout
    while True:
        members = group_members(pgid)
        states = [(_stat(pid) or ["T"])[0] for pid in members]
        if all(state in "Tt" for state in states) or time.monotonic() > deadline:
            return members
        time.sleep(0.001)


def _wait_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _mapped_segments(pids: list[int]) -> tuple[set[str], set[int]]:
    """POSIX shared memory files and System V segment ids the processes have mapped or open
    (a segment is open, not yet mapped, between its creation and its mapping)."""
    files: set[str] = set()
    ids: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("/dev/shm/PostgreSQL."):
                        files.add(target)
        with contextlib.suppress(OSError), open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) < 6:
                    continue
                if fields[5].startswith("/dev/shm/PostgreSQL."):
                    files.add(fields[5])
                elif fields[5].startswith("/SYSV") and fields[4].isdigit():
                    ids.add(int(fields[4]))  # the inode of a System V mapping is its id
    for path in list(files):
        files.update(_listed_segments(path))
    return files, ids


# PostgreSQL's dynamic shared memory control segment (dsm.c): a header (magic, nitems, maxitems)
# and an array of items whose first field is the handle that names a segment. A segment pinned
# and then unmapped (the statistics' first 1 MiB segment) is known from this list alone.
_DSM_CONTROL_MAGIC = 0x9A503D32
_DSM_HEADER = 16  # three uint32 fields, the item array aligned to 8 bytes
_DSM_ITEM_SIZES = (40, 24)  # PostgreSQL 14 and later; 13 and earlier (no page range)


def _listed_segments(path: str) -> set[str]:
    """The segments a control segment at ``path`` lists (nothing when it is not one)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 20)
    except OSError:
        return set()
    if len(data) < _DSM_HEADER:
        return set()
    magic, nitems, maxitems = struct.unpack_from("=III", data)
    if magic != _DSM_CONTROL_MAGIC or nitems > maxitems:
        return set()
    for size in _DSM_ITEM_SIZES:
        if len(data) == _DSM_HEADER + maxitems * size:
            handles = (
                struct.unpack_from("=I", data, _DSM_HEADER + i * size)[0] for i in range(nitems)
            )
            return {f"/dev/shm/PostgreSQL.{handle}" for handle in handles}
    return set()


def _remove_segments(files: set[str], ids: set[int]) -> None:
    for path in files:
        with contextlib.suppress(OSError):
            os.unlink(path)
    for shmid in ids:
        _shm_remove(shmid)


_IPC_RMID = 0


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _shm_remove(shmid: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        _libc().shmctl(ctypes.c_int(shmid), _IPC_RMID, None)


def release_cluster_memory(root: str) -> None:
    """Remove the System V header a killed postmaster of a cluster under ``root`` left behind.

    ``postmaster.pid`` names the segment (key and id) and is removed by a postmaster that shut
    down; one that is still there, of a postmaster no longer running, marks a leftover. The id
    is removed only while the key still names it.
    """
    for pidfile in glob.glob(os.path.join(glob.escape(root), "*", "postmaster.pid")):
        try:
            with open(pidfile) as fh:
                lines = fh.read().splitlines()
            pid = int(lines[0])
            key, shmid = (int(part) for part in lines[6].split())
        except (OSError, ValueError, IndexError):
            continue
        if start_time(pid) is not None:
            continue  # still running (or the pid is someone else's now): leave it
        with contextlib.suppress(OSError, AttributeError):
            libc = _libc()
            if libc.shmget(ctypes.c_int(key), ctypes.c_size_t(0), 0) == shmid:
                _shm_remove(shmid)


def _stop(pid: int, started: str | None) -> None:
    if started is None or start_time(pid) != started:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # postgres: fast shutdown, backends end with it
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if start_time(pid) != started:
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
    groups: list[tuple[int, str | None, bool]] = []  # (group, leader's start, gentle)
    dirs: list[str] = []
    containers: list[tuple[str, str]] = []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind in ("pid", "group", "kill"):
            number, _, start_time = rest.partition(" ")
            if kind == "pid":
                pids.append((int(number), start_time or None))
            else:
                groups.append((int(number), start_time or None, kind == "group"))
        elif kind == "dir":
            dirs.append(rest)
        elif kind == "container":
            name, _, sock = rest.partition(" ")  # the name has no spaces, a path might
            containers.append((sock, name))
    for pgid, started, gentle in groups:
        stop_group(pgid, started, gentle=gentle)
    for pid, started in pids:
        _stop(pid, started)
    for path in dirs:
        release_cluster_memory(path)
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
        kind, *rest = line.split() or [""]
        if kind == "pid" or (kind in ("group", "kill") and len(rest) == 1):
            # Pin the identity now, while the announced pid surely is the postmaster. (The
            # harness pins a group's leader itself: a leader may be gone before we read this.)
            line = f"{line} {start_time(int(line.split()[1])) or ''}".rstrip()
        lines.append(line)
    reap(lines)


if __name__ == "__main__":
    main()
