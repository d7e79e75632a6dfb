"""Bad configuration never crashes and never passes: each is exit 2 with one located line.

Every case runs ``billig`` as a child process in a fresh project (its own ``pyproject.toml``,
schema file and contracts), with a DSN holding a password in the environment. Each must end with
exit 2 (never 70, never 0), exactly one ``billig: error:`` line naming where the problem is (the
file and key, the variable or the option), no fragment of the password, and the project's files
exactly as they were: nothing half-written, nothing left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .sandbox import ROOT, Result, assert_error, billig_command, cli_env, cluster_provider

PASSWORD = "Zq9-hemmelig"
SECRET_DSN = f"postgresql://someone:{PASSWORD}@127.0.0.1:1/billig"
# An empty contract, as an update of a schema without Billig relations used to write it.
EMPTY_CONTRACT = '{"format_version": 1, "lineage": false, "relations": [], "schemas": []}\n'
NO_BILLIG_SCHEMA = "CREATE TABLE public.kort (kort bigint PRIMARY KEY, navn text NOT NULL);\n"


@dataclass
class Project:
    """A fresh project: ``pyproject.toml`` with ``[tool.billig]``, the schema and contracts."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def table(self, lines: str) -> None:
        text = f'[project]\nname = "site"\n\n[tool.billig]\nschema = "schema.sql"\n{lines}\n'
        (self.root / "pyproject.toml").write_text(text, encoding="utf-8")

    def files(self) -> dict[str, bytes | str]:
        """Every entry under the project: a file's bytes, or what else it is."""
        found: dict[str, bytes | str] = {}
        for path in sorted(self.root.rglob("*")):
            name = str(path.relative_to(self.root))
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                found[name] = "special"
            elif path.is_dir():
                found[name] = "folder"
            else:
                found[name] = path.read_bytes()
        return found


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(ROOT / "schema" / "billig.sql", root / "schema.sql")
    shutil.copy(ROOT / "contracts" / "columns.json", root / "contracts.json")
    (root / "contracts").mkdir()
    shutil.copy(ROOT / "contracts" / "columns.json", root / "contracts" / "columns.json")
    made = Project(root)
    made.table("")
    return made


