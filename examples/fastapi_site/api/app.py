"""The app: both engines, the shared state, the routers, the error handlers and the guard."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.engine import URL, Engine

from examples.fastapi_site.api import state as shared
from examples.fastapi_site.api.document import (
    API_TITLE,
    API_VERSION,
    DESCRIPTION,
    document_headers,
)
from examples.fastapi_site.api.errors import add_error_handlers
from examples.fastapi_site.api.guard import Guard
from examples.fastapi_site.api.limits import BILLIG_TIMEOUT_S
from examples.fastapi_site.api.output import EventOutput
from examples.fastapi_site.api.routes import (
    billig_events,
    events,
    health,
    payment,
    payment_errors,
    tickets,
)
from examples.fastapi_site.routing import session_factory


def create_app(
    billig_url: str | URL | Engine,
    site_url: str | URL | Engine | None = None,
    *,
    now: datetime | shared.Clock | None = None,
    pay_url: str | None = None,
    ticket_url: str | None = None,
    billig_timeout_s: float = BILLIG_TIMEOUT_S,
    docs: bool = False,
    output: EventOutput | None = None,
) -> FastAPI:
    """The API over a Billig database (always read-only) and the site's database.

    ``site_url`` defaults to ``BILLIG_SITE_URL`` or a local SQLite file; ``now`` fixes the clock
    (a naive local time, an aware time, or a callable); ``pay_url``/``ticket_url`` default to
    ``BILLIG_PAY_URL``/``BILLIG_TICKET_URL``. Engines given as engines are used as they are and
    left open; engines the app creates are disposed of on shutdown (``app.state.api.close()``),
    and one created on Billig answers 503 rather than wait on Billig longer than
    ``billig_timeout_s`` (plus ``BILLIG_GRACE_S`` for a server that answers nothing at all; see
    :func:`state.billig_engine`). ``docs`` serves the interactive pages ``/docs`` and ``/redoc``,
    which are not part of the pinned document; off by default. ``output`` is what the event
    endpoints emit (default: the site's serializers). Nothing connects before the first request.
    """
    if not billig_timeout_s > 0:
        raise ValueError(f"billig_timeout_s must be positive, not {billig_timeout_s!r}")
    billig_engine, own_billig = shared.billig_engine(billig_url, billig_timeout_s)
    site_engine, own_site = shared.site_engine(site_url)
    api = shared.ApiState(
        billig_engine=billig_engine,
        site_engine=site_engine,
        sessions=session_factory(billig_engine, site_engine, production=True),
        clock=shared.clock(now),
        pay_url=pay_url,
        ticket_url=ticket_url,
        owned=tuple(e for e, own in ((billig_engine, own_billig), (site_engine, own_site)) if own),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        api.close()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=DESCRIPTION,
        redirect_slashes=False,  # a redirect is not a documented answer
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        lifespan=lifespan,
    )
    app.state.api = api
    shown = output or EventOutput()
    # In the order the document lists them.
    app.include_router(health.router())
    app.include_router(events.router(shown))
    app.include_router(billig_events.router(shown))
    app.include_router(payment.router())
    app.include_router(payment_errors.router())
    app.include_router(tickets.router())
    add_error_handlers(app)
    app.add_middleware(Guard)
    document_headers(app)
    return app
