"""The package as a user gets it: a wheel of this checkout, used from another project.

The wheel is built from the files it is made of, installed (not editable, dependencies from the
package index) into a fresh virtualenv, and used with that virtualenv's ``billig`` and ``pytest``
in a project folder of its own: a ``pyproject.toml`` whose ``[tool.billig]`` names the project's
schema file, contracts folder and site source (``tests/wheel_project/mysite.py``: one SQLAlchemy
model of ``billig.event_lim_web``). The commands run without the ``BILLIG_*`` variables that this
repository's own tests export, as on a user's machine; the provider is whatever ``auto`` finds.

Marked ``slow`` (building and installing take a minute or two): run by ``tox -e load``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = Path(__file__).resolve().parent / "wheel_project"
# What the wheel is made of, and the reference site it must leave out; building in a copy keeps
# build/ and *.egg-info out of the checkout.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "mirror", "examples")
# A plain ``pip install billig-harness`` brings none of these (billig serve: the serve extra).
WEB_PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn", "httpx")
# The configuration variables: a user's machine has none of them.
CONFIG_VARIABLES = frozenset(
    (
        "BILLIG_SCHEMA",
        "BILLIG_CONTRACTS",
        "BILLIG_POLICY",
        "BILLIG_SITE",
        "BILLIG_EVENTS",
        "BILLIG_SEED",
    )
)
PYPROJECT = """\
[project]
name = "mysite"
version = "1.0"

[tool.billig]
schema = "db/billig.sql"
contracts = "pinned"
site = "mysite:SOURCE"
events = 12
"""
# Long enough for a slow package index, short enough that a hang fails the test.
INSTALL_TIMEOUT = 1200
COMMAND_TIMEOUT = 300


@dataclass(frozen=True)
class Venv:
    root: Path
    site_packages: Path

    def bin(self, name: str) -> str:
        return str(self.root / "bin" / name)


def user_environment(venv: Venv) -> dict[str, str]:
    """The environment of a user with the virtualenv activated: none of this checkout's
    configuration, no PYTHONPATH, no settings of the pytest running this test."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in CONFIG_VARIABLES
        and name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        and not name.startswith("PYTEST_")
    }
    env["VIRTUAL_ENV"] = str(venv.root)
    env["PATH"] = os.pathsep.join([str(venv.root / "bin"), env.get("PATH", "")])
    return env


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    if env is None:
        # Nothing of this checkout on the path: pip would take its egg-info for an installed
        # billig-harness and skip the wheel.
        env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name,
                source / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", ".pytest_cache"),
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)],
        cwd=work,
        timeout=INSTALL_TIMEOUT,
    )
    assert built.returncode == 0, output(built)
    (found,) = dist.glob("billig_harness-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("venv")
    created = run([sys.executable, "-m", "venv", str(root)], cwd=root)
    assert created.returncode == 0, output(created)
    python = str(root / "bin" / "python")
    installed = run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)],
        cwd=root,
        timeout=INSTALL_TIMEOUT,
    )
    assert installed.returncode == 0, output(installed)
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root)
    return Venv(root, Path(purelib.stdout.strip()))


