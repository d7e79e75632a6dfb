"""``[tool.billig]``: found upwards, paths relative to the file, overridden by variables and
options, and bad values rejected with the file and key named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mirror.config import load_config
from mirror.errors import ConfigError


def _project(folder: Path, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n{table}\n")
    return folder


def test_defaults_without_a_pyproject_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    assert config.pyproject is None
    assert config.schema == tmp_path / "schema" / "billig.sql"
    assert config.contracts == tmp_path / "contracts"
    assert config.policy == tmp_path / "contracts" / "drift-policy.json"
    assert (config.site, config.events, config.seed) == (None, 60, 1)
    assert set(config.origins.values()) == {"default"}


def test_the_nearest_table_is_found_upwards_and_its_paths_are_relative_to_it(
    tmp_path: Path,
) -> None:
    root = _project(
        tmp_path / "app",
        '[tool.billig]\nschema = "db/billig.sql"\ncontracts = "pinned"\nsite = "app.site:SOURCE"\n'
        "events = 12\n",
    )
    inner = root / "src" / "pkg"
    inner.mkdir(parents=True)
    config = load_config(inner, environ={})
    assert config.pyproject == root / "pyproject.toml"
    assert config.schema == root / "db" / "billig.sql"
    assert config.policy == root / "pinned" / "drift-policy.json"
    assert (config.site, config.events) == ("app.site:SOURCE", 12)
    assert config.origins["schema"] == f"{root / 'pyproject.toml'} [tool.billig]"


def test_a_pyproject_without_the_table_is_skipped(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.billig]\ncontracts = "c"\n')
    child = _project(tmp_path / "child", "[tool.other]\nx = 1\n")
    assert load_config(child, environ={}).contracts == root / "c"


def test_variables_override_the_file_and_options_override_both(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.billig]\nschema = "a.sql"\nseed = 3\n')
    env = {"BILLIG_SCHEMA": "b.sql", "BILLIG_SEED": "4"}
    config = load_config(root, environ=env)
    assert (config.schema, config.seed) == (root / "b.sql", 4)
    assert config.origins["schema"] == "$BILLIG_SCHEMA"
    given = load_config(root, overrides={"schema": "c.sql"}, environ=env)
    assert given.schema == root / "c.sql"
    assert given.origins["schema"] == "--schema-file option"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("shcema = 'x'", "unknown key 'shcema'"),
        ("events = -1", "events must be a non-negative integer"),
        ("events = 'many'", "events must be an integer"),
        ("schema = ''", "schema must be a non-empty string"),
        ("site = 'django'", 'site = "django" needs [tool.billig.django] settings'),
        ("[tool.billig.django]\nsettings = 's'\ncolour = 'x'", "unknown key 'colour'"),
        ("[tool.billig.django]\nserializers = [1]", "serializers must be a list of module names"),
    ],
)
def test_bad_values_name_the_file_and_the_key(tmp_path: Path, table: str, message: str) -> None:
    _project(tmp_path, f"[tool.billig]\n{table}\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml") as info:
        load_config(tmp_path, environ={})
    assert message in str(info.value)


def test_the_django_table_has_its_defaults(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.billig]\nsite = 'django'\n[tool.billig.django]\nsettings = 'app.s'\n")
    django = load_config(tmp_path, environ={}).django
    assert (django.settings, django.database, django.serializers, django.urls) == (
        "app.s",
        "billig",
        (),
        None,
    )


def test_billig_config_prints_each_value_and_where_it_came_from(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.billig]\nevents = 7\n")
    env = {"PATH": "/usr/bin:/bin", "BILLIG_SEED": "9"}
    done = subprocess.run(
        [sys.executable, "-m", "mirror.cli", "config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"pyproject: {tmp_path.resolve() / 'pyproject.toml'}"
    pyproject = tmp_path.resolve() / "pyproject.toml"
    assert f"events     7  [{pyproject} [tool.billig]]" in lines, lines
    assert "seed       9  [$BILLIG_SEED]" in lines, lines


def test_a_bad_configuration_is_a_usage_error_exit_2(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.billig]\nevents = 'x'\n")
    done = subprocess.run(
        [sys.executable, "-m", "mirror.cli", "config"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("billig: error: ") and "events must be an integer" in done.stderr
