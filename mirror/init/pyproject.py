"""The project's ``pyproject.toml``, edited in place: ``[tool.billig]`` (and its ``django``
table) added to whatever the file holds, every comment, blank line and layout kept (tomlkit).

An existing ``[tool.billig]`` is the project's: it is left alone unless replacing is asked for,
and then only the keys ``billig init`` knows are set, others kept. pytest-django needs the
settings module too; it is added to ``[tool.pytest.ini_options]`` only when no pytest
configuration names one already, with the folder the project imports from in pytest's
``pythonpath`` when that is not the project folder (``src/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from configparser import ConfigParser
from configparser import Error as IniError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from mirror.errors import ConfigError

PYPROJECT = "pyproject.toml"
# A table whose sub-tables are spread over the file ([tool.ruff] … [project] … [tool.black]) is
# read through a proxy; both are edited alike.
TABLES = (Table, OutOfOrderTableProxy)
HEADER = "billig-harness: contract tests and drift checks of Billig (written by billig init)"


@dataclass(frozen=True, slots=True)
class PyprojectEdit:
    """The new text of the file and what changed in it, in words."""

    text: str
    changes: tuple[str, ...]
    notes: tuple[str, ...] = ()


def edit_pyproject(
    original: str,
    billig: Mapping[str, Any],
    django: Mapping[str, Any] | None,
    *,
    replace: bool = False,
    pytest_settings: str | None = None,
    pytest_path: str = ".",
    other_pytest_config: str | None = None,
    where: str = PYPROJECT,
) -> PyprojectEdit:
    """``original`` with ``[tool.billig]`` = ``billig`` (and ``[tool.billig.django]``).

    ``pytest_settings`` is the Django settings module pytest-django must use; it is written to
    ``[tool.pytest.ini_options]`` unless a pytest configuration already names one, or
    ``other_pytest_config`` (a pytest.ini, tox.ini or setup.cfg that pytest reads instead)
    holds pytest's settings, which then gets a note. ``pytest_path`` (the folder the
    project's modules import from) goes into pytest's ``pythonpath`` unless it is ``"."``.
    """
    try:
        doc = tomlkit.parse(original)
    except TOMLKitError as exc:
        raise ConfigError(f"{where}: not readable as TOML ({exc})") from None
    changes: list[str] = []
    notes: list[str] = []
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc.append("tool", tool)
    if not isinstance(tool, TABLES):
        raise ConfigError(f"{where}: tool must be a table")
    existing = tool.get("billig")
    if existing is None:
        table = tomlkit.table()
        table.add(tomlkit.comment(HEADER))
        _fill(table, billig)
        if django is not None:
            table.append("django", _filled(tomlkit.table(), django))
        _put(tool, "billig", table)
        changes.append("added [tool.billig]" + (" and [tool.billig.django]" if django else ""))
    elif replace:
        if not isinstance(existing, TABLES):
            raise ConfigError(f"{where}: [tool.billig] must be a table")
        _fill(existing, billig)
        if django is not None:
            current = existing.get("django")
            if isinstance(current, TABLES):
                _fill(current, django)
            else:
                existing["django"] = _filled(tomlkit.table(), django)
        changes.append("set the keys of [tool.billig] (others kept)")
    elif not _holds(existing, billig, django):
        notes.append(f"{where}: [tool.billig] exists and was kept (--force sets its keys)")
    if pytest_settings is not None:
        changes += _pytest_settings(
            doc, tool, pytest_settings, pytest_path, other_pytest_config, notes
        )
    return PyprojectEdit(tomlkit.dumps(doc), tuple(changes), tuple(notes))


def _holds(existing: Any, billig: Mapping[str, Any], django: Mapping[str, Any] | None) -> bool:
    """Whether the existing ``[tool.billig]`` already says what would be written."""
    table = existing.unwrap() if isinstance(existing, TABLES) else {}
    wanted = dict(billig) if django is None else {**billig, "django": dict(django)}
    return all(table.get(k) == v for k, v in wanted.items())


def _put(parent: Any, key: str, table: Table) -> None:
    """Add ``table`` under ``parent``: at its end, or (a spread table) after its first part,
    followed by a blank line as the next table expects."""
    if isinstance(parent, OutOfOrderTableProxy):
        table.add(tomlkit.nl())
        parent[key] = table
    else:
        parent.append(key, table)


def _fill(table: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        table[key] = value


def _filled(table: Any, values: Mapping[str, Any]) -> Table:
    _fill(table, values)
    return table


def _pytest_settings(
    doc: Any, tool: Any, settings: str, path: str, other: str | None, notes: list[str]
) -> list[str]:
    wanted = f"DJANGO_SETTINGS_MODULE = {settings}"
    if path != ".":
        wanted += f" and pythonpath = {path}"
    if other == "pytest.ini":  # read before pyproject.toml: a key here would be ignored
        notes.append(f"pytest reads pytest.ini: make sure it sets {wanted} for pytest-django")
        return []
    pytest_table = tool.get("pytest")
    options = pytest_table.get("ini_options") if isinstance(pytest_table, TABLES) else None
    if isinstance(options, TABLES):
        changes = []
        if "DJANGO_SETTINGS_MODULE" not in options:
            options["DJANGO_SETTINGS_MODULE"] = settings
            changes.append("set DJANGO_SETTINGS_MODULE in [tool.pytest.ini_options]")
        changes += _pythonpath(options, path, notes)
        return changes
    if other is not None:
        notes.append(f"pytest reads {other}: make sure it sets {wanted} for pytest-django")
        return []
    options = tomlkit.table()
    options["DJANGO_SETTINGS_MODULE"] = settings
    if path != ".":
        options["pythonpath"] = [path]
    if not isinstance(pytest_table, TABLES):
        pytest_table = tomlkit.table(is_super_table=True)
        _put(tool, "pytest", pytest_table)
    _put(pytest_table, "ini_options", options)
    keys = "DJANGO_SETTINGS_MODULE" + (" and pythonpath" if path != "." else "")
    return [f"added [tool.pytest.ini_options] {keys} (for pytest-django)"]


def _pythonpath(options: Any, path: str, notes: list[str]) -> list[str]:
    """``path`` added to pytest's ``pythonpath`` of ``options`` (a list), unless it is there."""
    if path == ".":
        return []
    current = options.get("pythonpath")
    if current is None:
        options["pythonpath"] = [path]
    elif isinstance(current, list) and all(isinstance(p, str) for p in current):
        if path in [p.strip("/") for p in current]:
            return []
        current.append(path)
    else:
        notes.append(f"make sure pytest's pythonpath holds {path} for pytest-django")
        return []
    return [f"added {path} to pythonpath in [tool.pytest.ini_options]"]


def pytest_config_file(root: Path) -> str | None:
    """The file other than ``pyproject.toml`` that pytest takes its settings from, if any
    (pytest.ini always; tox.ini with ``[pytest]``; setup.cfg with ``[tool:pytest]``)."""
    if (root / "pytest.ini").is_file() or (root / ".pytest.ini").is_file():
        return "pytest.ini"
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if not path.is_file():
            continue
        parser = ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (IniError, UnicodeDecodeError):
            continue
        if parser.has_section(section):
            return name
    return None
