"""``billig init`` in fresh Django + DRF projects: the configuration it writes is the project's
own (settings, Billig alias, serializer modules, URLconf), the checks and the first test pass,
and running it again changes nothing."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from projects import DjangoProject, ProjectSpec

PYPROJECT = """\
# The site's own project file: billig init must keep every line of it.
[project]
name = "site"  # not a package anyone installs
version = "1.0"

[tool.ruff]
line-length = 100  # wide
"""
MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{package}.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = (".github/workflows/billig-contracts.yml", ".github/workflows/billig-drift.yml")
TEST_FILE = "tests/test_billig_mirror.py"


def _adopting(project: DjangoProject, *, manage: bool = True) -> DjangoProject:
    """The project as it was before billig: no [tool.billig], maybe a manage.py."""
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    if manage:
        project.write("manage.py", MANAGE)
    return project


def _contents(project: DjangoProject) -> dict[str, bytes]:
    return {
        name: (project.root / name).read_bytes()
        for name in sorted(project.tree())
        if (project.root / name).is_file()
    }


@pytest.mark.parametrize(
    ("spec", "manage"),
    [
        (ProjectSpec(), True),
        (ProjectSpec(package="kiosk", database="ticketing", spectacular=True), False),
    ],
    ids=["manage.py", "settings package, other alias"],
)
def test_init_configures_the_project_and_its_checks_and_first_test_pass(
    django_project, mirror_options, spec: ProjectSpec, manage: bool
) -> None:
    project = _adopting(django_project(spec), manage=manage)
    done = project.billig("init", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (project.root / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)  # comments and layout kept, the tables appended
    data = tomllib.loads(text)
    package = spec.package
    assert data["tool"]["billig"] == {
        "schema": "schema/billig.sql",
        "contracts": "contracts",
        "site": "django",
        "django": {
            "settings": f"{package}.settings",
            "database": spec.database,
            "serializers": [f"{package}.tickets.serializers"],
            "urls": f"{package}.urls",
        },
    }
    assert data["tool"]["pytest"]["ini_options"]["DJANGO_SETTINGS_MODULE"] == f"{package}.settings"
    for name in (*WORKFLOWS, TEST_FILE, "contracts/columns.json"):
        assert (project.root / name).is_file(), done.stdout
    assert "BILLIG_PROD_DSN" in done.stdout and "Next steps" in done.stdout

    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = project.pytest(mirror_options, TEST_FILE)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout

    lint = subprocess.run(
        ["bash", str(ROOT / ".ci" / "actionlint"), *(str(project.root / w) for w in WORKFLOWS)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "0 finding(s)" in lint.stdout + lint.stderr or "skipped" in lint.stderr

    before = _contents(project)
    again = project.billig("init", *mirror_options)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _contents(project) == before
    assert "created" not in again.stdout and "replaced" not in again.stdout


def test_dry_run_prints_the_files_and_writes_nothing(django_project) -> None:
    project = _adopting(django_project())
    before = _contents(project)
    done = project.billig("init", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _contents(project) == before
    assert "would create" in done.stdout and "would update" in done.stdout
    assert "+[tool.billig.django]" in done.stdout  # the pyproject.toml change, as a diff
    assert "name: billig drift" in done.stdout


def test_a_file_with_other_content_is_kept_unless_forced(django_project) -> None:
    project = _adopting(django_project())
    drift = project.root / WORKFLOWS[1]
    drift.parent.mkdir(parents=True)
    drift.write_text("name: ours\n")
    done = project.billig("init", "--no-contracts")
    assert done.returncode == 0, done.stdout + done.stderr
    assert drift.read_text() == "name: ours\n"
    assert "kept" in done.stdout and "--force replaces it" in done.stdout
    done = project.billig("init", "--no-contracts", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "name: billig drift" in drift.read_text()


def test_unmanaged_models_routed_nowhere_is_a_usage_error(django_project, tmp_path: Path) -> None:
    project = _adopting(django_project())
    project.write("{package}/router.py", "class BilligRouter:\n    pass\n")
    done = project.billig("init", "--no-contracts")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pass --database ALIAS" in done.stderr
    assert not (project.root / WORKFLOWS[0]).exists()
