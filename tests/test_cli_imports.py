"""A lean CLI: the commands that read production load no ORM, web framework or site.

Each runs for real in a child process (against the session's mirror), into its results and into
its error paths; a wrapper prints, on its way out, every module the process loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from mirror.provision.mirror import Mirror

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "starlette", "uvicorn", "examples.fastapi_site")
# Runs the console entry point; on the way out, also after an error, prints sys.modules.
_AUDIT = """
import json, sys
try:
    from mirror.cli import main
    main(sys.argv[1:])
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@dataclass(frozen=True)
class Audited:
    code: int
    stdout: str
    stderr: str  # without the module list
    modules: frozenset[str]

    def loaded(self, *families: str) -> list[str]:
        below = tuple(f + "." for f in families)
        return sorted(m for m in self.modules if m in families or m.startswith(below))

    @property
    def heavy(self) -> list[str]:
        return self.loaded(*HEAVY)


def _run(*args: str, cwd: Path, dsn: str | None = None, own_config: bool = False) -> Audited:
    """``own_config``: the project in ``cwd`` configures itself (the session's settings of this
    repository's schema, contracts and site are left out)."""
    dropped = {"BILLIG_PROD_DSN", "BILLIG_MIRROR_DSN"}
    if own_config:
        dropped |= {"BILLIG_SCHEMA", "BILLIG_CONTRACTS", "BILLIG_SITE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if dsn is not None:
        env["BILLIG_PROD_DSN"] = dsn
    done = subprocess.run(
        [sys.executable, "-c", _AUDIT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
    *err, modules = done.stderr.strip().splitlines()
    return Audited(done.returncode, done.stdout, "\n".join(err), frozenset(json.loads(modules)))


def test_help_loads_nothing_heavy(project_root: Path) -> None:
    run = _run("--help", cwd=project_root)
    assert (run.code, run.heavy) == (0, [])
    assert "drift" in run.stdout


def test_help_loads_no_driver_and_nothing_behind_the_commands(project_root: Path) -> None:
    run = _run("--help", cwd=project_root)
    assert run.loaded("psycopg2") == []
    # The entry module alone: no command module, not even the names their options list.
    assert set(run.loaded("mirror")) == {"mirror", "mirror.cli", "mirror.progress"}


def test_every_command_of_the_lazy_table_is_the_command_it_names() -> None:
    from mirror.cli import COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_, short_help) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=200) == short_help


def test_drift_loads_nothing_heavy(billig_mirror: Mirror, project_root: Path) -> None:
    run = _run("drift", "--dsn", billig_mirror.full_url, cwd=project_root)
    assert run.code in (0, 1), run.stderr
    assert "checked   9 relations" in run.stdout
    assert run.heavy == []


def test_drift_that_finds_drift_and_writes_reports_loads_nothing_heavy(
    billig_mirror: Mirror, project_root: Path, tmp_path: Path
) -> None:
    contract = json.loads((project_root / "contracts" / "columns.json").read_text("utf-8"))
    event = next(r for r in contract["relations"] if r["name"] == "event")
    next(c for c in event["columns"] if c["name"] == "event_name")["type"] = "integer"
    edited = tmp_path / "columns.json"
    edited.write_text(json.dumps(contract), encoding="utf-8")
    report = tmp_path / "out" / "drift.json"
    args = ("drift", "--contract", str(edited), "--format", "markdown")
    run = _run(*args, "--output", f"json:{report}", cwd=tmp_path, dsn=billig_mirror.full_url)
    assert run.code == 1, run.stderr
    assert "billig.event.event_name" in run.stdout
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert [f["object"] for f in findings] == ["billig.event.event_name"]
    assert run.heavy == []


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        ((), 2, "no database to check"),
        (("--dsn", "postgresql://nobody@127.0.0.1:1/none", "--connect-timeout", "2"), 3, "connect"),
        (("--dsn", "postgresql://x@h:port/db"), 2, "port"),
        (("--contract", "no/such/folder"), 2, "no/such/folder"),
    ],
    ids=["no dsn", "unreachable", "malformed dsn", "missing contract"],
)
def test_drift_errors_are_mapped_without_loading_anything_heavy(
    billig_mirror: Mirror,
    project_root: Path,
    args: tuple[str, ...],
    code: int,
    says: str,
) -> None:
    dsn = billig_mirror.full_url if args and args[0] == "--contract" else None
    run = _run("drift", *args, cwd=project_root, dsn=dsn)
    assert run.code == code, run.stderr
    assert says in run.stderr
    assert "internal error" not in run.stderr
    assert run.heavy == []


def test_contracts_snapshot_loads_nothing_heavy(billig_mirror: Mirror, tmp_path: Path) -> None:
    output = tmp_path / "pinned.json"
    run = _run(
        "contracts", "snapshot", "--dsn", billig_mirror.full_url, "--schema", "billig",
        "--output", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0 and output.is_file(), run.stderr
    relations = json.loads(output.read_text(encoding="utf-8"))["relations"]
    assert "ticket" in {r["name"] for r in relations if r["schema"] == "billig"}
    assert run.heavy == []


def test_contracts_snapshot_of_a_missing_schema_loads_nothing_heavy(
    billig_mirror: Mirror, tmp_path: Path
) -> None:
    run = _run(
        "contracts", "snapshot", "--dsn", billig_mirror.full_url, "--schema", "no_such_schema",
        "--output", str(tmp_path / "pinned.json"), cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 2 and "no_such_schema" in run.stderr
    assert run.heavy == []


def test_auto_without_a_docker_socket_does_not_load_the_docker_sdk(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from mirror.errors import ProviderError\n"
        "from mirror.provision.docker import docker_check\n"
        "try:\n    docker_check('postgres:15')\n"
        "except ProviderError as exc:\n    print(exc)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'requests')))\n"
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/docker.sock"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.stdout.splitlines() == [
        f"no Docker engine answers at {tmp_path}/docker.sock (no such socket)",
        "[]",
    ], done.stderr


@pytest.mark.parametrize("command", [["config"], ["mirror", "--help"], ["check", "--help"]])
def test_other_commands_start_without_the_site(command: list[str], project_root: Path) -> None:
    run = _run(*command, cwd=project_root)
    assert run.code == 0
    assert run.loaded("examples.fastapi_site") == []


def test_the_entry_module_stays_thin() -> None:
    import mirror.cli

    source = Path(mirror.cli.__file__).read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 150
