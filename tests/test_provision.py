"""Providers: real servers start, answer, run unprivileged and leave nothing behind.

Each ``local``/``embedded`` start costs about a second, so one lifecycle per provider is
observed once (module fixture) and several behaviours are asserted on that observation.
Processes are identified by the process group of the server's postmaster, never by name, so
servers started by other tests or programs on the machine do not matter.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import URL, make_url

from mirror.errors import ProviderError, UsageError
from mirror.provision.mirror import start_mirror
from mirror.provision.providers import (
    AUTO_ORDER,
    Attempt,
    ProviderOptions,
    Server,
    connect_url,
    local_bindirs,
    no_provider_message,
    provision,
    split_image,
)
from mirror.provision.watchdog import reap

IS_ROOT = os.geteuid() == 0
Spawn = Callable[..., "subprocess.Popen[str]"]  # the ``spawn`` fixture of tests/conftest.py
NO_ENGINE = "unix:///nonexistent/billig-test/docker.sock"
NO_USER = "billig-no-such-user"


# --------------------------------------------------------------------------- observing processes


@dataclass(frozen=True)
class Proc:
    """A process, told apart from a later one that reuses its pid by its start time."""

    pid: int
    ppid: int
    pgid: int
    started: int  # clock ticks after boot


def _proc(pid: int) -> Proc | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces
    if fields[0] == "Z":  # a zombie is dead; only its parent has not reaped it yet
        return None
    return Proc(pid, ppid=int(fields[1]), pgid=int(fields[2]), started=int(fields[19]))


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def server_processes(postmaster: int) -> frozenset[Proc]:
    """The postmaster and all its descendants (backends call setsid(): no common group)."""
    children: dict[int, list[Proc]] = {}
    for entry in Path("/proc").iterdir():
        proc = _proc(int(entry.name)) if entry.name.isdigit() else None
        if proc is not None:
            children.setdefault(proc.ppid, []).append(proc)
    root = _proc(postmaster)
    assert root is not None
    found, todo = set(), [root]
    while todo:
        proc = todo.pop()
        found.add(proc)
        todo.extend(children.get(proc.pid, []))
    return frozenset(found)


def alive(processes: frozenset[Proc]) -> set[Proc]:
    return {p for p in processes if _proc(p.pid) == p}


@dataclass(frozen=True)
class Running:
    """What a running server looked like from the inside."""

    answer: int
    postmaster: Proc
    processes: frozenset[Proc]  # postmaster and its descendants while it ran
    uid: int
    data_directory: Path

    @property
    def temp_root(self) -> Path:
        return self.data_directory.parent


def observe(target: Server | URL) -> Running:
    url = target.admin_url if isinstance(target, Server) else target
    with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT 41 + 1, pg_backend_pid(), current_setting('data_directory')")
        answer, backend, data_directory = cur.fetchone()
        return _running(answer, backend, data_directory)


def _running(answer: int, backend: int, data_directory: str) -> Running:
    proc = _proc(backend)
    assert proc is not None
    processes = server_processes(proc.ppid)
    assert proc in processes
    postmaster = next(p for p in processes if p.pid == proc.ppid)
    return Running(answer, postmaster, processes, _uid(postmaster.pid), Path(data_directory))


def assert_nothing_left(running: Running) -> None:
    assert alive(running.processes) == set()
    assert not running.temp_root.exists()


def available(provider: str) -> None:
    """Skip when this machine cannot run ``provider`` (e.g. no PostgreSQL installed).

    BILLIG_MIRROR_DISABLE only concerns ``auto``: a provider named explicitly still runs.
    """
    if provider == "local" and not local_bindirs():
        pytest.skip("no PostgreSQL server binaries on this machine")


def start_failure(
    provider: str, options: ProviderOptions | None = None, error: type[Exception] = ProviderError
) -> str:
    """The message of the ``error`` that starting ``provider`` raises."""
    with pytest.raises(error) as caught, provision(provider, options):
        pass
    return str(caught.value)


# --------------------------------------------------------------------------- lifecycle


@dataclass(frozen=True)
class Lifecycle:
    provider: str
    server_provider: str
    running: Running
    alive_during: set[Proc]
    temp_root_during: bool


@pytest.fixture(scope="module", params=["local", "embedded"])
def lifecycle(request: pytest.FixtureRequest) -> Lifecycle:
    available(request.param)
    with provision(request.param) as server:
        running = observe(server)
        observed = Lifecycle(
            provider=request.param,
            server_provider=server.provider,
            running=running,
            alive_during=alive(running.processes),
            temp_root_during=running.temp_root.is_dir(),
        )
    return observed


def test_provider_starts_a_server_that_answers_queries(lifecycle: Lifecycle) -> None:
    assert lifecycle.server_provider == lifecycle.provider
    assert lifecycle.running.answer == 42
    assert lifecycle.running.postmaster in lifecycle.alive_during
    assert len(lifecycle.alive_during) > 2  # postmaster, our backend, background workers


def test_postmaster_runs_in_its_own_session(lifecycle: Lifecycle) -> None:
    # A terminal's Ctrl-C then reaches only the harness, which shuts the server down in order.
    postmaster = lifecycle.running.postmaster
    assert postmaster.pgid == postmaster.pid
    assert postmaster.ppid == os.getpid()
    assert lifecycle.temp_root_during


def test_provider_keeps_its_cluster_in_a_private_temp_dir(lifecycle: Lifecycle) -> None:
    root = lifecycle.running.temp_root
    assert root.name.startswith(f"billig-mirror-{lifecycle.provider}-")


def test_provider_leaves_no_process_and_no_temp_dir(lifecycle: Lifecycle) -> None:
    assert_nothing_left(lifecycle.running)


def documented_user() -> str:
    """The README's rule: ``$BILLIG_MIRROR_USER``, else ``postgres``, else ``nobody``."""
    configured = os.environ.get("BILLIG_MIRROR_USER")
    if configured:
        return configured
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.skip("neither a postgres nor a nobody user exists on this machine")


