"""Throwaway PostgreSQL servers: the docker, local, embedded and dsn providers and ``auto``.

Each provider is a context manager that yields a :class:`Server` and removes everything it
created (containers, clusters, databases, temporary directories) on exit, including on
Ctrl-C and on failure. ``auto`` tries docker, local, embedded in that order and, when none
works, raises one :class:`~mirror.errors.ProviderError` that lists every attempt.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

from mirror.errors import ProviderError, UsageError
from mirror.secrets import password_of, redact, scrub

PROVIDERS = ("docker", "local", "embedded", "dsn")
AUTO_ORDER = ("docker", "local", "embedded")
DEFAULT_IMAGE = "postgres:15"
READY_TIMEOUT = 60.0
# Users a root process may drop to for initdb/postgres, in order; never created by us.
UNPRIVILEGED_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server we may create and drop databases in."""

    provider: str
    admin_url: URL  # superuser (or database owner) URL of the maintenance database
    detail: str = ""

    def url_for(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        url = self.url_for(database) if database else self.admin_url
        return connect_url(url)

    def create_database(self, name: str, template: str | None = None) -> URL:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                cur.execute(stmt)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def connect_url(url: URL, **kwargs: Any) -> psycopg2.extensions.connection:
    """psycopg2 connection for a SQLAlchemy URL (host may be a socket directory)."""
    params: dict[str, Any] = {
        "host": url.host or url.query.get("host"),
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        "connect_timeout": 10,
    }
    params.update(kwargs)
    return psycopg2.connect(**{k: v for k, v in params.items() if v is not None})


@dataclass
class Attempt:
    provider: str
    reason: str


@dataclass
class ProviderOptions:
    image: str = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_IMAGE", DEFAULT_IMAGE))
    dsn: str | None = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_DSN"))
    # Providers auto must skip, e.g. "local" to prove the embedded path on a machine with binaries.
    disabled: frozenset[str] = field(
        default_factory=lambda: frozenset(
            p.strip() for p in os.environ.get("BILLIG_MIRROR_DISABLE", "").split(",") if p.strip()
        )
    )
    user: str | None = field(default_factory=lambda: os.environ.get("BILLIG_MIRROR_USER"))


# --------------------------------------------------------------------------- clusters


def _run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def unprivileged_user(preferred: str | None = None) -> pwd.struct_passwd | None:
    """The user initdb/postgres run as: None when not root, else an existing unprivileged user."""
    if os.geteuid() != 0:
        return None
    names: tuple[str, ...] = (preferred,) if preferred else UNPRIVILEGED_USERS
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry
    raise ProviderError(
        "running as root, and none of the users "
        + ", ".join(n for n in names if n)
        + " exists to run PostgreSQL as (initdb refuses root); set BILLIG_MIRROR_USER "
        "to an existing unprivileged user"
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


@contextlib.contextmanager
def run_cluster(bindir: Path, provider: str, user_name: str | None = None) -> Iterator[Server]:
    """Private cluster from server binaries: temp data dir, private socket and port, fsync off."""
    user = unprivileged_user(user_name)
    password = secrets.token_urlsafe(18)
    root = Path(tempfile.mkdtemp(prefix=f"billig-mirror-{provider}-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        data, sock = root / "data", root / "sock"
        sock.mkdir()
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if user is not None:
            for path in (root, sock, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(root, 0o700)
        init = subprocess.run(
            [
                str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}", "--no-sync",
            ],
            capture_output=True, text=True, timeout=120, cwd=root, **_run_as(user),
        )  # fmt: skip
        pwfile.unlink()
        if init.returncode != 0:
            raise ProviderError(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
        port = _free_port()
        log = open(root / "postgres.log", "wb")  # noqa: SIM115 - closed in finally
        try:
            proc = subprocess.Popen(
                [
                    str(bindir / "postgres"), "-D", str(data), "-k", str(sock), "-p", str(port),
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                    "-c", "max_locks_per_transaction=1024", "-c", "max_connections=200",
                ],
                stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True,
                **_run_as(user),
            )  # fmt: skip
        finally:
            log.close()
        url = URL.create(
            "postgresql+psycopg2", username="postgres", password=password,
            host="127.0.0.1", port=port, database="postgres",
        )  # fmt: skip
        _wait_ready(url, lambda: proc.poll() is not None if proc else True, root / "postgres.log")
        yield Server(provider=provider, admin_url=url, detail=str(bindir))
    finally:
        if proc is not None:
            _stop_process(proc)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: URL, died: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if died():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise ProviderError("postgres exited during start-up: " + " | ".join(tail))
        try:
            connect_url(url, connect_timeout=2).close()
            return
        except psycopg2.OperationalError as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            time.sleep(0.05)
    raise ProviderError(f"postgres did not accept connections within {READY_TIMEOUT:.0f}s: {last}")


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT), then SIGKILL of the whole process group after a grace period."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Backends are children of the postmaster; make sure none outlives it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


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


def embedded_bindir(user_name: str | None = None) -> Path:
    """pgserver's binaries; copied to a world-readable cache when the user cannot reach them."""
    try:
        import pgserver
    except ImportError as exc:
        raise ProviderError(f"the pgserver package is not installed ({exc})") from exc
    install = Path(pgserver.__file__).parent / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise ProviderError(f"pgserver has no server binaries under {install}")
    user = unprivileged_user(user_name)
    if _can_execute(install / "bin" / "postgres", user) is None:
        return install / "bin"
    # The wheel lives where the unprivileged user cannot read it (e.g. a venv under /root).
    version = subprocess.run(
        [str(install / "bin" / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.split()[-1]
    cache = Path(tempfile.gettempdir()) / f"billig-harness-pgserver-{version}"
    if not (cache / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="billig-harness-pgserver-", dir=cache.parent))
        try:
            for part in ("bin", "lib", "share"):
                shutil.copytree(install / part, staging / part, symlinks=True)
            os.chmod(staging, 0o755)
            try:
                os.rename(staging, cache)  # atomic: a concurrent copier wins or we do
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    why = _can_execute(cache / "bin" / "postgres", user)
    if why is not None:
        raise ProviderError(why)
    return cache / "bin"


# --------------------------------------------------------------------------- docker


def _docker_socket() -> str | None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        return host[len("unix://") :]
    return None


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _docker_api(method: str, path: str, timeout: float = 1.0) -> tuple[int, bytes]:
    sock = _docker_socket()
    if sock is None:
        raise ProviderError("DOCKER_HOST is not a unix socket; only local engines are probed")
    conn = _UnixHTTPConnection(sock, timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as exc:
        raise ProviderError(f"no Docker engine answers at {sock} ({exc})") from exc
    finally:
        conn.close()


def docker_check(image: str) -> None:
    """Raise ProviderError unless an engine answers a ping and the image is present or pullable."""
    status, _ = _docker_api("GET", "/_ping")
    if status != 200:
        raise ProviderError(f"Docker engine ping answered HTTP {status}")
    name, _, tag = image.partition(":")
    status, _ = _docker_api("GET", f"/images/{quote(image, safe='')}/json")
    if status == 200:
        return
    status, body = _docker_api(
        "POST", f"/images/create?fromImage={quote(name)}&tag={quote(tag or 'latest')}", timeout=60
    )
    last = body.decode(errors="replace").strip().splitlines()[-1:] if body else []
    failed = status != 200 or any('"error"' in line for line in last)
    if failed:
        detail = ""
        with contextlib.suppress(ValueError, IndexError):
            detail = json.loads(last[0]).get("message") or json.loads(last[0]).get("error", "")
        raise ProviderError(
            f"image {image} is not present and cannot be pulled ({detail or f'HTTP {status}'})"
        )


@contextlib.contextmanager
def run_docker(image: str) -> Iterator[Server]:
    # Ryuk's image cannot be pulled without a registry; we stop our containers ourselves.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    docker_check(image)
    try:
        from testcontainers.postgres import PostgresContainer
    except ImportError as exc:
        raise ProviderError(f"testcontainers is not installed ({exc})") from exc
    password = secrets.token_urlsafe(18)
    container = PostgresContainer(
        image, username="postgres", password=password, dbname="postgres", driver="psycopg2"
    )
    container.with_command("postgres -c fsync=off -c max_locks_per_transaction=1024")
    try:
        try:
            container.start()
        except Exception as exc:  # docker.errors.*, timeouts: all mean "not this provider"
            raise ProviderError(
                f"container from {image} did not start: {scrub(str(exc), password)[:300]}"
            ) from None
        url = URL.create(
            "postgresql+psycopg2", username="postgres", password=password,
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(5432)), database="postgres",
        )  # fmt: skip
        _wait_ready(url, lambda: False, Path("/nonexistent"))
        yield Server(provider="docker", admin_url=url, detail=image)
    finally:
        with contextlib.suppress(Exception):
            container.stop()


# --------------------------------------------------------------------------- dsn


@contextlib.contextmanager
def run_dsn(dsn: str) -> Iterator[Server]:
    """An existing server: we only create (and later drop) databases of our own in it."""
    try:
        url = make_url(dsn)
    except Exception:
        raise UsageError(f"not a database URL: {redact(dsn)}") from None
    if url.get_backend_name() != "postgresql":
        raise UsageError(f"the dsn provider needs a PostgreSQL URL, got {redact(url)}")
    url = url.set(drivername="postgresql+psycopg2")
    try:
        connect_url(url).close()
    except psycopg2.Error as exc:
        raise ProviderError(
            f"cannot connect to {redact(url)}: "
            + scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "", password_of(url))
        ) from None
    yield Server(provider="dsn", admin_url=url, detail=redact(url))


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
    "docker": "start a Docker engine with a PostgreSQL image (see .ci/docker-tests)",
    "local": "install PostgreSQL server binaries (e.g. apt-get install postgresql)",
    "embedded": "pip install pgserver (a dependency of billig-harness)",
}


@contextlib.contextmanager
def provision(provider: str = "auto", options: ProviderOptions | None = None) -> Iterator[Server]:
    """Start a throwaway server with ``provider`` (or the first that works, for ``auto``)."""
    options = options or ProviderOptions()
    if provider != "auto":
        with _start(provider, options) as server:
            yield server
        return
    attempts: list[Attempt] = []
    for name in AUTO_ORDER:
        if name in options.disabled:
            attempts.append(Attempt(name, "disabled by BILLIG_MIRROR_DISABLE"))
            continue
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(_start(name, options))
        except ProviderError as exc:
            stack.close()
            attempts.append(Attempt(name, str(exc)))
            continue
        with stack:
            yield server
        return
    lines = [f"  - {a.provider}: {a.reason}" + (
        f" (fix: {_HINTS[a.provider]})" if a.provider in _HINTS and "disabled" not in a.reason
        else ""
    ) for a in attempts]  # fmt: skip
    raise ProviderError(
        "no PostgreSQL provider worked; tried:\n"
        + "\n".join(lines)
        + "\nor name an existing server with --provider dsn --dsn URL"
    )