def make_project(folder: Path) -> Path:
    """A user's project: its own schema file, site module, tests and configuration."""
    (folder / "db").mkdir(parents=True)
    shutil.copy2(ROOT / "schema" / "billig.sql", folder / "db" / "billig.sql")
    shutil.copy2(PROJECT_FILES / "mysite.py", folder / "mysite.py")
    shutil.copy2(PROJECT_FILES / "project_tests.py", folder / "test_events.py")
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def project(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with its contracts pinned by ``billig contracts update``."""
    folder = make_project(tmp_path_factory.mktemp("project") / "mysite")
    updated = run([venv.bin("billig"), "contracts", "update"], folder, user_environment(venv))
    assert updated.returncode == 0, output(updated)
    assert "added     pinned/columns.json" in updated.stdout, output(updated)
    return folder


def test_the_venv_runs_the_installed_wheel_not_the_checkout(wheel: Path, venv: Venv) -> None:
    probe = run(
        [
            venv.bin("python"),
            "-c",
            "import mirror, importlib.metadata as m; print(mirror.__file__); "
            "print(*sorted(e.name for e in m.entry_points(group='pytest11')))",
        ],
        venv.root,
        user_environment(venv),
    )
    assert probe.returncode == 0, output(probe)
    location, plugins = probe.stdout.splitlines()
    package = Path(location).parent
    assert package == venv.site_packages / "mirror"
    assert "billig_mirror" in plugins.split()
    assert (package / "py.typed").is_file()
    queries = sorted(p.name for p in (ROOT / "mirror" / "sources" / "sql").glob("*.sql"))
    assert queries
    assert sorted(p.name for p in (package / "sources" / "sql").glob("*.sql")) == queries
    version = run([venv.bin("billig"), "--version"], venv.root, user_environment(venv))
    assert version.returncode == 0, output(version)
    assert wheel.name.split("-")[1] in version.stdout, output(version)


def test_the_wheel_holds_the_harness_and_requires_no_web_framework(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    assert {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith("dist-info")
    } == {"mirror"}
    assert not [n for n in names if n.startswith(("mirror/site/", "examples/"))]
    assert not [n for n in names if "fastapi_site" in n or "billig_models" in n]
    core = [r for r in requires if "extra ==" not in r]
    assert core and not [r for r in core if r.lower().startswith(WEB_PACKAGES)], core
    serve = [r for r in requires if 'extra == "serve"' in r]
    assert [r for r in serve if r.lower().startswith("uvicorn")], requires


def test_the_install_brings_no_web_framework(venv: Venv) -> None:
    probe = run(
        [
            venv.bin("python"),
            "-c",
            "import importlib.util as u, sys; "
            "print(*[n for n in sys.argv[1:] if u.find_spec(n) is not None])",
            *WEB_PACKAGES,
        ],
        venv.root,
        user_environment(venv),
    )
    assert probe.returncode == 0, output(probe)
    assert probe.stdout.split() == []


def test_serve_without_the_serve_extra_exits_2_naming_it(project: Path, venv: Venv) -> None:
    served = run([venv.bin("billig"), "serve", "--port", "0"], project, user_environment(venv))
    assert served.returncode == 2, output(served)
    assert "pip install 'billig-harness[serve]'" in served.stderr, output(served)
    assert "Traceback" not in served.stderr


def test_contracts_update_pins_the_project_schema_with_the_users_lineage(
    project: Path, venv: Venv
) -> None:
    contract = json.loads((project / "pinned" / "columns.json").read_text(encoding="utf-8"))
    relations = {(r["schema"], r["name"]): r for r in contract["relations"]}
    assert ("billig", "ticket") in relations  # every relation of the project's schema file
    view = {c["name"]: c for c in relations["billig", "event_lim_web"]["columns"]}
    assert view["event_name"]["lineage"] == {"models": ["WebEvent.name"], "requires_not_null": True}
    assert view["event"]["lineage"]["models"] == ["WebEvent.id"]
    assert view["event_note"]["lineage"] == {}  # not read by the model
    # Nothing was written next to the installed package.
    assert not list(venv.site_packages.rglob("columns.json"))
    assert not (venv.site_packages / "pinned").exists()


def test_check_passes_with_the_models_check(project: Path, venv: Venv) -> None:
    checked = run([venv.bin("billig"), "check"], project, user_environment(venv))
    assert checked.returncode == 0, output(checked)
    assert "every model column is in columns.json" in checked.stdout
    assert "(3 model columns)" in checked.stdout
    assert "contracts: 3 checks, all contracts hold" in checked.stdout


def test_check_fails_after_a_schema_edit_dropping_a_pinned_column(
    project: Path, venv: Venv, tmp_path: Path
) -> None:
    edited = tmp_path / "mysite"
    shutil.copytree(project, edited)
    schema = edited / "db" / "billig.sql"
    ddl = schema.read_text(encoding="utf-8")
    assert "sale_from, sale_to, hidden" in ddl  # the select list of billig.event_lim_web
    schema.write_text(ddl.replace("sale_from, sale_to, hidden", "sale_from, hidden"), "utf-8")
    checked = run([venv.bin("billig"), "check"], edited, user_environment(venv))
    assert checked.returncode == 1, output(checked)
    assert "billig.event_lim_web.sale_to" in checked.stdout, output(checked)
    assert "is missing" in checked.stdout, output(checked)


def test_config_shows_the_projects_values(project: Path, venv: Venv) -> None:
    shown = run([venv.bin("billig"), "config"], project, user_environment(venv))
    assert shown.returncode == 0, output(shown)
    origin = f"{project / 'pyproject.toml'} [tool.billig]"
    rows = {line.split()[0]: line for line in shown.stdout.splitlines() if line.strip()}
    assert str(project / "db" / "billig.sql") in rows["schema"] and origin in rows["schema"]
    assert str(project / "pinned") in rows["contracts"] and origin in rows["contracts"]
    assert str(project / "pinned" / "drift-policy.json") in rows["policy"]
    assert "mysite:SOURCE" in rows["site"] and origin in rows["site"]
    assert "12" in rows["events"] and origin in rows["events"]
    assert "default" in rows["seed"]


def test_the_projects_tests_use_the_plugins_fixtures(project: Path, venv: Venv) -> None:
    tested = run(
        [venv.bin("pytest"), "-p", "no:cacheprovider", "-q", "test_events.py"],
        project,
        user_environment(venv),
    )
    assert tested.returncode == 0, output(tested)
    assert "4 passed" in tested.stdout, output(tested)
