"""Configuration: the ``[tool.billig]`` table of the project's ``pyproject.toml``.

The file is the nearest ``pyproject.toml`` with a ``[tool.billig]`` table, from the working
directory upwards. Every value can be overridden by a ``BILLIG_*`` environment variable, and that
by a command-line option; :class:`Config` remembers where each value came from (``billig
config`` prints it). Paths in the file are relative to the file; paths from the environment or
the command line to the working directory; without a file, defaults are relative to the working
directory. Nothing is ever looked up next to the installed package.

The other ``BILLIG_*`` variables (where mirrors come from, the cache, progress) are read here too,
by :func:`variable`, and nowhere else: each has one parser, and a value it cannot use is a
:class:`~mirror.errors.ConfigError` naming the variable, never a guess or a silent default.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError

PYPROJECT = "pyproject.toml"
DEFAULT_EVENTS = 60
DEFAULT_SEED = 1
MAX_EVENTS = 1_000_000  # the seed's bound, the same for the file, the variable and the option
MAX_SEED = 2**63 - 1
DJANGO = "django"

# key: (environment variable, default)
_KEYS: dict[str, tuple[str, Any]] = {
    "schema": ("BILLIG_SCHEMA", "schema/billig.sql"),
    "contracts": ("BILLIG_CONTRACTS", "contracts"),
    "policy": ("BILLIG_POLICY", None),  # default: <contracts>/drift-policy.json
    "site": ("BILLIG_SITE", None),
    "events": ("BILLIG_EVENTS", DEFAULT_EVENTS),
    "seed": ("BILLIG_SEED", DEFAULT_SEED),
}
_PATHS = ("schema", "contracts", "policy")
_INTS = {"events": MAX_EVENTS, "seed": MAX_SEED}  # key: largest value
_WHOLE = re.compile(r"\s*\+?\d+\s*")
POLICY_FILE = "drift-policy.json"
_OPTIONS = {"schema": "--schema-file"}  # the command-line option of a key, where not --key

_DJANGO_KEYS: dict[str, Any] = {
    "settings": None,
    "database": "billig",
    "serializers": [],
    "urls": None,
    "path": ".",
}


@dataclass(frozen=True)
class DjangoConfig:
    """``[tool.billig.django]``: the settings module, the Billig alias, what is pinned."""

    settings: str | None = None
    database: str = "billig"
    serializers: tuple[str, ...] = ()
    urls: str | None = None
    # The folder holding the project's top-level packages (where manage.py is), relative to
    # the pyproject.toml: "src" for a project kept in src/.
    path: str = "."


@dataclass(frozen=True)
class Config:
    """Resolved settings; ``origins`` says where each came from."""

    root: Path
    pyproject: Path | None
    schema: Path
    contracts: Path
    policy: Path
    site: str | None
    events: int
    seed: int
    django: DjangoConfig = field(default_factory=DjangoConfig)
    origins: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, value, origin) for every setting, in the order of the documentation."""
        rows = []
        for key in _KEYS:
            value = getattr(self, key)
            rows.append((key, "" if value is None else str(value), self.origins.get(key, "")))
        if self.site == DJANGO or self.pyproject_has_django:
            for key in _DJANGO_KEYS:
                value = getattr(self.django, key)
                shown = ", ".join(value) if isinstance(value, tuple) else value
                rows.append(
                    (
                        f"django.{key}",
                        "" if shown is None else str(shown),
                        self.origins.get(f"django.{key}", "default"),
                    )
                )
        return rows

    @property
    def pyproject_has_django(self) -> bool:
        return any(k.startswith("django.") for k in self.origins)


def find_pyproject(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.billig]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / PYPROJECT
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{candidate}: not readable as TOML ({exc})") from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{candidate}: tool must be a table ([tool.billig]), got {tool!r}")
        table = tool.get("billig")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"{candidate}: [tool.billig] must be a table")
            return candidate, table
    return None


