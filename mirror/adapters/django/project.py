"""A Django project under contract: its settings, the models routed to Billig, the connection.

Setting up Django is global to the process (one settings module per process), so it happens
once, on first use. The Billig models are the installed models the project's own database
router sends to the Billig alias for reading; nothing else of the project is assumed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2.extensions

from mirror.errors import UsageError
from mirror.secrets import scrub

if TYPE_CHECKING:
    from django.db.models import Model

DEFAULT_DATABASE = "billig"
POSTGRESQL_ENGINES = frozenset(
    {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
)


@dataclass(frozen=True, slots=True)
class DjangoConfig:
    """``[tool.billig.django]``: the settings module, the Billig alias, the serializer modules
    whose DRF serializers are pinned, and optionally the URLconf for endpoint lineage.

    ``root`` is the project folder (where ``pyproject.toml`` is); it goes on ``sys.path`` so
    that the settings module imports as it does for ``manage.py``.
    """

    settings: str
    database: str = DEFAULT_DATABASE
    serializers: tuple[str, ...] = ()
    urls: str | None = None
    root: Path = field(default_factory=Path.cwd)


def setup(config: DjangoConfig) -> None:
    """Configure Django from ``config.settings`` (once per process) and check the alias."""
    try:
        import django
        from django.conf import settings
    except ModuleNotFoundError:
        raise UsageError(
            'site = "django" needs Django: pip install "billig-harness[django]"'
        ) from None
    root = str(Path(config.root).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    configured = os.environ.get("DJANGO_SETTINGS_MODULE")
    if settings.configured or configured:
        if configured and configured != config.settings:
            raise UsageError(
                f"DJANGO_SETTINGS_MODULE is {configured!r} but [tool.billig.django] settings "
                f"is {config.settings!r}"
            )
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = config.settings
    try:
        django.setup()
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"cannot import the Django settings {config.settings!r} (from {root}): {exc}"
        ) from None
    databases = settings.DATABASES
    if config.database not in databases:
        known = ", ".join(sorted(databases))
        raise UsageError(
            f"[tool.billig.django] database {config.database!r} is not in DATABASES "
            f"(known: {known})"
        )
    engine = databases[config.database].get("ENGINE", "")
    if engine not in POSTGRESQL_ENGINES and not engine.startswith("mirror.adapters.django"):
        raise UsageError(
            f"DATABASES[{config.database!r}] uses {engine!r}; Billig is PostgreSQL "
            "(django.db.backends.postgresql)"
        )


def import_modules(names: Sequence[str], what: str) -> list[Any]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise UsageError(f"cannot import {what} module {name!r}: {exc}") from None
    return modules


def billig_models(alias: str) -> list[type[Model]]:
    """Installed models the project's router sends to ``alias`` for reading, in app order."""
    from django.apps import apps
    from django.db import router

    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy and router.db_for_read(model) == alias
    ]


def database_settings(dsn: str, *, read_only: bool) -> dict[str, Any]:
    """The ``DATABASES`` entry values (NAME, USER, ... OPTIONS) for a libpq DSN or URL."""
    try:
        params: dict[str, Any] = psycopg2.extensions.parse_dsn(
            dsn.replace("postgresql+psycopg2://", "postgresql://", 1)
        )
    except psycopg2.Error:
        raise UsageError(f"malformed DSN {scrub(dsn)}") from None
    out: dict[str, Any] = {
        "NAME": params.pop("dbname", ""),
        "USER": params.pop("user", ""),
        "PASSWORD": params.pop("password", ""),
        "HOST": params.pop("host", ""),
        "PORT": params.pop("port", ""),
    }
    if read_only:
        options = params.get("options", "")
        params["options"] = f"{options} -c default_transaction_read_only=on".strip()
    out["OPTIONS"] = params
    return out


@contextlib.contextmanager
def alias_pointed_at(alias: str, dsn: str, *, read_only: bool = True) -> Iterator[None]:
    """Within the block, connection ``alias`` reaches ``dsn`` instead of its configured server.

    The settings entry is changed in place (Django's connection handler shares it) and the
    connection closed on both sides, so no query crosses over to the configured database.
    """
    from django.db import connections

    connection = connections[alias]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(database_settings(dsn, read_only=read_only))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
