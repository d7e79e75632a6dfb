"""Fixtures for the integration layer: the seed's reference time, a site database, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from examples.fastapi_site.routing import RoutedSession, session_factory
from examples.fastapi_site.seed import seed_site
from mirror.provision.seed import EVENT_ID_BASE, SCENARIOS


def scenario_id(name: str) -> int:
    """The Billig event id of one of the seed's fixed scenarios."""
    return EVENT_ID_BASE + SCENARIOS.index(name)


class StatementLog:
    """Every SQL statement an engine sends while attached."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def clear(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def dml(self) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY")
        return [s for s in self.statements if s.lstrip().upper().startswith(verbs)]


@pytest.fixture(scope="session")
def seed_now(billig_engine: Engine) -> datetime:
    """The naive local "now" the mirror was seeded for: the clock every test injects.

    The seed ends the "recently_ended" scenario's sale exactly 10 days before its reference
    time, so reading it back gives the reference exactly, whenever the tests run.
    """
    with billig_engine.connect() as conn:
        sale_to = conn.scalar(
            text("SELECT sale_to FROM billig.event WHERE event = :id"),
            {"id": scenario_id("recently_ended")},
        )
    assert isinstance(sale_to, datetime)
    return sale_to + timedelta(days=10)


@pytest.fixture
def billig_statements(billig_engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()
    event.listen(billig_engine, "before_cursor_execute", log)
    try:
        yield log
    finally:
        event.remove(billig_engine, "before_cursor_execute", log)


@pytest.fixture(scope="session")
def billig_event_ids(billig_engine: Engine) -> list[int]:
    with billig_engine.connect() as conn:
        return list(conn.scalars(text("SELECT event FROM billig.event_lim_web ORDER BY event")))


@pytest.fixture(scope="session")
def shown_billig_event_ids(billig_engine: Engine) -> list[int]:
    """The Billig events the site may show: every one but the hidden ones."""
    with billig_engine.connect() as conn:
        return list(
            conn.scalars(
                text("SELECT event FROM billig.event_lim_web WHERE NOT hidden ORDER BY event")
            )
        )


@pytest.fixture
def site_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'site.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_site(site_engine: Engine, billig_event_ids: list[int], seed_now: datetime) -> Engine:
    seed_site(site_engine, billig_event_ids, seed=7, now=seed_now)
    return site_engine


@pytest.fixture
def reader(billig_engine: Engine, seeded_site: Engine) -> Iterator[RoutedSession]:
    """A production-bound routed session: Billig read-only, site on the seeded SQLite file."""
    with session_factory(billig_engine, seeded_site, production=True)() as session:
        yield session


@pytest.fixture
def site_session(seeded_site: Engine) -> Iterator[Session]:
    with Session(seeded_site) as session:
        yield session
