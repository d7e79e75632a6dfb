"""``billig init`` beyond Django: a site source named with ``--site``, a project with no site,
``pyproject.toml`` edited in place whatever it holds, and no secret ever shown."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.dsn import Dsn
from mirror.init.pyproject import edit_pyproject

ROOT = Path(__file__).resolve().parent.parent
TEST_FILE = "tests/test_billig_mirror.py"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BILLIG_", "DJANGO_", "PYTEST_")) and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = str(ROOT)  # the harness of this checkout; nothing of the project
    return env | (extra or {})


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env or _env(), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.fixture
def server_url(billig_server: Any) -> str:
    return Dsn.of(billig_server.admin_url).url()


@pytest.mark.parametrize("site", [True, False], ids=["--site", "no site"])
def test_init_without_django_pins_and_tests_the_schema(
    tmp_path: Path, server_url: str, site: bool
) -> None:
    (tmp_path / "db").mkdir()
    shutil.copy2(ROOT / "schema" / "billig.sql", tmp_path / "db" / "billig.sql")
    args = ["--provider", "dsn", "--dsn", server_url]
    if site:
        shutil.copy2(ROOT / "tests" / "wheel_project" / "mysite.py", tmp_path / "mysite.py")
        args += ["--site", "mysite:SOURCE"]
    done = _run("-m", "mirror.cli", "init", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    billig = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["billig"]
    assert billig["schema"] == "db/billig.sql"  # found: the file creating the relations
    assert billig.get("site") == ("mysite:SOURCE" if site else None)
    assert "found            db/billig.sql" in done.stdout
    contract = (tmp_path / "contracts" / "columns.json").read_text()
    assert ("WebEvent.name" in contract) is site
    checked = _run("-m", "mirror.cli", "check", *args[:4], cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    env = _env({"BILLIG_MIRROR_PROVIDER": "dsn", "BILLIG_MIRROR_DSN": server_url})
    tested = _run("-m", "pytest", TEST_FILE, "-p", "no:cacheprovider", cwd=tmp_path, env=env)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and _ours(p)}
    again = _run("-m", "mirror.cli", "init", *args[:4], cwd=tmp_path)  # no --site: as written
    assert again.returncode == 0, again.stdout + again.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and _ours(p)} == files
    assert "note:" not in again.stdout


def _ours(path: Path) -> bool:
    return "__pycache__" not in path.parts and ".pytest_cache" not in path.parts


def test_the_password_of_schema_from_is_never_shown(tmp_path: Path) -> None:
    dsn = "postgresql://reader:Pw-n0t-4-y0u@127.0.0.1:1/billig?connect_timeout=2"
    done = _run("-m", "mirror.cli", "init", "--schema-from", dsn, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Pw-n0t-4-y0u" not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing is written before the schema is read


# --------------------------------------------------------------------------- pyproject.toml

keys = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
values = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.lists(st.integers(0, 9), max_size=3),
)
comments = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A project file as people write them: tables (some under [tool]), comments, blank lines."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(f"# {draw(comments)}")
    names = draw(st.lists(st.sampled_from(["project", "tool.ruff", "tool.black", "build-system",
                                           "tool.pytest.ini_options", "tool.ruff.lint"]),
                          unique=True, max_size=4))  # fmt: skip
    for name in names:
        lines += ["", f"[{name}]"]
        for key, value in draw(st.dictionaries(keys, values, max_size=3)).items():
            text = f"{key} = {_toml(value)}"
            if draw(st.booleans()):
                text += f"  # {draw(comments)}"
            lines.append(text)
    return "\n".join(lines) + ("\n" if lines else "")


def _toml(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=80, deadline=None)
@given(documents(), st.booleans())
def test_editing_keeps_every_line_and_value_of_the_file(original: str, django: bool) -> None:
    billig = {"schema": "schema/billig.sql", "contracts": "contracts", "site": "django"}
    table = {"settings": "site.settings", "database": "billig", "serializers": ["site.api"]}
    edit = edit_pyproject(
        original, billig, table if django else None,
        pytest_settings="site.settings" if django else None,
    )  # fmt: skip
    lines = iter(edit.text.splitlines())
    assert all(line in lines for line in original.splitlines())  # in order, none lost
    expected = tomllib.loads(original)  # every value kept, two tables more
    tool = expected.setdefault("tool", {})
    tool["billig"] = {**billig, **({"django": table} if django else {})}
    if django:
        options = tool.setdefault("pytest", {}).setdefault("ini_options", {})
        options.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")
    assert tomllib.loads(edit.text) == expected
    again = edit_pyproject(edit.text, billig, table if django else None)
    assert again.text == edit.text and again.changes == () and again.notes == ()
