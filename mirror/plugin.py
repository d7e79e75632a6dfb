"""pytest plugin (entry point ``pytest11``): a session-scoped seeded mirror and per-test isolation.

Each fixture's docstring is what ``pytest --fixtures`` prints. SQLAlchemy, psycopg2 and the
provisioning code are imported only when a fixture that needs them runs, so a test run that uses
no Billig fixture pays nothing for the plugin being installed.

Under pytest-xdist each worker gets its own server, so every worker has its own databases.

With pytest-django installed and ``site = "django"``, the Django project's Billig alias reaches
the session mirror for tests marked ``django_db(databases=[..., "billig"])``, each rolled back
(:mod:`mirror.adapters.django.testing`); Django never creates or migrates that database.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from mirror.config import DJANGO, Config, load_config, variable
from mirror.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine
    from sqlalchemy.orm import Session

    from mirror.provision.mirror import Mirror
    from mirror.provision.providers import Server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("billig", "billig-harness mirror")
    group.addoption(
        "--billig-provider",
        default=variable("BILLIG_MIRROR_PROVIDER") or "auto",
        help="provider of the throwaway PostgreSQL: auto, docker, local, embedded, dsn",
    )
    group.addoption(
        "--billig-events", type=int, default=None, help="seeded events ([tool.billig] events)"
    )
    group.addoption(
        "--billig-seed", type=int, default=None, help="seed of the data ([tool.billig] seed)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Iterator[None]:
    # pytest-django imports the settings in this hook: a project whose packages live in
    # [tool.billig.django] path (src/, say) must import from there before it does, as billig's
    # own commands do, whether or not pytest's pythonpath names that folder too.
    if early_config.pluginmanager.hasplugin("django"):
        try:
            billig = load_config(early_config.rootpath)
        except ConfigError:
            billig = None  # the fixtures that need the configuration report it
        if billig is not None and billig.site == DJANGO:
            from mirror.adapters.django.project import import_root

            with contextlib.suppress(ConfigError):  # reported when the adapter sets up
                folder = str(import_root(billig.django, billig.root))
                if folder not in sys.path:
                    sys.path.insert(0, folder)
    yield


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("django"):  # pytest-django
        return
    try:
        billig = load_config(config.rootpath)
    except ConfigError:
        return  # the fixtures that need the configuration report it
    if billig.site == DJANGO:
        from mirror.adapters.django.testing import register

        register(config, billig.django)


@pytest.fixture(scope="session")
def billig_config(pytestconfig: pytest.Config) -> Config:
    """The project's ``[tool.billig]`` configuration (schema file, contracts folder, site,
    seeding), read from pytest's root directory upwards, with ``--billig-events`` and
    ``--billig-seed`` applied."""
    return load_config(
        pytestconfig.rootpath,
        overrides={
            "events": pytestconfig.getoption("billig_events"),
            "seed": pytestconfig.getoption("billig_seed"),
        },
    )


@pytest.fixture(scope="session")
def billig_mirror(pytestconfig: pytest.Config, billig_config: Config) -> Iterator[Mirror]:
    """The seeded mirror of the session: a throwaway PostgreSQL loaded from the configured schema
    file and seeded (``mirror.provision.mirror.Mirror``; provider from ``--billig-provider`` or
    ``$BILLIG_MIRROR_PROVIDER``, default ``auto``). Columns whose readers allow only some
    values (the choices pinned in the contract's lineage) hold only those. Removed at the end
    of the session."""
    from mirror.provision.allowed_values import AllowedValues
    from mirror.provision.mirror import start_mirror

    with start_mirror(
        pytestconfig.getoption("billig_provider"),
        events=billig_config.events,
        seed=billig_config.seed,
        schema_path=billig_config.schema,
        allowed=AllowedValues.pinned(billig_config.contracts),
    ) as mirror:
        yield mirror


@pytest.fixture(scope="session")
def billig_server(billig_mirror: Mirror) -> Server:
    """The throwaway PostgreSQL server the session's mirror runs on."""
    return billig_mirror.server


@pytest.fixture(scope="session")
def billig_engine(billig_mirror: Mirror) -> Iterator[Engine]:
    """A SQLAlchemy engine on the session's seeded mirror database."""
    from sqlalchemy import create_engine

    engine = create_engine(billig_mirror.url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def billig_session(billig_engine: Engine) -> Iterator[Session]:
    """A SQLAlchemy Session on the seeded mirror inside a transaction rolled back after the test:
    the default isolation. A commit inside the test releases a savepoint; nothing the test
    writes is seen by the next one."""
    from sqlalchemy.orm import Session

    with billig_engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def billig_database(billig_mirror: Mirror) -> Iterator[URL]:
    """The URL of a fresh clone of the seeded mirror (``CREATE DATABASE … TEMPLATE``), for a test
    that commits or runs DDL; dropped after the test."""
    dsn = billig_mirror.clone()
    try:
        yield dsn.sqlalchemy()
    finally:
        billig_mirror.drop(dsn)


@pytest.fixture
def fresh_database(billig_server: Server) -> Iterator[URL]:
    """The URL of an empty database on the session's server; dropped after the test."""
    name = f"fresh_{secrets.token_hex(6)}"
    dsn = billig_server.create_database(name)
    try:
        yield dsn.sqlalchemy()
    finally:
        billig_server.drop_database(name)
