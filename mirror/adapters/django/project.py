"""A Django project under contract: its settings, the models routed to Billig, the connection.

Setting up Django is global to the process (one settings module per process), so it happens
once, on first use. The Billig models are the installed models the project's own database
router sends to the Billig alias for reading; nothing else of the project is assumed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.config import DjangoConfig
from mirror.dsn import Dsn
from mirror.errors import ConfigError
from mirror.secrets import learn
from mirror.sources.user_code import import_user_module, user_code

if TYPE_CHECKING:
    from django.db.models import Model

POSTGRESQL_ENGINES = frozenset(
    {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
)


def setup(config: DjangoConfig, root: Path) -> None:
    """Configure Django from ``config.settings`` (once per process) and check the alias.

    ``root`` is the project folder (where ``pyproject.toml`` is); its ``config.path`` folder
    (where ``manage.py`` is) goes on ``sys.path`` so that the settings module imports as it
    does for ``manage.py``.
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
    folder = str(import_root(config, root))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    configured = os.environ.get("DJANGO_SETTINGS_MODULE")
    if configured and configured != config.settings:
        raise ConfigError(
            f"DJANGO_SETTINGS_MODULE is {configured!r} but [tool.billig.django] settings "
            f"is {config.settings!r}"
        )
    if not (settings.configured or configured):
        _load_settings(config.settings, folder)
    with user_code(f"Django settings module {config.settings!r}"):
        learn_passwords({name: getattr(settings, name) for name in dir(settings) if name.isupper()})
    with user_code(f"Django setup of {config.settings!r} (its INSTALLED_APPS)"):
        django.setup()
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


def import_root(config: DjangoConfig, root: Path) -> Path:
    """The folder the project's modules import from: ``[tool.billig.django] path`` under
    ``root``; a usage error when it is not a folder there."""
    folder = (Path(root) / config.path).resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"[tool.billig.django] path {config.path!r} is not a folder of {root} (it names "
            "the folder holding manage.py and the project's packages)"
        )
    return folder


def _load_settings(module: str, folder: str) -> None:
    """Import the settings module now, learning every database password it configures (also
    from a module that fails half-way, so that its error message cannot show one)."""
    from django.conf import settings

    with user_code(f"Django settings module {module!r}"):
        # Without leaving DJANGO_SETTINGS_MODULE behind for processes this one starts (a
        # pytest run would turn pytest-django on).
        os.environ["DJANGO_SETTINGS_MODULE"] = module
        try:
            _ = settings.DATABASES  # imports the module
        except BaseException as exc:
            missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
            if missing and (module == missing or module.startswith(missing + ".")):
                raise ConfigError(
                    f"cannot import the Django settings {module!r} (from {folder}): {exc}; "
                    "[tool.billig.django] path names the folder holding manage.py"
                ) from None
            learn_from_failure(exc, module)
            raise
        finally:
            del os.environ["DJANGO_SETTINGS_MODULE"]


def learn_passwords(namespace: Mapping[str, Any]) -> None:
    """Every password of a settings namespace (``DATABASES`` entries at any depth, and globals
    named ``*PASSWORD*``) is masked in all output from now on."""
    found: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                if isinstance(key, str) and "password" in key.lower() and isinstance(sub, str):
                    found.append(sub)
                else:
                    visit(sub)

    visit({k: v for k, v in namespace.items() if isinstance(k, str) and k.isupper()})
    learn(*found)


def learn_from_failure(exc: BaseException, module: str) -> None:
    """The passwords of settings module ``module`` as far as it ran before raising ``exc``:
    of every module of its package being imported (``config/settings/__init__.py`` doing
    ``from .base import *``, the ``base.py`` that raised) and every other module-level frame."""
    package = module.split(".")[0]
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        name = str(frame.f_globals.get("__name__", ""))
        if name == package or name.startswith(package + ".") or frame.f_code.co_name == "<module>":
            learn_passwords(frame.f_globals)
        tb = tb.tb_next


def import_modules(names: Sequence[str], what: str) -> list[Any]:
    return [import_user_module(name, what) for name in names]


def billig_models(alias: str) -> list[type[Model]]:
    """Installed models the project's router sends to ``alias`` for reading, in app order."""
    from django.apps import apps
    from django.db import router

    with user_code("DATABASE_ROUTERS (db_for_read)"):
        return [
            model
            for model in apps.get_models()
            if not model._meta.proxy and router.db_for_read(model) == alias
        ]


def database_settings(dsn: str, *, read_only: bool, server_options: str = "") -> dict[str, Any]:
    """The ``DATABASES`` entry values (NAME, USER, ... OPTIONS) for a libpq DSN or URL.

    ``server_options`` are the project's own server settings for the alias (its ``OPTIONS``
    ``options``, e.g. ``-c search_path=billig``): kept, as Django's queries rely on them.
    """
    params: dict[str, Any] = Dsn.parse(dsn).params()
    out: dict[str, Any] = {
        "NAME": params.pop("dbname", ""),
        "USER": params.pop("user", ""),
        "PASSWORD": params.pop("password", ""),
        "HOST": params.pop("host", ""),
        "PORT": params.pop("port", ""),
    }
    options = f"{params.get('options', '')} {server_options}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    if options.strip():
        params["options"] = " ".join(options.split())
    out["OPTIONS"] = params
    return out


def server_options(entry: Mapping[str, Any]) -> str:
    """The server settings a ``DATABASES`` entry sends (``OPTIONS["options"]``), as text."""
    options = entry.get("OPTIONS") or {}
    value = options.get("options", "") if isinstance(options, Mapping) else ""
    return value if isinstance(value, str) else ""


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
    connection.settings_dict.update(
        database_settings(dsn, read_only=read_only, server_options=server_options(saved))
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
