"""The release as the release workflow makes it, and a new user's first two commands with it.

The sdist and the wheel are built from this checkout's files (as ``.github/workflows/release.yml``
does, ``python -m build``) and pass ``twine check --strict``; the wheel, installed with the
Django extra into a fresh virtualenv, names its version, and in a new Django + DRF project
(written here: settings, a router sending unmanaged models to a Billig alias, serializers, a
router URLconf, a schema file) ``billig init`` then ``billig check`` pass, the test ``billig
init`` wrote passes, actionlint finds nothing in the workflows it wrote, and a second ``billig
init`` changes nothing.

Marked ``slow`` (building and installing take minutes): run by ``tox -e load``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "CHANGELOG.md", "mirror")
INSTALL_TIMEOUT = 1200
TIMEOUT = 600
WORKFLOWS = (".github/workflows/billig-contracts.yml", ".github/workflows/billig-drift.yml")
PYPROJECT = '[project]\nname = "boxoffice"  # the site\nversion = "1.0"\n'
MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boxoffice.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the files they are made of."""
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    built = run(
        [sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)],
        cwd=work,
        timeout=INSTALL_TIMEOUT,
    )
    assert built.returncode == 0, shown(built)
    return work / "dist"


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel and its Django extra (dependencies from the index)."""
    root = tmp_path_factory.mktemp("venv")
    created = run([sys.executable, "-m", "venv", str(root)], cwd=root)
    assert created.returncode == 0, shown(created)
    (wheel,) = dist.glob("billig_harness-*.whl")
    # Without this checkout on PYTHONPATH: pip would take its metadata for the installed package.
    installed = run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
         "-q", f"{wheel}[django]"],
        cwd=root, env=user_environment(root), timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    assert installed.returncode == 0, shown(installed)
    return root


def user_environment(venv: Path) -> dict[str, str]:
    """A user's shell with the virtualenv active: none of this checkout's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BILLIG_", "DJANGO_", "PYTEST_"))
        and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    # The provider stays the user's choice (auto); where to look for one is the machine's.
    for name in ("BILLIG_MIRROR_DISABLE", "BILLIG_MIRROR_IMAGE"):
        if name in os.environ:
            env[name] = os.environ[name]
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


def test_the_sdist_and_the_wheel_pass_twine_check_strict(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert sorted(p.suffix for p in files) == [".gz", ".whl"], files
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)], dist)
    assert checked.returncode == 0, shown(checked)
    assert checked.stdout.count("PASSED") == 2, shown(checked)


def test_the_installed_wheel_names_its_version(dist: Path, venv: Path) -> None:
    (wheel,) = dist.glob("billig_harness-*.whl")
    version = run([str(venv / "bin" / "billig"), "--version"], venv, user_environment(venv))
    assert version.returncode == 0, shown(version)
    assert version.stdout.strip() == f"billig, version {wheel.name.split('-')[1]}"


def test_init_then_check_and_the_first_test_pass_in_a_new_django_project(
    venv: Path, tmp_path: Path
) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "django"))
    try:
        from projects import write_project
    finally:
        sys.path.remove(str(ROOT / "tests" / "django"))
    project = write_project(tmp_path / "boxoffice").root
    (project / "pyproject.toml").write_text(PYPROJECT)  # before billig: no [tool.billig]
    (project / "manage.py").write_text(MANAGE)
    env = user_environment(venv)
    billig = str(venv / "bin" / "billig")

    init = run([billig, "init"], project, env)
    assert init.returncode == 0, shown(init)
    check = run([billig, "check"], project, env)
    assert check.returncode == 0, shown(check)
    first = run([str(venv / "bin" / "python"), "-m", "pytest", "tests/test_billig_mirror.py",
                 "-p", "no:cacheprovider"], project, env)  # fmt: skip
    assert first.returncode == 0, shown(first)
    lint = run(
        ["bash", str(ROOT / ".ci" / "actionlint"), *(str(project / w) for w in WORKFLOWS)],
        ROOT,
        {**os.environ, "BILLIG_ACTIONLINT_REQUIRED": "1"},
    )
    assert lint.returncode == 0, shown(lint)
    assert "2 file(s), 0 finding(s)" in lint.stdout + lint.stderr, shown(lint)

    files = {p: p.read_bytes() for p in project.rglob("*") if p.is_file() and _ours(p, project)}
    again = run([billig, "init"], project, env)
    assert again.returncode == 0, shown(again)
    assert {p: p.read_bytes() for p in files} == files
    assert {p for p in project.rglob("*") if p.is_file() and _ours(p, project)} == set(files)


def _ours(path: Path, project: Path) -> bool:
    """Files of the project, not caches or the site's SQLite database that tests create."""
    parts = path.relative_to(project).parts
    return "__pycache__" not in parts and not path.name.endswith(".sqlite3")
