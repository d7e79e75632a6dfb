"""What a project is made of, read from the project itself: a Django site's settings module, the
database alias its routers send unmanaged models to, the modules holding DRF serializers of those
models, its URLconf, and the relations the models read.

Django is found by its ``manage.py`` (the settings module it names) or, without one, by a single
``settings.py`` in a package of the folder. ``manage.py`` may sit one folder down (``src/``,
``backend/``): that folder is where the project's modules import from, as ``manage.py`` runs.
Reading the rest sets Django up in this process with the project's own settings, as
``manage.py`` would: the harness does the same when it checks the contracts later, so nothing is
learnt here that it would not see then.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mirror.catalog.model import RelationKey
from mirror.config import DjangoConfig
from mirror.errors import ConfigError
from mirror.sources.user_code import user_code

# Folders that hold no project source: virtualenvs, caches, build output, other tools' trees.
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".tox", ".nox", ".venv", "venv", "env", "node_modules", "__pycache__",
        "build", "dist", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        "migrations", "static", "media",
    }
)  # fmt: skip
MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model class of the project that reads a Billig relation."""

    module: str
    name: str
    relation: RelationKey


@dataclass(frozen=True, slots=True)
class DjangoProject:
    """What ``[tool.billig.django]`` needs, and the models the first test reads."""

    settings: str
    database: str
    serializers: tuple[str, ...]
    urls: str | None
    models: tuple[ModelRef, ...]
    path: str = "."  # where the modules import from, relative to the project folder

    @property
    def config(self) -> DjangoConfig:
        return DjangoConfig(self.settings, self.database, self.serializers, self.urls, self.path)

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(sorted({m.relation.schema for m in self.models}))


def source_files(root: Path) -> Iterator[Path]:
    """The project's Python files, outside virtualenvs, caches, migrations and build output."""

    def walk(folder: Path, depth: int) -> Iterator[Path]:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if depth < MAX_DEPTH and _is_source_folder(entry):
                    yield from walk(entry, depth + 1)
            elif entry.suffix == ".py" and entry.is_file():
                yield entry

    yield from walk(root, 0)


def _is_source_folder(folder: Path) -> bool:
    name = folder.name
    return (
        name not in SKIPPED_FOLDERS
        and not name.startswith(".")
        and not (folder / "pyvenv.cfg").exists()  # a virtualenv of any name
    )


def import_folder(root: Path) -> Path:
    """Where the project's modules import from: the folder of ``manage.py``, in ``root`` or in
    one of its folders (``src/manage.py``); ``root`` when there is none, or more than one."""
    if (root / "manage.py").is_file():
        return root
    found = [
        folder
        for folder in sorted(root.iterdir())
        if folder.is_dir()
        and not folder.is_symlink()
        and _is_source_folder(folder)
        and (folder / "manage.py").is_file()
    ]
    return found[0] if len(found) == 1 else root


def django_settings_module(root: Path) -> str | None:
    """The settings module ``manage.py`` names, else the one ``settings`` module of a package in
    ``root`` (``pkg/settings.py`` or ``pkg/settings/__init__.py``); None for no Django project."""
    manage = root / "manage.py"
    if manage.is_file():
        named = _settings_named_in(manage)
        if named:
            return named
    found = sorted(
        f"{p.parent.name}.settings"
        for p in [*root.glob("*/settings.py"), *root.glob("*/settings/__init__.py")]
        if (p.parent / "__init__.py").is_file() or p.name == "__init__.py"
    )
    if len(set(found)) > 1:
        raise ConfigError(
            f"{root}: more than one Django settings module ({', '.join(sorted(set(found)))}); "
            "pass --settings MODULE"
        )
    return found[0] if found else None


