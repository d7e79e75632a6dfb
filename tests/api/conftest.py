"""Fixtures of the API tests: the app over the session's seeded mirror, a seeded SQLite site
database, an in-process client, and the pinned OpenAPI document as a Schemathesis schema."""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from examples.fastapi_site.api import create_app
from examples.fastapi_site.seed import seed_site
from mirror.provision.mirror import Mirror
from mirror.provision.seed import reference_now

SITE_SEED = 7

with warnings.catch_warnings():
    # Starlette asks for httpx2 here; the httpx-based client works the same for these tests.
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def api_now(billig_mirror: Mirror) -> datetime:
    """Noon of the day the mirror was seeded for: every scenario is where the seed put it."""
    return reference_now() + timedelta(hours=12)


@pytest.fixture(scope="session")
def billig_event_ids_web(billig_engine: Engine) -> list[int]:
    with billig_engine.connect() as conn:
        return list(conn.scalars(text("SELECT event FROM billig.event_lim_web ORDER BY event")))


@pytest.fixture(scope="session")
def api_site_url(
    tmp_path_factory: pytest.TempPathFactory, billig_event_ids_web: list[int], api_now: datetime
) -> str:
    """A SQLite site database seeded with site events that point into the mirror."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'site.sqlite3'}"
    engine = create_engine(url)
    try:
        seed_site(engine, billig_event_ids_web, SITE_SEED, now=api_now)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def api_app(billig_mirror: Mirror, api_site_url: str, api_now: datetime) -> Iterator[FastAPI]:
    """The API over the seeded mirror (read-only) and the seeded site database, clock fixed."""
    app = create_app(billig_mirror.url, api_site_url, now=api_now)
    yield app
    app.state.api.close()


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def contracts_copy(project_root: Path, tmp_path: Path) -> Path:
    """A scratch contracts folder holding a copy of the pinned OpenAPI document."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    shutil.copy(project_root / "contracts" / "openapi.json", folder / "openapi.json")
    return folder


@pytest.fixture(scope="session")
def pinned_openapi(project_root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((project_root / "contracts" / "openapi.json").read_text())
    return document


def schema_for(app: FastAPI, document: dict[str, Any]) -> Any:
    """A Schemathesis schema of ``document`` whose requests go to ``app`` in-process."""
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    return schema


@pytest.fixture
def api_schema(api_app: FastAPI, pinned_openapi: dict[str, Any]) -> Any:
    """The pinned document (not the app's own) against the app: drift in the code is caught."""
    return schema_for(api_app, pinned_openapi)