@pytest.mark.skipif(not IS_ROOT, reason="privileges are dropped only when running as root")
def test_provider_as_root_runs_postgres_as_an_unprivileged_user(lifecycle: Lifecycle) -> None:
    assert lifecycle.running.uid != 0
    assert lifecycle.running.uid == pwd.getpwnam(documented_user()).pw_uid


@pytest.mark.skipif(not IS_ROOT, reason="privileges are dropped only when running as root")
def test_billig_mirror_user_chooses_the_unprivileged_user(monkeypatch) -> None:
    monkeypatch.setenv("BILLIG_MIRROR_USER", "nobody")
    with provision("embedded") as server:
        running = observe(server)
    assert running.uid == pwd.getpwnam("nobody").pw_uid
    assert_nothing_left(running)


@pytest.mark.skipif(not IS_ROOT, reason="privileges are dropped only when running as root")
def test_missing_user_is_an_error_and_is_not_created(monkeypatch) -> None:
    monkeypatch.setenv("BILLIG_MIRROR_USER", NO_USER)
    message = start_failure("embedded")
    assert f"BILLIG_MIRROR_USER={NO_USER} does not exist" in message
    assert message.endswith(
        "(fix: set BILLIG_MIRROR_USER to an existing unprivileged user, e.g. nobody)"
    )
    with pytest.raises(KeyError):
        pwd.getpwnam(NO_USER)


# --------------------------------------------------------------------------- cleanup


