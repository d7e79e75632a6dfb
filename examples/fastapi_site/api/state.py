"""What the endpoints share: the two engines, a session factory, the clock and Billig's URLs,
and the dependencies and parameter types that hand them to the endpoints."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from examples.fastapi_site import routing, rules
from examples.fastapi_site.api.limits import BILLIG_GRACE_S, INT4_MAX, MAX_OFFSET, MAX_PAGE
from examples.fastapi_site.deadline import bound_engine
from examples.fastapi_site.routing import RoutedSession, create_billig_engine, create_site_engine
from mirror.provision.seed import EVENT_ID_BASE

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ApiState:
    """What the endpoints share: both engines, a session factory, the clock and the URLs."""

    billig_engine: Engine
    site_engine: Engine
    sessions: sessionmaker[RoutedSession]
    clock: Clock
    pay_url: str | None
    ticket_url: str | None
    owned: tuple[Engine, ...]

    def session(self) -> Session:
        """A session routing Billig models to the read-only Billig engine (never flushes them)."""
        return self.sessions()

    def now(self) -> datetime:
        return rules.billig_time(self.clock())

    def close(self) -> None:
        """Dispose of the engines the app created (not of engines it was given)."""
        for engine in self.owned:
            engine.dispose()


def billig_engine(billig: str | URL | Engine, timeout_s: float) -> tuple[Engine, bool]:
    """The read-only engine on Billig, and whether the app made it; one the app makes never
    waits on Billig unbounded.

    The server cancels a statement after ``timeout_s`` (locks after at most 2 s); connecting
    and waiting for a pooled connection are bounded by ``timeout_s`` too; and every use of a
    connection (its check, its statements, its rollback) by ``timeout_s`` plus a grace period on
    the client's side (:mod:`deadline`), for a server that no longer answers at all.
    """
    if isinstance(billig, Engine):
        return billig, False
    url = make_url(billig)
    kwargs: dict[str, Any] = {"pool_size": 5, "pool_timeout": timeout_s}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", ""):
        statement_ms = max(1, round(timeout_s * 1000))
        kwargs["connect_args"] = {
            # libpq counts whole seconds (and treats 1 as 2).
            "connect_timeout": max(1, math.ceil(timeout_s)),
            "options": (
                f"-c statement_timeout={statement_ms} -c lock_timeout={min(statement_ms, 2000)}"
            ),
        }
    engine = create_billig_engine(url, production=True, **kwargs)
    return bound_engine(engine, timeout_s + BILLIG_GRACE_S), True


def site_engine(site: str | URL | Engine | None) -> tuple[Engine, bool]:
    """The engine on the site's own database, and whether the app made it."""
    if isinstance(site, Engine):
        return site, False
    url = routing.site_url(site)
    if url.get_backend_name() != "sqlite":
        return create_site_engine(url, pool_pre_ping=True), True
    # Endpoints run in worker threads; an in-memory database must be one shared connection.
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool
    return create_site_engine(url, **kwargs), True


def clock(now: datetime | Clock | None) -> Clock:
    if now is None:
        return rules.billig_now
    if isinstance(now, datetime):
        fixed = now
        return lambda: fixed
    return now


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def api_session(request: Request) -> Iterator[Session]:
    with api_state(request).session() as session:
        yield session


StateDep = Annotated[ApiState, Depends(api_state)]
SessionDep = Annotated[Session, Depends(api_session)]
# Examples are ids of the seeded mirror, so a documented example is also a working request there.
EventId = Annotated[
    int, Path(ge=1, le=INT4_MAX, description="A Billig event id.", examples=[EVENT_ID_BASE])
]
SiteEventId = Annotated[int, Path(ge=1, le=INT4_MAX, description="A site event id.", examples=[1])]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
