"""Fixtures of the drift tests: production is built once per session as a template database
(see :mod:`.production`); every test gets its own clone to mutate."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg2 import sql

from mirror.provision.providers import Server
from mirror.provision.schema import load_schema

from .production import EXTRAS, GRANTS, ROOT, Production, execute


@pytest.fixture(scope="session")
def production_template(billig_server: Server) -> Iterator[tuple[str, str, str]]:
    """(template database, login role, password), built once."""
    token = secrets.token_hex(4)
    name, role = f"drift_prod_{token}", f"drift_ro_{token}"
    # Distinctive, and with characters that need quoting in a URL.
    password = f"Pw:Dr1ft/{secrets.token_hex(6)}@x"
    execute(
        billig_server,
        "postgres",
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)
        ),
    )
    billig_server.create_database(name)
    try:
        with contextlib.closing(billig_server.connect(name)) as conn:
            load_schema(conn)
            with conn.cursor() as cur:
                cur.execute(EXTRAS)
                cur.execute(sql.SQL(GRANTS.replace("{role}", "{0}")).format(sql.Identifier(role)))
            conn.commit()
        yield name, role, password
    finally:
        billig_server.drop_database(name)
        execute(billig_server, "postgres", sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def production(
    billig_server: Server, production_template: tuple[str, str, str]
) -> Iterator[Production]:
    template, role, password = production_template
    name = f"drift_{secrets.token_hex(6)}"
    admin = billig_server.create_database(name, template=template)
    try:
        execute(
            billig_server,
            name,
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(role)
            ),
        )
        login = admin.set(username=role, password=password)
        yield Production(billig_server, admin, login, role)
    finally:
        billig_server.drop_database(name)


@pytest.fixture
def contract_dir() -> Path:
    return ROOT / "contracts"
