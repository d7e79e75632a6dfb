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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.config import DjangoConfig
from mirror.dsn import Dsn
from mirror.errors import ConfigError

if TYPE_CHECKING:
    from django.db.models import Model

POSTGRESQL_ENGINES = frozenset(
    {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
)


def setup(config: DjangoConfig, root: Path) -> None:
    """Configure Django from ``config.settings`` (once per process) and check the alias.

    ``root`` is the project folder (where ``pyproject.toml`` is); it goes on ``sys.path`` so
    that the settings module imports as it does for ``manage.py``.
    """
    try:
        import django
        from django.conf import settings
    except ModuleNotFoundError:
        raise ConfigError(
            'site = "django" needs Django: pip install "billig-harness[django]"'
        ) from None
    if not config.settings:
        raise ConfigError('site = "django" needs [tool.billig.django] settings')
    folder = str(Path(root).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    configured = os.environ.get("DJANGO_SETTINGS_MODULE")
    if configured and configured != config.settings:
        raise ConfigError(
            f"DJANGO_SETTINGS_MODULE is {configured!r} but [tool.billig.django] settings "
            f"is {config.settings!r}"
        )
    try:
        if not (settings.configured or configured):
            # Loaded from the module now, without leaving DJANGO_SETTINGS_MODULE behind for
            # processes this one starts (a pytest run would turn pytest-django on).
            os.environ["DJANGO_SETTINGS_MODULE"] = config.settings
            try:
                _ = settings.DATABASES
            finally:
                del os.environ["DJANGO_SETTINGS_MODULE"]
        django.setup()
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"cannot import the Django settings {config.settings!r} (from {folder}): {exc}"
        ) from None
    databases = settings.DATABASES
    if config.database not in databases:
        known = ", ".join(sorted(databases))
        raise ConfigError(
            f"[tool.billig.django] database {config.database!r} is not in DATABASES "
            f"(known: {known})"
        )
    engine = databases[config.database].get("ENGINE", "")
    if engine not in POSTGRESQL_ENGINES and not engine.startswith("mirror.adapters.django"):
        raise ConfigError(
            f"DATABASES[{config.database!r}] uses {engine!r}; Billig is PostgreSQL "
            "(django.db.backends.postgresql)"
        )


def import_modules(names: Sequence[str], what: str) -> list[Any]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise ConfigError(f"cannot import {what} module {name!r}: {exc}") from None
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
    params: dict[str, Any] = Dsn.parse(dsn).params()
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
