"""Faults injected into real servers while the harness works: each ends with the documented exit
code and one line, no traceback, no half-written file, nothing left behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import psutil
import psycopg2
import pytest
from sqlalchemy.engine import URL

from mirror.catalog.model import quote_ident
from mirror.provision.providers import Server, connect_url

from .sandbox import (
    ROOT,
    Cluster,
    admin,
    assert_cluster_gone,
    assert_error,
    assert_shared_memory_gone,
    billig,
    billig_command,
    catalog_locked,
    cli_env,
    cluster_of,
    cluster_provider,
    cluster_started_by,
    connect_to_cluster,
    databases,
    finish,
    full,
    kill,
    new_connections_blocked,
    new_database,
    private_server,
    query,
    shared_memory_of,
    start_billig,
    wait_for,
    waiting_on_lock,
)

INTROSPECTING = "billig-harness introspect"


def _introspection_waiting(conn: object) -> bool:
    rows = query(
        conn,
        "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        INTROSPECTING,
    )
    return bool(rows)


def _no_files_but(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --------------------------------------------------------------------------- introspection


def test_server_killed_during_introspection_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "pinned.json"
    with private_server() as server:
        cluster = cluster_of(server)
        url = new_database(server, "prod")
        with catalog_locked(server, "prod"), contextlib.closing(admin(server)) as watch:
            proc = start_billig(
                "contracts", "snapshot", "--dsn", full(url), "--schema", "billig",
                "--output", str(output),
            )  # fmt: skip
            wait_for(lambda: _introspection_waiting(watch), "introspection waits", proc=proc)
            memory = shared_memory_of(cluster.postmaster)
            kill(cluster.postmaster)
            result = finish(proc)
    assert_error(
        result, 3, "reading the catalog of postgres@", "connection was lost", server_died=True
    )
    _no_files_but(tmp_path)
    assert_cluster_gone(cluster)
    assert memory.ids  # the System V header, at least
    assert_shared_memory_gone(memory)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["contracts", "snapshot", "--schema", "billig", "--output", "{tmp}/pinned.json"],
         "waited longer than lock_timeout (2000 ms) for a lock"),
        (["drift", "--lock-timeout", "300", "--output", "json:{tmp}/drift.json"],
         "waited longer than lock_timeout (300 ms) for a lock"),
        (["drift", "--lock-timeout", "60000", "--statement-timeout", "300",
          "--output", "json:{tmp}/drift.json"],
         "a statement was cancelled (statement_timeout is 300 ms)"),
    ],
    ids=["snapshot, lock timeout", "drift, lock timeout", "drift, statement timeout"],
)  # fmt: skip
def test_a_catalog_lock_held_by_another_session_is_exit_3_and_writes_nothing(
    run_cli, billig_server: Server, billig_database: URL, tmp_path: Path, args, says
) -> None:
    assert billig_database.database
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    with catalog_locked(billig_server, billig_database.database):
        result = run_cli(*argv, "--dsn", full(billig_database))
    assert_error(result, 3, says)
    _no_files_but(tmp_path)


# Freezing (SIGSTOP) a backend or the whole server: the kernel still holds the connection open
# and acknowledges, so only a client-side bound ends the wait. The statement timeout is short so
# the bound (it plus a grace of a few seconds) is quickly reached; the lock wait is long, so that
# the server itself never cancels the statement before it is frozen.
_FROZEN_ARGS = {
    "drift": ["drift", "--statement-timeout", "4000", "--lock-timeout", "600000",
              "--connect-timeout", "2", "--output", "json:{tmp}/drift.json"],
    "contracts snapshot": ["contracts", "snapshot", "--schema", "billig",
                           "--output", "{tmp}/pinned.json"],
}  # fmt: skip


def _server_processes(postmaster: int) -> list[int]:
    """The postmaster and its children (each backend is a process group of its own)."""
    return [postmaster, *(p.pid for p in psutil.Process(postmaster).children())]


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


@pytest.mark.parametrize("frozen", ["backend", "whole server"])
@pytest.mark.parametrize("command", _FROZEN_ARGS)
def test_a_server_that_stops_answering_mid_read_is_exit_3_within_its_bounds(
    tmp_path: Path, figure, command: str, frozen: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in _FROZEN_ARGS[command]]
    with private_server() as server:
        cluster = cluster_of(server)
        url = new_database(server, "prod")
        victims: list[int] = []
        with catalog_locked(server, "prod"), contextlib.closing(admin(server)) as watch:
            proc = start_billig(*argv, "--dsn", full(url))
            try:
                backend = wait_for(
                    lambda: waiting_on_lock(watch, "prod"), "the read waits on a lock", proc=proc
                )
                whole = frozen == "whole server"
                victims = _server_processes(cluster.postmaster) if whole else [backend]
                _signal_all(victims, signal.SIGSTOP)
                frozen_at = time.monotonic()
                result = finish(proc, timeout=90)
                took = time.monotonic() - frozen_at
            finally:
                _signal_all(victims, signal.SIGCONT)
                if proc.poll() is None:
                    proc.kill()
    figure(f"{command}, {frozen} frozen mid-read: seconds to exit 3", f"{took:.1f}")
    timeout_ms = 4000 if command == "drift" else 10_000  # snapshot: the default
    assert_error(
        result, 3, "did not answer within", f"(statement_timeout {timeout_ms} ms plus", "given up"
    )
    _no_files_but(tmp_path)


def test_a_frozen_server_is_exit_3_when_connecting_within_the_connect_timeout(
    tmp_path: Path, figure
) -> None:
    with private_server() as server:
        cluster = cluster_of(server)
        url = new_database(server, "prod")
        victims = _server_processes(cluster.postmaster)
        _signal_all(victims, signal.SIGSTOP)
        try:
            started = time.monotonic()
            result = billig(
                "drift", "--dsn", full(url), "--connect-timeout", "2",
                "--output", f"json:{tmp_path}/drift.json", timeout=60,
            )  # fmt: skip
            took = time.monotonic() - started
        finally:
            _signal_all(victims, signal.SIGCONT)
    figure("drift, whole server frozen before connecting: seconds to exit 3", f"{took:.1f}")
    assert_error(result, 3, "cannot connect to", "timeout expired")
    _no_files_but(tmp_path)


# --------------------------------------------------------------------------- mirror up


def _template_being_built(cluster: Cluster) -> bool:
    try:
        with contextlib.closing(connect_to_cluster(cluster)) as conn:
            return bool(
                query(
                    conn,
                    "SELECT 1 FROM pg_stat_activity WHERE datname = 'billig_template'"
                    " AND backend_type = 'client backend'",
                )
            )
    except psycopg2.OperationalError:  # not accepting connections yet
        return False


@pytest.mark.parametrize("moment", ["starting", "seeding"])
def test_mirror_up_whose_server_dies_exits_3_and_removes_its_cluster(
    moment: str, tmp_path: Path
) -> None:
    # An empty cache: the template is built in this run, not copied.
    env = cli_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    args = ("mirror", "up", "--provider", cluster_provider(), "--events", "30000")
    proc = start_billig(*args, env=env)
    cluster = cluster_started_by(proc.pid)
    if moment == "seeding":
        wait_for(lambda: _template_being_built(cluster), "the template is built", proc=proc)
    memory = shared_memory_of(cluster.postmaster)
    kill(cluster.postmaster)
    result = finish(proc)
    assert_error(result, 3, server_died=True)
    assert result.out == ""  # no URL of a mirror that is not there
    assert_cluster_gone(cluster)
    assert_shared_memory_gone(memory)


# --------------------------------------------------------------------------- killed outright


def _initdb_of(pid: int) -> psutil.Process | None:
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children():
            if child.name() == "initdb":
                return child
    return None


def _bootstrap_backend(initdb: psutil.Process) -> psutil.Process | None:
    """initdb's own postgres (``--boot`` or ``--single``), once it runs."""
    with contextlib.suppress(psutil.Error):
        for child in initdb.children(recursive=True):
            if child.name() == "postgres":
                return child
    return None


