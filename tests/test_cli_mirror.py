"""`billig mirror …` from the outside: URLs masked, exit codes passed through, nothing left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

BILLIG = [sys.executable, "-m", "mirror.cli"]
PROVIDER = os.environ.get("BILLIG_MIRROR_PROVIDER", "auto")


def _postgres_children_of(pid: int) -> list[int]:
    """PIDs of postgres processes whose parent chain includes ``pid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        if comm == "postgres" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def test_run_passes_the_url_and_returns_the_command_exit_code():
    code = (
        "import os, sys, psycopg2; c = psycopg2.connect(os.environ['BILLIG_MIRROR_URL']);"
        "cur = c.cursor(); cur.execute('select count(*) from billig.event_lim_web');"
        "print('events', cur.fetchone()[0]); sys.exit(7)"
    )
    proc = subprocess.run(
        [*BILLIG, "mirror", "run", "--provider", PROVIDER, "--events", "12", "--",
         sys.executable, "-c", code],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 7, proc.stderr
    assert "events 12" in proc.stdout


def test_run_puts_the_servers_psql_on_path():
    # Also on a machine without PostgreSQL: the embedded wheel ships psql next to its server.
    proc = subprocess.run(
        [*BILLIG, "mirror", "run", "--provider", "embedded", "--events", "12", "--",
         "sh", "-c", 'command -v psql && psql -tAc "select count(*) from billig.event"'],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found, count = proc.stdout.split()
    assert count == "12"
    assert (Path(found).parent / "postgres").exists()  # the server's own bin directory


def test_version_names_the_installed_package():
    proc = subprocess.run([*BILLIG, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"billig, version {version('billig-harness')}\n"


def test_a_named_provider_that_fails_says_how_to_fix_it():
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/billig-test/docker.sock"}
    proc = subprocess.run(
        [*BILLIG, "mirror", "run", "--provider", "docker", "--", "true"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert proc.returncode == 3
    assert proc.stderr.startswith("billig: error: no Docker engine answers at /nonexistent/")
    assert "(fix: start a Docker engine" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_run_with_unknown_command_is_a_usage_error():
    proc = subprocess.run(
        [*BILLIG, "mirror", "run", "--provider", PROVIDER, "--", "no-such-command-xyz"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "command not found: no-such-command-xyz" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_up_prints_a_masked_url_and_ctrl_c_removes_everything(spawn):
    proc = spawn(
        [*BILLIG, "mirror", "up", "--provider", PROVIDER, "--events", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    url = proc.stdout.readline().strip()
    assert ready.startswith("mirror ready"), ready
    assert ":***@" in url
    postmaster = _postgres_children_of(proc.pid)
    assert postmaster, "the mirror runs a postmaster under the CLI process"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{pid}") for pid in postmaster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in postmaster)


def test_negative_event_count_is_rejected_with_exit_2():
    proc = subprocess.run(
        [*BILLIG, "mirror", "run", "--events", "-3", "--", "true"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["mirror", "--help"],
        ["mirror", "up", "--help"],
        ["mirror", "run", "--help"],
        ["mirror", "seed", "--help"],
        ["mirror", "cache", "clear", "--help"],
    ],
)
def test_every_command_has_help(command):
    proc = subprocess.run([*BILLIG, *command], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "Usage:" in proc.stdout


def test_check_says_whether_its_mirror_came_from_the_cache(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.billig]\nschema = "db.sql"\ncontracts = "pinned"\n', encoding="utf-8"
    )
    (project / "db.sql").write_text(
        "CREATE SCHEMA billig;\nCREATE TABLE billig.event (event integer PRIMARY KEY);\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    # The project's own configuration only, not the suite's BILLIG_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLIG_")}
    env.update(XDG_CACHE_HOME=str(cache), BILLIG_MIRROR_DISABLE="docker")

    def billig(*args: str, **extra: str) -> str:
        proc = subprocess.run(
            [*BILLIG, *args], cwd=project, capture_output=True, text=True, timeout=180,
            env={**env, **extra},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def origin(*args: str, **extra: str) -> str:
        last = billig("check", *args, **extra).splitlines()[-1]
        assert last.startswith("mirror: provider "), last
        return last.split(", ")[1]

    billig("contracts", "update", "--no-cache")
    assert not cache.exists(), "--no-cache stores nothing"
    assert origin() == "built"
    assert origin() == "from cache"
    assert origin("--no-cache") == "built"
    assert origin(BILLIG_CACHE="0") == "built"
    cleared = billig("mirror", "cache", "clear")
    assert cleared.startswith("removed 2 cached clusters"), cleared
    assert str(cache) in cleared
    assert origin() == "built"
    (project / "db.sql").write_text(
        "CREATE SCHEMA billig;\nCREATE TABLE billig.event (event bigint PRIMARY KEY);\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [*BILLIG, "check"], cwd=project, capture_output=True, text=True, timeout=180, env=env
    )
    assert checked.returncode == 1, checked.stderr  # the schema edit is seen: columns.json fails
    assert "billig.event.event type widened: integer → bigint" in checked.stdout
    assert checked.stdout.splitlines()[-1].split(", ")[1] == "built"