def _settings_named_in(path: Path) -> str | None:
    """``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")`` in ``path``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
            and node.args[0].value == "DJANGO_SETTINGS_MODULE"  # type: ignore[attr-defined]
        ):
            return str(node.args[1].value)  # type: ignore[attr-defined]
    return None


def inspect_django(
    root: Path, settings: str, database: str | None = None, folder: Path | None = None
) -> DjangoProject:
    """Set Django up with ``settings`` and read what the harness needs from the project.

    ``database`` is the Billig alias; without it, the alias the project's ``DATABASE_ROUTERS``
    send most unmanaged models to for reading (never ``default``: that is the site's own).
    ``folder`` is where the project's modules import from (default: ``root``).
    """
    folder = (folder or root).resolve()
    path = Path(os.path.relpath(folder, root.resolve())).as_posix()
    _setup(folder, settings)
    from django.apps import apps
    from django.conf import settings as django_settings
    from django.db import DEFAULT_DB_ALIAS, router

    unmanaged = [m for m in apps.get_models() if not m._meta.managed and not m._meta.proxy]
    if database is None:
        with user_code("DATABASE_ROUTERS (db_for_read)"):
            routed = Counter(router.db_for_read(m) for m in unmanaged)
        routed.pop(None, None)
        routed.pop(DEFAULT_DB_ALIAS, None)
        if not routed:
            raise ConfigError(
                f"{settings}: no unmanaged model is routed to a database other than "
                f"{DEFAULT_DB_ALIAS!r} by DATABASE_ROUTERS; pass --database ALIAS"
            )
        database = sorted(routed.items(), key=lambda item: (-item[1], item[0]))[0][0]
    elif database not in django_settings.DATABASES:
        known = ", ".join(sorted(django_settings.DATABASES))
        raise ConfigError(f"--database {database!r} is not in DATABASES (known: {known})")
    from mirror.adapters.django import DjangoSite

    site = DjangoSite(DjangoConfig(settings, database, path=path), root)
    relations = site.relations  # raises when no installed model is routed to the alias
    models = tuple(
        ModelRef(model.__module__, model.__name__, key) for model, key in relations.items()
    )
    urls = getattr(django_settings, "ROOT_URLCONF", None)
    return DjangoProject(
        settings=settings,
        database=database,
        serializers=tuple(_serializer_modules(folder, relations)),
        urls=urls if isinstance(urls, str) and urls else None,
        models=models,
        path=path,
    )


def _setup(root: Path, settings: str) -> None:
    try:
        import django
    except ModuleNotFoundError:
        raise ConfigError(
            "this is a Django project: install the Django extra, "
            "pip install 'billig-harness[django]'"
        ) from None
    folder = str(root.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    configured = os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    if configured != settings:
        raise ConfigError(
            f"DJANGO_SETTINGS_MODULE is {configured!r} but the project's settings are "
            f"{settings!r}; unset it or pass --settings {configured}"
        )
    from mirror.adapters.django.project import learn_from_failure, learn_passwords

    # The settings and apps are the project's code: whatever they raise (sys.exit() too) is a
    # usage error naming them, its passwords masked, never an internal error or a silent exit.
    with user_code(f"Django settings module {settings!r} (or its INSTALLED_APPS)"):
        try:
            django.setup()
        except ImportError as exc:
            raise ConfigError(
                f"cannot set up Django with {settings!r} (from {folder}): {exc}"
            ) from None
        except BaseException as exc:
            learn_from_failure(exc, settings)
            raise
        from django.conf import settings as django_settings

        learn_passwords({k: getattr(django_settings, k) for k in dir(django_settings)})


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _serializer_modules(root: Path, relations: dict[type, RelationKey]) -> Iterator[str]:
    """Modules of the project defining DRF serializers that reach a Billig model (directly or
    nested), in file order; only files that mention DRF serializers are imported."""
    from rest_framework.serializers import BaseSerializer, ListSerializer

    from mirror.adapters.django.lineage import reaches_billig

    for path in source_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "rest_framework" not in text or "Serializer" not in text:
            continue
        name = _module_name(root, path)
        if path.name.startswith("test") or ".tests." in f".{name}.":
            continue
        try:
            module = importlib.import_module(name)
        except Exception:  # a module that does not import on its own is not one to pin
            continue
        if any(
            inspect.isclass(value)
            and issubclass(value, BaseSerializer)
            and not issubclass(value, ListSerializer)
            and value.__module__ == module.__name__
            and reaches_billig(value, relations)
            for value in vars(module).values()
        ):
            yield name