@pytest.mark.parametrize("command", ["up", "run"])
def test_a_mirror_killed_during_initdb_leaves_nothing_behind(command: str, tmp_path: Path) -> None:
    args = ["mirror", command, "--provider", cluster_provider(), "--events", "5"]
    args += ["--", "sleep", "300"] if command == "run" else []
    # An empty cache: the cluster is initialized, not copied.
    proc = start_billig(*args, env=cli_env(XDG_CACHE_HOME=str(tmp_path / "cache")))
    writers: list[psutil.Process] = []
    try:
        initdb = wait_for(lambda: _initdb_of(proc.pid), "initdb runs", proc=proc)
        cmd = initdb.cmdline()
        root = Path(cmd[cmd.index("-D") + 1]).parent
        backend = wait_for(lambda: _bootstrap_backend(initdb), "initdb's postgres runs", proc=proc)
        memory = shared_memory_of(backend.pid)
        writers = [initdb, backend]
        kill(proc.pid)
        # The directory may go only once nothing writes into it any more.
        removed_under_a_writer = False
        deadline = time.monotonic() + 30
        while (root.exists() or any(map(_running, writers))) and time.monotonic() < deadline:
            if not root.exists() and any(map(_running, writers)):
                removed_under_a_writer = True
            time.sleep(0.001)
        proc.wait(timeout=30)
    finally:
        kill(proc.pid)
        for writer in writers:
            kill(writer.pid)
    assert not removed_under_a_writer, "the directory was removed while initdb still ran"
    assert not any(map(_running, writers))
    assert not root.exists()
    assert_shared_memory_gone(memory)
    # Nothing that knows the directory (a late writer, the watchdog) is left to write it again.
    wait_for(lambda: not _processes_naming(root), "no process names the cluster's directory")
    assert not root.exists()


