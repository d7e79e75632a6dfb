"""``[tool.billig]``: found upwards, paths relative to the file, overridden by variables and
options, and bad values rejected with the file and key named."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.config import VARIABLES, load_config, variable
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
        ("events = -1", "events: must be a whole number from 0 to 1,000,000, got -1"),
        ("events = 'many'", "events: must be a whole number from 0 to 1,000,000, got 'many'"),
        ("events = inf", "events: must be a whole number from 0 to 1,000,000, got inf"),
        ("events = nan", "events: must be a whole number from 0 to 1,000,000, got nan"),
        ("events = 1.9", "events: must be a whole number from 0 to 1,000,000, got 1.9"),
        ("events = 1_000_000_000", "events: must be a whole number from 0 to 1,000,000, got"),
        ("events = true", "events: must be a whole number from 0 to 1,000,000, got True"),
        ("seed = 1.5", "seed: must be a whole number from 0 to 9,223,372,036,854,775,807, got 1.5"),
        ("seed = 2e0", "seed: must be a whole number"),
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


@pytest.mark.parametrize("tool", ['tool = "x"', "tool = 3", "tool = [1]"])
def test_a_tool_key_that_is_not_a_table_names_the_file(tmp_path: Path, tool: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"{tool}\n[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: tool must be a table"):
        load_config(tmp_path, environ={})


@pytest.mark.parametrize(
    ("variable", "value"),
    [("BILLIG_EVENTS", "1.9"), ("BILLIG_EVENTS", "inf"), ("BILLIG_EVENTS", "1000001"),
     ("BILLIG_SEED", "-1"), ("BILLIG_SEED", "0x10"), ("BILLIG_EVENTS", "1e3")],
)  # fmt: skip
def test_a_variable_that_is_not_a_whole_number_in_range_names_itself(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^{variable}: must be a whole number"):
        load_config(tmp_path, environ={variable: value})


@given(st.integers(min_value=0, max_value=1_000_000))
def test_any_whole_number_in_range_is_read_the_same_from_file_variable_and_option(
    events: int,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _project(root, f"[tool.billig]\nevents = {events}\n")
        assert load_config(root, environ={}).events == events
        assert load_config(root, environ={"BILLIG_EVENTS": f" {events} "}).events == events
        assert load_config(root, overrides={"events": events}, environ={}).events == events


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
    assert (
        done.stderr.startswith("billig: error: ")
        and "events: must be a whole number" in done.stderr
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("BILLIG_CACHE", "maybe", "must be 1/yes/true/on or 0/no/false/off"),
        ("BILLIG_CACHE_MAX_MB", "lots", "must be a number"),
        ("BILLIG_CACHE_MAX_MB", "-5", "must be a finite number of at least 0"),
        ("BILLIG_CACHE_MAX_MB", "inf", "must be a finite number of at least 0"),
        ("BILLIG_PROGRESS_DELAY", "nan", "must be a finite number of at least 0"),
        ("BILLIG_MIRROR_PROVIDER", "cloud", "must be one of auto, docker"),
        ("BILLIG_MIRROR_TMPDIR", "/no/such/folder", "no such directory"),
        ("BILLIG_MIRROR_TMPDIR", "/dev/null", "not a directory"),
        ("BILLIG_MIRROR_IMAGE", "post\x00gres", "holds a NUL character"),
    ],
)
def test_a_variable_the_harness_cannot_use_is_refused_naming_it(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as info:
        variable(name, {name: value})
    message = str(info.value)
    assert message.startswith(f"${name}: ") and says in message and f", got {value!r}" in message


def test_a_dsn_variable_is_never_repeated_in_its_message() -> None:
    with pytest.raises(ConfigError) as info:
        variable("BILLIG_PROD_DSN", {"BILLIG_PROD_DSN": "postgresql://u:Hunter2@h/d\x00"})
    assert "Hunter2" not in str(info.value)


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_an_unset_or_blank_variable_is_none(name: str) -> None:
    assert variable(name, {}) is None
    assert variable(name, {name: "  "}) is None


def test_only_the_configuration_reads_billig_variables() -> None:
    """Every BILLIG_* variable is read through mirror.config: one parser and one message each."""
    import ast

    package = Path(__file__).resolve().parent.parent / "mirror"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "config.py" and path.parent == package:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                reads = node.func.attr in ("get", "getenv", "pop") and node.args
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                reads, node.args = True, [node.slice]  # type: ignore[attr-defined]
            else:
                continue
            if not reads:
                continue
            first = node.args[0]  # type: ignore[attr-defined]
            name = first.value if isinstance(first, ast.Constant) else None
            if isinstance(first, ast.Name):
                name = constants.get(first.id)
            if isinstance(name, str) and name.startswith("BILLIG_"):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}: {name}")
    assert offenders == []