def _run(project: Project, args: list[str], cwd: Path | None = None) -> Result:
    # The test suite's own project settings stay out: the project's file decides.
    env = {k: v for k, v in cli_env().items() if k not in ("BILLIG_SCHEMA", "BILLIG_CONTRACTS")}
    env.pop("BILLIG_SITE", None)
    env["BILLIG_MIRROR_DSN"] = SECRET_DSN
    env.update(project.env)
    done = subprocess.run(
        billig_command(*args),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or project.root,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def _in_deleted_folder(project: Project) -> Result:
    """``billig check`` from a working directory removed after the shell entered it."""
    gone = project.root / "gone"
    gone.mkdir()
    env = {k: v for k, v in cli_env().items() if not k.startswith("BILLIG_")}
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    done = subprocess.run(
        ["sh", "-c", script, "sh", str(gone), *billig_command("check")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def _pyproject(text: str, *args: str) -> Callable[[Project], list[str]]:
    """The project's ``pyproject.toml`` is ``text``."""

    def setup(project: Project) -> list[str]:
        (project.root / "pyproject.toml").write_text(text, encoding="utf-8")
        return list(args)

    return setup


def _schema_at(name: str, make: Callable[[Path], object]) -> Callable[[Project], list[str]]:
    """``[tool.billig] schema`` names ``name``, which ``make`` creates (or not)."""

    def setup(project: Project) -> list[str]:
        make(project.root / name)
        (project.root / "pyproject.toml").write_text(
            f'[tool.billig]\nschema = "{name}"\n', encoding="utf-8"
        )
        return ["check", "--provider", cluster_provider()]

    return setup


def _read_only_contracts(project: Project) -> list[str]:
    if os.geteuid() == 0:  # root writes through permissions: a folder of a read-only system
        return ["contracts", "update", "--contracts", "/proc/1", "--provider", "dsn"]
    folder = project.root / "contracts"
    folder.chmod(0o500)
    return ["contracts", "update", "--provider", "dsn"]


def _empty_contract(project: Project) -> list[str]:
    (project.root / "contracts" / "columns.json").write_text(EMPTY_CONTRACT, encoding="utf-8")
    return ["check", "--provider", "dsn"]


def _no_billig_relation(project: Project) -> list[str]:
    (project.root / "schema.sql").write_text(NO_BILLIG_SCHEMA, encoding="utf-8")
    (project.root / "contracts" / "columns.json").unlink()
    project.env["BILLIG_MIRROR_DSN"] = ""
    return ["contracts", "update", "--provider", cluster_provider()]


def _table(lines: str) -> Callable[[Project], list[str]]:
    def setup(project: Project) -> list[str]:
        project.table(lines)
        return ["check", "--provider", "dsn"]

    return setup


def _variable(name: str, value: str, *args: str) -> Callable[[Project], list[str]]:
    def setup(project: Project) -> list[str]:
        project.env[name] = value
        return list(args) or ["check", "--provider", "dsn"]

    return setup


def _tmpdir(name: str) -> Callable[[Project], list[str]]:
    """``BILLIG_MIRROR_TMPDIR`` names ``name`` in the project, for a cluster provider."""

    def setup(project: Project) -> list[str]:
        project.env["BILLIG_MIRROR_TMPDIR"] = str(project.root / name)
        return ["mirror", "run", "--provider", cluster_provider(), "--", "true"]

    return setup


def _args(*args: str) -> Callable[[Project], list[str]]:
    return lambda project: list(args)


# case: (set-up returning the arguments, what the one line says)
CASES: dict[str, tuple[Callable[[Project], list[str]], str]] = {
    "events = inf": (_table("events = inf"), "pyproject.toml [tool.billig] events: must be a"),
    "events = 1.9": (_table("events = 1.9"), "[tool.billig] events: must be a whole number"),
    "events = 10**9": (
        _table("events = 1_000_000_000"),
        "events: must be a whole number from 0 to 1,000,000",
    ),
    "seed = 1.5": (_table("seed = 1.5"), "pyproject.toml [tool.billig] seed: must be a whole"),
    'tool = "x"': (_pyproject('tool = "x"\n', "check"), "pyproject.toml: tool must be a table"),
    "BILLIG_EVENTS=lots": (_variable("BILLIG_EVENTS", "lots"), "BILLIG_EVENTS: must be a whole"),
    "BILLIG_SEED=-1": (_variable("BILLIG_SEED", "-1"), "BILLIG_SEED: must be a whole number"),
    "BILLIG_CACHE=maybe": (_variable("BILLIG_CACHE", "maybe"), "$BILLIG_CACHE: must be 1/yes"),
    "BILLIG_MIRROR_PROVIDER=cloud": (
        _variable("BILLIG_MIRROR_PROVIDER", "cloud", "check"),
        "$BILLIG_MIRROR_PROVIDER: must be one of auto",
    ),
    "missing BILLIG_MIRROR_TMPDIR": (
        _tmpdir("no/such"),
        "$BILLIG_MIRROR_TMPDIR: no such directory",
    ),
    "BILLIG_MIRROR_TMPDIR a file": (_tmpdir("schema.sql"), "$BILLIG_MIRROR_TMPDIR: not a dir"),
    "schema a symlink loop": (
        _schema_at("loop.sql", lambda path: path.symlink_to(path.name)),
        "loop.sql: cannot read the schema file",
    ),
    "schema a FIFO": (_schema_at("schema.fifo", os.mkfifo), "schema.fifo: not a regular file"),
    "schema /dev/zero": (_schema_at("/dev/zero", lambda path: None), "/dev/zero: not a regular"),
    "--now 9999-12-31": (
        _args("mirror", "run", "--now", "9999-12-31", "--", "true"),
        "--now 9999-12-31: must be from 1900-01-01 to 4999-12-31",
    ),
    "deleted working directory": (lambda p: [], "the working directory is unusable"),
    "unwritable --report": (
        _args("check", "--provider", "dsn", "--report", "/proc/report.md"),
        "--report /proc/report.md: cannot write the report there",
    ),
    "--report db/new/../": (
        _args("check", "--provider", "dsn", "--report", "db/new/../"),
        "--report db/new/..: cannot write the report there: not a file name",
    ),
    "read-only contracts folder": (_read_only_contracts, "cannot write contract files there"),
    "a contract that pins nothing": (
        _empty_contract,
        "columns.json: the contract pins no relation",
    ),
    "a schema without Billig relations": (
        _no_billig_relation,
        "the schema file holds no Billig relation",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_configuration_is_exit_2_with_one_located_line_and_nothing_written(
    project: Project, case: str
) -> None:
    setup, says = CASES[case]
    args = setup(project)
    before = project.files()
    result = _in_deleted_folder(project) if case == "deleted working directory" else None
    if result is None:
        result = _run(project, args)
    assert result.code == 2, result
    message = assert_error(result, 2)
    assert says in message, message
    assert PASSWORD not in result.output
    after = project.files()
    after.pop("gone", None)
    assert after == before
