"""Private PostgreSQL clusters from server binaries, the common ground of ``local`` and
``embedded``: initdb into a temporary directory, a postmaster on a private socket and port,
run as an unprivileged user when we are root, and removed without trace on exit."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mirror.config import variable
from mirror.dsn import Dsn
from mirror.errors import ProviderError
from mirror.provision.cache import Reuse, copy_data, digest, harness_digest
from mirror.provision.process import announced_group, reaper
from mirror.provision.server import Prepared, Server, connect_url, wait_ready
from mirror.provision.watchdog import release_cluster_memory, start_time, stop_group

# Users a root process may drop to for initdb/postgres, in order; never created by us.
UNPRIVILEGED_USERS = ("postgres", "nobody")
# A user problem has its own fix, whichever provider met it.
USER_HINT = "set BILLIG_MIRROR_USER to an existing unprivileged user, e.g. nobody"


def run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def unprivileged_user(preferred: str | None = None) -> pwd.struct_passwd | None:
    """The user initdb/postgres run as: None when not root, else an existing unprivileged user.

    Users are looked up, never created: a harness that silently adds system users to a
    developer's machine is worse than one that asks for ``BILLIG_MIRROR_USER``.
    """
    if os.geteuid() != 0:
        return None
    fix = f"(fix: {USER_HINT})"
    if preferred:
        try:
            entry = pwd.getpwnam(preferred)
        except KeyError:
            raise ProviderError(
                f"BILLIG_MIRROR_USER={preferred} does not exist; as root, PostgreSQL must run as "
                f"an existing unprivileged user (this harness never creates users) {fix}"
            ) from None
        if entry.pw_uid == 0:
            raise ProviderError(
                f"BILLIG_MIRROR_USER={preferred} has uid 0; initdb and postgres refuse to run "
                f"as root {fix}"
            )
        return entry
    for name in UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            if entry.pw_uid != 0:
                return entry
    raise ProviderError(
        "running as root, and none of the users " + ", ".join(UNPRIVILEGED_USERS) + " exists to "
        f"run PostgreSQL as (initdb refuses root) {fix}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def can_execute(binary: Path, user: pwd.struct_passwd | None) -> str | None:
    """None when ``binary --version`` runs as ``user``, else why not."""
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, **run_as(user)
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{binary} cannot run: {exc}"
    if proc.returncode != 0:
        return f"{binary} --version failed: {(proc.stderr or proc.stdout).strip()[:200]}"
    return None


# How often a cluster start is retried when the free port we picked was taken meanwhile.
_PORT_ATTEMPTS = 3


# Clusters live in memory when the machine has room: CREATE DATABASE … TEMPLATE copies files,
# and on tmpfs a per-test clone is several times faster than on disk.
TMPFS = Path("/dev/shm")
TMPFS_MIN_FREE = 2 * 1024**3


def cluster_parent() -> str | None:
    """Where cluster directories go: ``$BILLIG_MIRROR_TMPDIR``, else a roomy tmpfs, else TMPDIR."""
    configured: str | None = variable("BILLIG_MIRROR_TMPDIR")
    if configured:
        return configured
    try:
        stat = os.statvfs(TMPFS)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= TMPFS_MIN_FREE
    return str(TMPFS) if roomy and os.access(TMPFS, os.W_OK | os.X_OK) else None


@contextlib.contextmanager
def run_cluster(
    bindir: Path, provider: str, user_name: str | None = None, reuse: Reuse | None = None
) -> Iterator[Server]:
    """Private cluster from server binaries: temp data dir, private socket and port, fsync off.

    The postmaster runs in its own session (so a terminal's Ctrl-C reaches only us, and we stop
    it in order); the postmaster, its backends and the temporary directory are gone when the
    context exits, whether normally, by an exception or by KeyboardInterrupt, and the reaper
    removes them if this process is killed outright. With ``reuse``, the cluster starts from a
    copy of a stored one (see :mod:`mirror.provision.cache`), and the yielded server's
    ``prepared`` says whether it came from the cache or was built (and stored) now.
    """
    user = unprivileged_user(user_name)
    password = secrets.token_urlsafe(18)
    with reaper() as announce:
        root = Path(tempfile.mkdtemp(prefix=f"billig-mirror-{provider}-", dir=cluster_parent()))
        announce(f"dir {root}")
        with _cluster(bindir, provider, root, password, user, announce, reuse) as server:
            yield server


@contextlib.contextmanager
def _cluster(
    bindir: Path,
    provider: str,
    root: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
    reuse: Reuse | None,
) -> Iterator[Server]:
    running: list[subprocess.Popen[bytes]] = []  # the postmaster, once started

    def serve(rotate: bool) -> Server:
        url = _serve(bindir, root, password, user, announce, rotate, running)
        return Server(provider=provider, dsn=url, detail=str(bindir), bindir=bindir)

    try:
        try:
            _prepare_root(root, user)
            if reuse is None:
                _init_cluster(bindir, root, password, user, announce)
                server = serve(rotate=False)
            else:
                server = _reused(bindir, root, password, user, announce, reuse, serve, running)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ProviderError(f"cannot start a {provider} cluster from {bindir}: {exc}") from None
        yield server
    finally:
        # The cluster is thrown away with its directory: nothing needs a checkpoint.
        for proc in running:
            _stop_process(proc, immediate=True)
        release_cluster_memory(str(root))  # left behind only when the postmaster was killed
        shutil.rmtree(root, ignore_errors=True)


def _reused(
    bindir: Path,
    root: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
    reuse: Reuse,
    serve: Callable[[bool], Server],
    running: list[subprocess.Popen[bytes]],
) -> Server:
    """A cluster from the cache: the seeded one, else an initialized one seeded now and stored."""
    data = root / "data"
    # Entries keep their files' owner: the user the cluster runs as is part of the key.
    owner = user.pw_uid if user is not None else os.geteuid()
    cluster_key = digest("cluster", binaries_identity(bindir), harness_digest(), owner)
    seeded_key = digest("seeded", cluster_key, *reuse.inputs)
    with reuse.cache.open(seeded_key) as entry:
        if entry is not None:
            copy_data(entry.data, data)
            meta = entry.meta
    if entry is not None:
        # A stored cluster keeps the password of the run that built it: give it ours.
        return replace(serve(True), prepared=Prepared("cache", meta))
    with reuse.cache.open(cluster_key) as entry:
        if entry is not None:
            copy_data(entry.data, data)
    if entry is None:
        _init_cluster(bindir, root, password, user, announce)
        reuse.cache.store(cluster_key, data, {}, announce)
    meta = reuse.build(serve(entry is not None))
    # Stored as soon as it is seeded, before anything of the run can change it.
    _stop_process(running.pop())
    clean = not (data / "postmaster.pid").exists()  # a clean shutdown, not a crash image
    if clean and meta.get("keep", True):
        reuse.cache.store(seeded_key, data, meta, announce)
    return replace(serve(False), prepared=Prepared("built", meta))


def _serve(
    bindir: Path,
    root: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
    rotate: bool,
    running: list[subprocess.Popen[bytes]],
) -> Dsn:
    """Start the postmaster on a free port and wait until it answers; ``rotate`` sets the
    password first (through the socket, where a stored cluster's old one is not needed)."""
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = _free_port()
        proc = _start_postmaster(bindir, root, root / "data", port, user)
        running.append(proc)
        announce(f"pid {proc.pid}")
        url = Dsn(
            host="127.0.0.1", port=str(port), username="postgres", password=password,
            database="postgres",
        )  # fmt: skip
        local = Dsn(
            host=str(root / "sock"), port=str(port), username="postgres", database="postgres"
        )
        try:
            wait_ready(local if rotate else url, _exited(proc), root / "postgres.log")
            break
        except ProviderError:
            if attempt == _PORT_ATTEMPTS or not _lost_port_race(root / "postgres.log"):
                raise
            _stop_process(running.pop())
    if rotate:
        with contextlib.closing(connect_url(local)) as conn, conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("ALTER ROLE postgres PASSWORD %s", (password,))
    return url


def binaries_identity(bindir: Path) -> str:
    """The server binaries as a cache key part: where the server program is, its size and time.

    Another version is another file (an upgrade replaces it), so its status is enough; asking
    the program for its version would start a process on every run.
    """
    postgres = (bindir / "postgres").resolve()
    info = postgres.stat()
    return f"{postgres}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def _prepare_root(root: Path, user: pwd.struct_passwd | None) -> None:
    (root / "sock").mkdir()
    if user is not None:
        for path in (root, root / "sock"):
            os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(root, 0o700)


def _init_cluster(
    bindir: Path,
    root: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
) -> None:
    data = root / "data"
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if user is not None:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    # initdb runs in a process group known to the reaper: when we die it stops initdb and its
    # bootstrap postgres before it removes the directory they write into.
    try:
        # Killed outright, never asked to end: a process that ends on SIGTERM at its own pace
        # may create shared memory after the reaper has looked and then die without removing it.
        with announced_group(announce, "kill") as group:
            init = subprocess.Popen(
                [
                    str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                    "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}", "--no-sync",
                ],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                text=True, cwd=root, process_group=group, **run_as(user),
            )  # fmt: skip
            try:
                out, err = init.communicate(timeout=120)
            except BaseException:
                stop_group(group, start_time(group), grace=5, gentle=False)
                init.wait()
                raise
    finally:
        pwfile.unlink()
    if init.returncode != 0:
        last = (err or out).strip().splitlines()[-1:] or ["(no output)"]
        raise ProviderError(f"initdb failed: {last[0]}")


def _start_postmaster(
    bindir: Path, root: Path, data: Path, port: int, user: pwd.struct_passwd | None
) -> subprocess.Popen[bytes]:
    with open(root / "postgres.log", "wb") as log:
        return subprocess.Popen(
            [
                str(bindir / "postgres"), "-D", str(data), "-k", str(root / "sock"),
                "-p", str(port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_locks_per_transaction=1024", "-c", "max_connections=200",
                # Dynamic shared memory as files of the data directory, not /dev/shm: a killed
                # postmaster cannot remove its segments, the directory's removal does.
                "-c", "dynamic_shared_memory_type=mmap",
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root,
            start_new_session=True, **run_as(user),
        )  # fmt: skip


def _lost_port_race(log: Path) -> bool:
    """True when postgres failed because another process took the port we had picked."""
    with contextlib.suppress(OSError):
        return "Address already in use" in log.read_text(errors="replace")
    return False


def _exited(proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: proc.poll() is not None


def _stop_process(proc: subprocess.Popen[bytes], immediate: bool = False) -> None:
    """Fast shutdown (SIGINT: a clean data directory, as the cache stores it), or with
    ``immediate`` an immediate one (SIGQUIT: no checkpoint, for a cluster about to be removed),
    then SIGKILL of the whole process group after a grace period.

    The SIGKILL of the group also runs when the wait is interrupted (a second Ctrl-C), so no
    backend outlives the postmaster whatever happens during shutdown.
    """
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGQUIT if immediate else signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
    finally:
        # Backends are children of the postmaster, in its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