def test_failure_inside_the_with_block_still_cleans_up() -> None:
    seen: list[Running] = []
    with pytest.raises(RuntimeError, match="boom"), provision("embedded") as server:
        seen.append(observe(server))
        raise RuntimeError("boom")
    assert_nothing_left(seen[0])


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from mirror.provision.mirror import start_mirror
    from mirror.provision.providers import connect_url

    with start_mirror(sys.argv[1], events=5) as mirror:
        conn = connect_url(mirror.url)  # left open on purpose: shutdown must not wait for it
        cur = conn.cursor()
        cur.execute(
            "SELECT pg_backend_pid(), current_setting('data_directory'),"
            " (SELECT count(*) FROM billig.event)"
        )
        print(json.dumps(cur.fetchone()), flush=True)
        time.sleep(120)
    """
)


def mirror_in_child(spawn: Spawn, provider: str) -> tuple[subprocess.Popen[str], Running]:
    """A child Python process running a seeded mirror, and what its server looks like."""
    child = spawn(
        [sys.executable, "-c", CHILD, provider], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line, child.stderr.read() if child.stderr else ""
    backend, data_directory, events = json.loads(line)
    assert events == 5
    running = _running(0, backend, data_directory)
    assert len(alive(running.processes)) > 2
    return child, running


def test_sigint_stops_the_mirror_and_removes_everything(spawn: Spawn) -> None:
    child, running = mirror_in_child(spawn, "embedded")
    child.send_signal(signal.SIGINT)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGINT  # died of the interrupt, after cleaning up
    assert_nothing_left(running)


def test_reaper_removes_the_server_of_a_killed_harness(spawn: Spawn) -> None:
    # SIGKILL leaves the harness no chance to clean up; its reaper process does it.
    child, running = mirror_in_child(spawn, "embedded")
    child.kill()
    child.wait(timeout=30)
    deadline = time.monotonic() + 30
    while (alive(running.processes) or running.temp_root.exists()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert_nothing_left(running)


def test_reaper_stops_an_announced_process_and_removes_an_announced_dir(
    tmp_path: Path, spawn: Spawn
) -> None:
    victim = spawn(["sleep", "60"])
    other = spawn(["sleep", "60"])
    scratch = tmp_path / "scratch"
    (scratch / "sub").mkdir(parents=True)
    started = _proc(victim.pid)
    assert started is not None
    reap(
        [
            f"pid {victim.pid} {started.started}",
            f"pid {other.pid} 1",  # a start time that is not this process's: a reused pid
            f"dir {scratch}",
        ]
    )
    assert victim.wait(timeout=10) == -signal.SIGINT
    assert other.poll() is None
    assert not scratch.exists()


# --------------------------------------------------------------------------- seeded mirror


@pytest.mark.parametrize("provider", ["local", "embedded"])
def test_start_mirror_serves_the_seeded_billig_schema(provider: str) -> None:
    available(provider)
    with start_mirror(provider, events=12) as mirror:
        assert mirror.provider == provider
        with contextlib.closing(connect_url(mirror.url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM billig.event")
            assert cur.fetchone() == (12,)
            cur.execute("SELECT count(*) FROM billig.event_lim_web")
            assert cur.fetchone()[0] > 0  # type: ignore[index]
        running = observe(mirror.url)
    assert_nothing_left(running)


# --------------------------------------------------------------------------- auto


def _all_failing(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.delenv("BILLIG_MIRROR_DISABLE", raising=False)
    if IS_ROOT:
        monkeypatch.setenv("BILLIG_MIRROR_USER", NO_USER)
    else:  # without root there is no user to get wrong: disable the cluster providers instead
        monkeypatch.setenv("BILLIG_MIRROR_DISABLE", "local,embedded")


def test_auto_with_every_provider_failing_raises_one_error_listing_each(monkeypatch) -> None:
    _all_failing(monkeypatch)
    lines = start_failure("auto").splitlines()
    assert lines[0] == "no PostgreSQL provider worked; tried:"
    assert [line.split(":")[0].strip(" -") for line in lines[1:4]] == list(AUTO_ORDER)
    assert "no Docker engine answers at /nonexistent/billig-test/docker.sock" in lines[1]
    assert "fix: start a Docker engine" in lines[1]
    no_user = f"BILLIG_MIRROR_USER={NO_USER} does not exist"
    # Without server binaries on the machine, local fails on those before it looks for the user.
    local = no_user if local_bindirs() else "no PostgreSQL server binaries (initdb, postgres)"
    assert (local if IS_ROOT else "disabled") in lines[2]
    assert (no_user if IS_ROOT else "disabled") in lines[3]
    assert "--provider dsn --dsn URL" in lines[-1]


def test_auto_lists_disabled_providers_without_a_fix(monkeypatch) -> None:
    monkeypatch.setenv("BILLIG_MIRROR_DISABLE", "docker, local,embedded")
    lines = start_failure("auto").splitlines()[1:4]
    assert lines == [f"  - {name}: disabled by BILLIG_MIRROR_DISABLE" for name in AUTO_ORDER]


def test_auto_falls_through_to_the_next_working_provider(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.setenv("BILLIG_MIRROR_DISABLE", "local")
    with provision("auto") as server:
        assert server.provider == "embedded"
        running = observe(server)
    assert_nothing_left(running)


def test_docker_over_tcp_without_an_engine_falls_through(monkeypatch) -> None:
    # Non-socket DOCKER_HOST values are probed through the Docker SDK; port 1 refuses.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    assert "no Docker engine answers at tcp://127.0.0.1:1" in start_failure("docker")


def test_disabling_an_unknown_provider_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.setenv("BILLIG_MIRROR_DISABLE", "lokal")
    message = start_failure("auto", error=UsageError)
    assert message.startswith("BILLIG_MIRROR_DISABLE names unknown provider(s) lokal")


def test_unknown_provider_is_a_usage_error() -> None:
    message = start_failure("podman", error=UsageError)
    assert message == "unknown provider 'podman'; choose one of auto, docker, local, embedded, dsn"


def test_forced_docker_without_an_engine_is_a_provider_error(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    message = start_failure("docker")
    assert message.startswith("no Docker engine answers at /nonexistent/")
    assert message.endswith(
        "(fix: start a Docker engine that has or can pull the image (BILLIG_MIRROR_IMAGE))"
    )


# --------------------------------------------------------------------------- dsn


def _databases(server: Server) -> set[str]:
    with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cur.fetchall()}


def _admin_dsn(server: Server) -> str:
    return server.admin_url.render_as_string(hide_password=False)


def test_dsn_provider_uses_the_existing_server_and_creates_nothing(billig_server: Server) -> None:
    before = _databases(billig_server)
    with provision("dsn", ProviderOptions(dsn=_admin_dsn(billig_server))) as server:
        assert server.provider == "dsn"
        assert server.admin_url.port == billig_server.admin_url.port
        assert _databases(server) == before
    assert _databases(billig_server) == before


def test_dsn_mirror_creates_and_drops_only_its_own_databases(billig_server: Server) -> None:
    before = _databases(billig_server)
    options = ProviderOptions(dsn=_admin_dsn(billig_server))
    with start_mirror("dsn", events=4, options=options) as mirror:
        during = _databases(billig_server)
        with contextlib.closing(connect_url(mirror.url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM billig.event")
            assert cur.fetchone() == (4,)
    ours = during - before
    assert before <= during
    assert mirror.url.database in ours and mirror.template in ours and len(ours) == 2
    assert _databases(billig_server) == before


def test_dsn_with_a_wrong_password_names_the_problem_but_not_the_password(
    billig_server: Server,
) -> None:
    secret = "Wr0ng-Secret-4711"
    dsn = billig_server.admin_url.set(password=secret).render_as_string(hide_password=False)
    message = start_failure("dsn", ProviderOptions(dsn=dsn))
    assert "password authentication failed" in message
    assert secret not in message
    assert ":***@" in message


def test_dsn_of_an_unreachable_server_is_a_provider_error() -> None:
    dsn = "postgresql://u:S3cret-Unreachable@127.0.0.1:1/db"
    message = start_failure("dsn", ProviderOptions(dsn=dsn))
    assert message.startswith("cannot connect to postgresql://u:***@127.0.0.1:1/db")
    assert "S3cret-Unreachable" not in message
    assert "(fix: check host, port, login and password of --dsn/BILLIG_MIRROR_DSN" in message


def test_dsn_login_without_createdb_is_refused(billig_server: Server) -> None:
    role, password = "billig_test_no_createdb", "NoCreate-Pw-1"
    with contextlib.closing(billig_server.connect()) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        try:
            dsn = billig_server.admin_url.set(username=role, password=password)
            options = ProviderOptions(dsn=dsn.render_as_string(hide_password=False))
            assert "may not create databases" in start_failure("dsn", options)
        finally:
            with conn.cursor() as cur:
                cur.execute(f"DROP ROLE {role}")


def test_dsn_must_be_a_postgresql_url() -> None:
    options = ProviderOptions(dsn="mysql://u:p@localhost/db")
    assert "needs a PostgreSQL URL" in start_failure("dsn", options, UsageError)


def test_dsn_provider_without_a_dsn_is_a_usage_error() -> None:
    message = start_failure("dsn", ProviderOptions(dsn=None), UsageError)
    assert "--dsn URL or BILLIG_MIRROR_DSN" in message


# --------------------------------------------------------------------------- pure logic


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres", ("postgres", "latest")),
        ("postgres:15", ("postgres", "15")),
        ("billig-harness/postgres:15", ("billig-harness/postgres", "15")),
        ("registry.local:5000/pg", ("registry.local:5000/pg", "latest")),
        ("registry.local:5000/pg:16-alpine", ("registry.local:5000/pg", "16-alpine")),
        ("postgres@sha256:abc", ("postgres@sha256:abc", None)),
    ],
)
def test_split_image_separates_repository_and_tag(
    image: str, expected: tuple[str, str | None]
) -> None:
    assert split_image(image) == expected


def test_no_provider_message_adds_a_fix_only_to_real_failures() -> None:
    message = no_provider_message(
        [Attempt("docker", "disabled by BILLIG_MIRROR_DISABLE"), Attempt("local", "no binaries")]
    )
    assert message.splitlines() == [
        "no PostgreSQL provider worked; tried:",
        "  - docker: disabled by BILLIG_MIRROR_DISABLE",
        "  - local: no binaries (fix: install PostgreSQL server binaries "
        "(e.g. apt-get install postgresql))",
        "or name an existing server with --provider dsn --dsn URL",
    ]


def test_connect_url_passes_a_socket_directory_as_host(tmp_path: Path) -> None:
    # A URL naming a socket directory (?host=/dir) reaches libpq as that host.
    url = make_url(f"postgresql+psycopg2://u@/db?host={tmp_path}")
    with pytest.raises(psycopg2.OperationalError, match=str(tmp_path)):
        connect_url(url)