def _processes_naming(path: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(path) in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare: each run gets a /dev/shm and System V table of its own",
)
def test_a_mirror_killed_at_any_moment_of_its_start_leaves_nothing(tmp_path: Path) -> None:
    """SIGKILL swept across the whole start-up (initdb, start, load, seed, storing in a cold
    cache): no shared memory file, no System V segment, no cluster, no cache staging folder and
    no process is left, whatever the moment."""
    args = ["mirror", "up", "--provider", cluster_provider(), "--events", "5"]
    started = time.monotonic()
    proc = start_billig(*args, env=cli_env(XDG_CACHE_HOME=str(tmp_path / "cache")))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("mirror ready"), proc.stderr
        ready = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    runs = 30
    for step in range(runs + 1):
        delay = ready * 1.1 * step / runs
        sweep = subprocess.run(
            ["unshare", "--mount", "--ipc", "--pid", "--fork", "--mount-proc",
             sys.executable, "-m", "tests.reliability.killed_start", f"{delay:.3f}",
             *billig_command(*args)],
            capture_output=True, text=True, timeout=180, env=cli_env(), cwd=ROOT,
        )  # fmt: skip
        assert sweep.returncode == 0, sweep.stderr
        left = json.loads(sweep.stdout)
        assert left == {k: [] for k in left}, f"killed {delay:.2f}s into a {ready:.2f}s start"