def load_config(
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The configuration seen from ``cwd``: file, then ``BILLIG_*`` variables, then options.

    ``overrides`` are command-line values by key (None: not given).
    """
    try:
        here = (cwd or Path.cwd()).resolve()
    except OSError as exc:  # the working directory was deleted under the shell
        raise ConfigError(f"the working directory is unusable ({exc.strerror or exc})") from None
    env = os.environ if environ is None else environ
    found = find_pyproject(here)
    pyproject, table = found if found else (None, {})
    root = pyproject.parent if pyproject else here
    where = f"{pyproject} [tool.billig]" if pyproject else ""
    unknown = sorted(set(table) - set(_KEYS) - {DJANGO})
    if unknown:
        known = ", ".join([*_KEYS, DJANGO])
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {known})")

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, (variable, default) in _KEYS.items():
        given = (overrides or {}).get(key)
        if given is not None:
            option = _OPTIONS.get(key, f"--{key}")
            values[key], origins[key] = _value(key, given, here, option), f"{option} option"
        elif env.get(variable):
            values[key] = _value(key, env[variable], here, variable)
            origins[key] = f"${variable}"
        elif key in table:
            values[key], origins[key] = _value(key, table[key], root, f"{where} {key}"), where
        else:
            values[key] = _value(key, default, root, key) if default is not None else None
            origins[key] = "default"
    if values["policy"] is None:
        values["policy"] = values["contracts"] / POLICY_FILE
    django, django_origins = _django(table.get(DJANGO), where)
    origins.update(django_origins)
    if values["site"] == DJANGO and not django.settings:
        raise ConfigError(
            f'{where or "configuration"}: site = "django" needs [tool.billig.django] settings'
        )
    return Config(root=root, pyproject=pyproject, django=django, origins=origins, **values)


def _value(key: str, raw: Any, base: Path, where: str) -> Any:
    if key in _INTS:
        return _whole_number(raw, where, _INTS[key])
    if isinstance(raw, Path):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise ConfigError(f"{where}: {key} must be a non-empty string, got {raw!r}")
    if key in _PATHS:
        try:
            return (base / raw).resolve()
        except (OSError, RuntimeError):  # a symlink loop: the code reading the file says so
            return base / raw
    return raw


def _whole_number(raw: Any, where: str, largest: int) -> int:
    """A whole number from 0 to ``largest``: an integer, or its digits as text; never a float
    (1.9 is not silently 1), a boolean or infinity."""
    if isinstance(raw, str) and _WHOLE.fullmatch(raw):
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= largest:
        raise ConfigError(f"{where}: must be a whole number from 0 to {largest:,}, got {raw!r}")
    return raw


def _django(table: Any, where: str) -> tuple[DjangoConfig, dict[str, str]]:
    if table is None:
        return DjangoConfig(), {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: django must be a table ([tool.billig.django])")
    unknown = sorted(set(table) - set(_DJANGO_KEYS))
    if unknown:
        known = ", ".join(_DJANGO_KEYS)
        raise ConfigError(f"{where}.django: unknown key {unknown[0]!r} (known: {known})")
    for key in ("settings", "database", "urls", "path"):
        if key in table and (not isinstance(table[key], str) or not table[key]):
            raise ConfigError(f"{where}.django: {key} must be a non-empty string")
    serializers = table.get("serializers", [])
    if isinstance(serializers, str):
        serializers = [serializers]
    if not isinstance(serializers, list) or not all(isinstance(s, str) and s for s in serializers):
        raise ConfigError(f"{where}.django: serializers must be a list of module names")
    origins = {f"django.{k}": f"{where}.django" for k in table}
    return (
        DjangoConfig(
            settings=table.get("settings"),
            database=table.get("database", "billig"),
            serializers=tuple(serializers),
            urls=table.get("urls"),
            path=table.get("path", "."),
        ),
        origins,
    )


# --------------------------------------------------------------------------- variables


def _text(raw: str) -> str:
    if "\x00" in raw:
        raise ValueError("holds a NUL character")
    return raw


def _names(raw: str) -> frozenset[str]:
    return frozenset(p.strip() for p in _text(raw).split(",") if p.strip())


def _switch(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ValueError("must be 1/yes/true/on or 0/no/false/off")


def _amount(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number of at least 0")
    return value


def _provider(raw: str) -> str:
    from mirror.provision import PROVIDERS

    if raw.strip() not in ("auto", *PROVIDERS):
        raise ValueError(f"must be one of auto, {', '.join(PROVIDERS)}")
    return raw.strip()


def _folder(raw: str) -> str:
    path = Path(_text(raw))
    if not path.is_dir():
        raise ValueError("no such directory" if not path.exists() else "not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError("the directory is not writable")
    return str(path)


@dataclass(frozen=True)
class Variable:
    """A ``BILLIG_*`` variable outside ``[tool.billig]``: what it means and how it is read."""

    meaning: str
    parse: Callable[[str], Any]
    secret: bool = False  # a DSN: its value is never repeated in a message


VARIABLES: dict[str, Variable] = {
    "BILLIG_PROD_DSN": Variable("production Billig for billig drift", _text, secret=True),
    "BILLIG_MIRROR_DSN": Variable("the existing server of the dsn provider", _text, secret=True),
    "BILLIG_MIRROR_PROVIDER": Variable("where mirrors come from (default auto)", _provider),
    "BILLIG_MIRROR_IMAGE": Variable("the docker provider's image", _text),
    "BILLIG_MIRROR_DISABLE": Variable("providers auto skips, comma-separated", _names),
    "BILLIG_MIRROR_USER": Variable("the unprivileged user clusters run as under root", _text),
    "BILLIG_MIRROR_TMPDIR": Variable("where cluster directories go", _folder),
    "BILLIG_CACHE": Variable("whether mirrors are cached (default 1)", _switch),
    "BILLIG_CACHE_MAX_MB": Variable("the cache's bound in megabytes", _amount),
    "BILLIG_PROGRESS_DELAY": Variable("seconds before a step shows its progress", _amount),
}


def variable(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The parsed value of the ``BILLIG_*`` variable ``name``; None when unset or empty.

    A value its parser refuses is a :class:`~mirror.errors.ConfigError` naming the variable.
    """
    raw = (os.environ if environ is None else environ).get(name, "")
    if not raw.strip():
        return None
    known = VARIABLES[name]
    try:
        return known.parse(raw)
    except ValueError as exc:
        got = "" if known.secret else f", got {raw!r}"
        raise ConfigError(f"${name}: {exc}{got}") from None


def secret_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The raw values of the variables that hold DSNs, to scrub their passwords everywhere."""
    env = os.environ if environ is None else environ
    return [env[name] for name, known in VARIABLES.items() if known.secret and env.get(name)]
