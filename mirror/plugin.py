"""pytest plugin (entry point ``pytest11``): a session-scoped seeded mirror and per-test isolation.

Fixtures:
- ``billig_config`` – the project's ``[tool.billig]`` settings (session): the schema file,
  the contracts folder, seeding defaults.
- ``billig_server`` – the throwaway PostgreSQL server (session; provider from
  ``--billig-provider`` / ``BILLIG_MIRROR_PROVIDER``, default ``auto``).
- ``billig_mirror`` – the seeded mirror (:class:`mirror.provision.mirror.Mirror`, session).
- ``billig_engine`` – SQLAlchemy engine on the mirror database (session).
- ``billig_session`` – a Session inside a transaction rolled back after the test (default
  isolation, sub-millisecond); commits inside the test become savepoint releases.
- ``billig_database`` – URL of a fresh clone of the seeded template, for tests that commit or
  run DDL; dropped afterwards.
- ``fresh_database`` – URL of an empty database on the server, dropped afterwards.

The flag ``--update-contracts`` makes the contract tests rewrite ``contracts/`` (like
``billig contracts update``) instead of checking it.

Under pytest-xdist each worker gets its own server, so every worker has its own databases.

With pytest-django installed and ``site = "django"``, the Django project's Billig alias reaches
the session mirror for tests marked ``django_db(databases=[..., "billig"])``, each rolled back
(:mod:`mirror.adapters.django.testing`); Django never creates or migrates that database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from mirror.config import DJANGO, Config, load_config
from mirror.errors import ConfigError
from mirror.provision.mirror import Mirror, start_mirror
from mirror.provision.providers import Server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("billig", "billig-harness mirror")
    group.addoption(
        "--billig-provider",
        default=os.environ.get("BILLIG_MIRROR_PROVIDER", "auto"),
        help="provider of the throwaway PostgreSQL: auto, docker, local, embedded, dsn",
    )
    group.addoption(
        "--billig-events", type=int, default=None, help="seeded events ([tool.billig] events)"
    )
    group.addoption(
        "--billig-seed", type=int, default=None, help="seed of the data ([tool.billig] seed)"
    )
    group.addoption(
        "--update-contracts",
        action="store_true",
        default=False,
        help="rewrite the contract snapshots (contracts/) instead of checking them",
    )


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
    """The project's ``[tool.billig]`` configuration, seen from pytest's root directory."""
    return load_config(
        pytestconfig.rootpath,
        overrides={
            "events": pytestconfig.getoption("billig_events"),
            "seed": pytestconfig.getoption("billig_seed"),
        },
    )


@pytest.fixture(scope="session")
def billig_mirror(pytestconfig: pytest.Config, billig_config: Config) -> Iterator[Mirror]:
    with start_mirror(
        pytestconfig.getoption("billig_provider"),
        events=billig_config.events,
        seed=billig_config.seed,
        schema_path=billig_config.schema,
    ) as mirror:
        yield mirror


@pytest.fixture(scope="session")
def billig_server(billig_mirror: Mirror) -> Server:
    return billig_mirror.server


@pytest.fixture(scope="session")
def billig_engine(billig_mirror: Mirror) -> Iterator[Engine]:
    engine = create_engine(billig_mirror.url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def billig_session(billig_engine: Engine) -> Iterator[Session]:
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
    dsn = billig_mirror.clone()
    try:
        yield dsn.sqlalchemy()
    finally:
        billig_mirror.drop(dsn)


@pytest.fixture
def fresh_database(billig_server: Server) -> Iterator[URL]:
    name = f"fresh_{secrets.token_hex(6)}"
    dsn = billig_server.create_database(name)
    try:
        yield dsn.sqlalchemy()
    finally:
        billig_server.drop_database(name)