def _running(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    return False


def test_the_command_of_a_killed_mirror_run_is_killed_with_its_mirror(tmp_path: Path) -> None:
    pidfile = tmp_path / "command.pid"
    proc = start_billig(
        "mirror", "run", "--provider", cluster_provider(), "--events", "5",
        "--", "sh", "-c", f"echo $$ > {pidfile}; exec sleep 300",
    )  # fmt: skip
    command = None
    try:
        cluster = cluster_started_by(proc.pid)
        command = int(wait_for(lambda: pidfile.is_file() and pidfile.read_text().strip(),
                               "the command runs", proc=proc))  # fmt: skip
        kill(proc.pid)
        proc.wait(timeout=30)
        wait_for(lambda: not psutil.pid_exists(command) or _zombie(command),
                 "the command is killed", timeout=30)  # fmt: skip
    finally:
        kill(proc.pid)
        if command is not None:
            kill(command)
    assert_cluster_gone(cluster)


def _zombie(pid: int) -> bool:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    return True


def test_a_contract_write_killed_midway_is_cleaned_up_by_the_next_snapshot(
    billig_server: Server, billig_database: URL, tmp_path: Path
) -> None:
    output = tmp_path / "pinned.json"
    # A writer killed between writing its temporary file and renaming it into place.
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, signal, sys; from pathlib import Path;"
         "from mirror import files;"
         "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL);"
         "files.write_atomic(Path(sys.argv[1]), '{\"truncated')", str(output)],
        cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    (left,) = [p.name for p in tmp_path.iterdir()]
    assert left.startswith(".pinned.json.") and left.endswith(".tmp")
    result = billig(
        "contracts", "snapshot", "--dsn", full(billig_database), "--schema", "billig",
        "--output", str(output),
    )  # fmt: skip
    assert result.code == 0, result
    _no_files_but(tmp_path, "pinned.json")
    assert json.loads(output.read_text())["relations"]


# --------------------------------------------------------------------------- seeding

_BILLIG_TABLES = (
    "event", "ticket_group", "price_group", "purchase", "ticket_card", "ticket",
    "payment_error", "payment_error_price_group",
)  # fmt: skip


def _row_counts(url: URL) -> dict[str, int]:
    with contextlib.closing(connect_url(url)) as conn:
        return {t: query(conn, f"SELECT count(*) FROM billig.{t}")[0][0] for t in _BILLIG_TABLES}


def test_seeding_terminated_mid_copy_exits_3_keeps_no_rows_and_can_be_rerun(
    billig_server: Server,
) -> None:
    url = new_database(billig_server, "seed_fault")
    try:
        assert url.database
        with (
            contextlib.closing(admin(billig_server)) as watch,
            contextlib.closing(billig_server.connect(url.database)) as locker,
        ):
            # The COPY into billig.ticket (after five tables were copied) waits for this lock,
            # which lets the seed's reads of the table through (SHARE conflicts with writes only).
            query(locker, "LOCK TABLE billig.ticket IN SHARE MODE")
            proc = start_billig("mirror", "seed", "--dsn", full(url), "--events", "300")
            pid = wait_for(
                lambda: waiting_on_lock(watch, "seed_fault", "COPY billig.ticket %"),
                "the COPY into billig.ticket waits",
                proc=proc,
            )
            query(watch, "SELECT pg_terminate_backend(%s)", pid)
            result = finish(proc)
            locker.rollback()
        assert_error(result, 3, "seeding failed, the connection was lost")
        assert set(_row_counts(url).values()) == {0}
        again = billig("mirror", "seed", "--dsn", full(url), "--events", "300")
        assert again.code == 0, again
        counts = _row_counts(url)
        assert counts["event"] == 300 and all(counts.values())
    finally:
        billig_server.drop_database("seed_fault")


# --------------------------------------------------------------------------- contract update


