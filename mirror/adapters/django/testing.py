"""pytest-django on the Billig mirror: the Billig alias points at the session's seeded mirror.

Registered by the harness's pytest plugin when pytest-django is installed and the configured
site is Django. It overrides pytest-django's ``django_db_modify_db_settings`` (keeping what
that fixture does) so that, before Django sets up test databases, the Billig alias reaches the
session mirror through :mod:`mirror.adapters.django.backend`: Django never creates or migrates
that database. Tests that use it say so, ``@pytest.mark.django_db(databases=["default",
"billig"])``, and each runs inside a transaction rolled back afterwards, as pytest-django does
for every database of a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mirror.adapters.django.project import database_settings, server_options
from mirror.config import DjangoConfig

MIRROR_ENGINE = "mirror.adapters.django.backend"
PLUGIN_NAME = "billig-django"

_config: DjangoConfig | None = None


def register(pytest_config: pytest.Config, site: DjangoConfig) -> None:
    """Register the fixtures of this module (after pytest-django's, so that they win)."""
    global _config
    _config = site
    import sys

    if not pytest_config.pluginmanager.has_plugin(PLUGIN_NAME):
        pytest_config.pluginmanager.register(sys.modules[__name__], PLUGIN_NAME)


def point_at_mirror(alias: str, dsn: str) -> dict[str, Any]:
    """Make ``DATABASES[alias]`` the mirror at ``dsn``; returns the entry as it was."""
    from django.conf import settings
    from django.db import connections

    entry = settings.DATABASES[alias]
    saved = dict(entry)
    connections[alias].close()
    del connections[alias]  # the next use builds a connection with the mirror engine
    entry.update(database_settings(dsn, read_only=False, server_options=server_options(saved)))
    entry["ENGINE"] = MIRROR_ENGINE
    entry["TEST"] = {**entry.get("TEST", {}), "NAME": entry["NAME"], "MIGRATE": False}
    return saved


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings: None, billig_mirror: Any
) -> Iterator[None]:
    """pytest-django's settings changes, then the Billig alias on the session mirror."""
    from django.db import connections

    alias = _config.database if _config is not None else "billig"
    point_at_mirror(alias, billig_mirror.full_url)
    yield
    # Before the mirror goes: a connection left open would hold up its shutdown.
    connections[alias].close()