def _contracts_needing_an_update(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A copy of contracts/ that `billig contracts update` would rewrite, and its bytes."""
    folder = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", folder)
    columns = folder / "columns.json"
    doc = json.loads(columns.read_text())
    doc["relations"][0]["columns"][0]["type"] = "text"
    columns.write_text(json.dumps(doc, indent=2))
    return folder, _files(folder)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _mirror_databases(server: Server) -> set[str]:
    return {d for d in databases(server) if d.startswith(("billig_t_", "billig_m_"))}


def test_contract_update_stopped_by_sigterm_keeps_every_file_and_drops_its_databases(
    billig_server: Server, tmp_path: Path
) -> None:
    folder, before = _contracts_needing_an_update(tmp_path)
    proc = start_billig(
        "contracts", "update", "--provider", "dsn", "--dsn", full(billig_server.admin_url),
        "--contracts", str(folder),
    )  # fmt: skip
    wait_for(lambda: _mirror_databases(billig_server), "the mirror is built", proc=proc)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc)
    # click ends the line a terminal's ^C would have left open, then says it aborted.
    assert (result.code, result.err.strip()) == (130, "billig: aborted"), result
    assert _files(folder) == before  # no temporary file either
    assert _mirror_databases(billig_server) == set()


@pytest.mark.parametrize(
    ("command", "after"),
    [("update", "billig_t_"), ("check", "billig_m_")],
    ids=["update, while its mirror is built", "check, once its mirror is ready"],
)
def test_contract_command_whose_server_dies_exits_3_and_keeps_every_file(
    tmp_path: Path, command: str, after: str
) -> None:
    if command == "update":
        folder, before = _contracts_needing_an_update(tmp_path)
    else:  # a check of these would pass if it ran to the end
        folder = tmp_path / "contracts"
        shutil.copytree(ROOT / "contracts", folder)
        before = _files(folder)
    with private_server() as server:
        cluster = cluster_of(server)
        proc = start_billig(
            "contracts", command, "--provider", "dsn", "--dsn", full(server.admin_url),
            "--contracts", str(folder),
        )  # fmt: skip
        wait_for(
            lambda: any(d.startswith(after) for d in databases(server)),
            f"a {after}… database",
            proc=proc,
        )
        # Caught at its next connection, then the server dies under it.
        with new_connections_blocked(server) as someone_waits:
            wait_for(someone_waits, "its next connection waits", proc=proc)
            kill(cluster.postmaster)
            result = finish(proc)
    assert "all contracts hold" not in result.out
    assert_error(result, 3, server_died=True)
    assert _files(folder) == before
    assert_cluster_gone(cluster)


def test_a_mirror_gone_during_the_api_check_is_exit_3_never_a_pass(
    run_cli, billig_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API answers 503 (a declared status) when its database is gone; the check must not
    take that for "answers as declared"."""
    from examples.fastapi_site.api import create_app
    from examples.fastapi_site.source import ReferenceSite

    def app_whose_mirror_goes(*args, **kwargs):  # type: ignore[no-untyped-def]
        app = create_app(*args, **kwargs)
        gone: list[str] = []

        @app.middleware("http")
        async def mirror_gone_first(request, call_next):  # type: ignore[no-untyped-def]
            if not gone:  # just before the first request is answered
                database = app.state.api.billig_engine.url.database
                gone.append(database)
                with contextlib.closing(admin(billig_server)) as conn:
                    query(conn, f"ALTER DATABASE {quote_ident(database)} ALLOW_CONNECTIONS false")
                    query(
                        conn,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        database,
                    )
            return await call_next(request)

        return app

    # The configured site: the reference site with that app, as a site module would name it.
    module = types.ModuleType("site_whose_mirror_goes")
    module.SITE = ReferenceSite(app_factory=app_whose_mirror_goes)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setenv("BILLIG_SITE", f"{module.__name__}:SITE")
    before = databases(billig_server)
    result = run_cli(
        "contracts", "check", "--provider", "dsn", "--dsn", full(billig_server.admin_url),
        "--contracts", str(ROOT / "contracts"), "--kind", "openapi",
    )  # fmt: skip
    assert_error(result, 3, "the seeded mirror went away during the API check")
    assert databases(billig_server) == before
