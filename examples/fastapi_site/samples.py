"""Sample requests for the OpenAPI contract's observed check: every operation, from seeded rows.

The reference site sends them to its own app, in-process over the seeded mirror, and hands the
answers to the harness (:meth:`ReferenceSite.api_exchanges`), which checks each one against the
pinned document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mirror.errors import DatabaseError
from mirror.sources.site import ApiExchange

if TYPE_CHECKING:
    from fastapi import FastAPI

SITE_SEED = 7


@dataclass(frozen=True, slots=True)
class SampleRequest:
    """One request the observed check sends, and the operation of the document it exercises."""

    method: str
    path: str  # as sent
    template: str  # as in the document
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None

    @property
    def label(self) -> str:
        query = "&".join(
            f"{k}={v}"
            for k, vs in self.params.items()
            for v in (vs if isinstance(vs, list) else [vs])
        )
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


def sample_requests(session: Any, now: datetime) -> list[SampleRequest]:
    """Requests covering every operation, with success and error cases, from the mirror's rows."""
    from sqlalchemy import select

    from examples.fastapi_site import api
    from examples.fastapi_site import billig_models as orm
    from examples.fastapi_site.events import Event
    from examples.fastapi_site.prefetch import relevant_billig_events

    missing = api.INT4_MAX
    out = [
        SampleRequest("GET", "/health", "/health"),
        SampleRequest("GET", "/events", "/events", {"limit": api.MAX_PAGE}),
        SampleRequest("GET", "/events", "/events", {"limit": 3, "offset": 2}),
        SampleRequest("GET", "/events", "/events", {"offset": api.MAX_OFFSET}),
        SampleRequest("GET", "/events", "/events", {"limit": 0}),
        SampleRequest("GET", f"/events/{missing}", "/events/{event_id}"),
        SampleRequest("GET", "/events/x", "/events/{event_id}"),
        SampleRequest("GET", "/billig/events", "/billig/events", {"limit": api.MAX_PAGE}),
        SampleRequest("GET", "/billig/events", "/billig/events", {"limit": "many"}),
        SampleRequest("GET", f"/billig/events/{missing}", "/billig/events/{event_id}"),
        SampleRequest("GET", "/billig/events/0", "/billig/events/{event_id}"),
        SampleRequest(
            "GET",
            f"/billig/events/{missing}/payment-form",
            "/billig/events/{event_id}/payment-form",
        ),
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": "no-such-session"}),
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": "x" * 65}),
        SampleRequest("GET", "/tickets", "/tickets", {"ref": [f"{missing}00000"]}),
        SampleRequest("GET", "/tickets", "/tickets", {"ref": ["12"]}),
    ]
    site_ids = list(session.scalars(select(Event.id).order_by(Event.id).limit(20)))
    out += [SampleRequest("GET", f"/events/{i}", "/events/{event_id}") for i in site_ids]

    events = relevant_billig_events(session, now)[: api.MAX_PAGE]
    pay = "/billig/events/{event_id}/payment"
    # Every event's detail is already in the list above (the same output model): one detail
    # per sale state proves the single-event path. Payment forms are in no list: every event's.
    states = {(e.in_sale_period(now), e.purchasable_now(now), e.is_sold_out): e for e in events}
    for event in events:
        if event in states.values():
            out.append(
                SampleRequest("GET", f"/billig/events/{event.id}", "/billig/events/{event_id}")
            )
        out.append(
            SampleRequest(
                "GET",
                f"/billig/events/{event.id}/payment-form",
                "/billig/events/{event_id}/payment-form",
            )
        )
    buyable = [
        (event, pg)
        for event in events
        if event.purchasable_now(now)
        for group in event.ticket_groups
        if not group.is_sold_out
        for pg in group.price_groups
        if pg.netsale
    ]
    for event, pg in buyable[:1]:
        path = pay.replace("{event_id}", str(event.id))
        paper = {"ticket_type": "paper", "email": "buyer@example.org"}
        out += [
            SampleRequest(
                "POST", path, pay, json={**paper, "tickets": [{"price_group": pg.id, "count": 1}]}
            ),
            # More than any ticket group's limit allows: a 409 with a reason.
            SampleRequest(
                "POST",
                path,
                pay,
                json={**paper, "tickets": [{"price_group": pg.id, "count": api.MAX_COUNT}]},
            ),
            SampleRequest("POST", path, pay, json={**paper, "tickets": []}),
            SampleRequest("POST", path, pay, content=b"{" + b" " * (api.MAX_BODY_BYTES + 1)),
        ]
    out.append(
        SampleRequest(
            "POST",
            pay.replace("{event_id}", str(missing)),
            pay,
            json={
                "ticket_type": "card",
                "membercard": "1",
                "tickets": [{"price_group": 1, "count": 1}],
            },
        )
    )

    keys = list(
        session.scalars(select(orm.BilligPaymentError.error).order_by(orm.BilligPaymentError.error))
    )
    out += [
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": k}) for k in keys
    ]
    ticket_ids = list(
        session.scalars(select(orm.BilligTicket.id).order_by(orm.BilligTicket.id).limit(5))
    )
    if ticket_ids:
        refs = [f"{t}{i:05d}" for i, t in enumerate(ticket_ids)]
        out.append(SampleRequest("GET", "/tickets", "/tickets", {"ref": refs}))
        out.append(
            SampleRequest(
                "GET", "/tickets", "/tickets", {"ref": [refs[0], f"{ticket_ids[0]}99999"]}
            )
        )
    return out


async def _send_all(
    app: FastAPI, requests: Sequence[SampleRequest]
) -> list[tuple[int, dict[str, str], bytes]]:
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        for request in requests:
            response = await client.request(
                request.method,
                request.path,
                params=dict(request.params),
                json=request.json,
                content=request.content,
                headers={"content-type": "application/json"} if request.content else None,
            )
            headers = {k.lower(): v for k, v in response.headers.items()}
            out.append((response.status_code, headers, response.content))
    return out


def exchanges(app: FastAPI, now: datetime) -> list[ApiExchange]:
    """Seed the app's site database, send :func:`sample_requests`, return the answers."""
    import httpx  # noqa: F401  (imported before the event loop runs; see _send_all)
    from sqlalchemy import select

    from examples.fastapi_site.billig_models import BilligEvent
    from examples.fastapi_site.seed import seed_site

    state = app.state.api
    with state.session() as session:
        ids = list(session.scalars(select(BilligEvent.id)))
    seed_site(state.site_engine, ids, SITE_SEED, now=now)
    with state.session() as session:
        requests = sample_requests(session, now)
    # The app logs each server error; the check turns every one into a problem line instead.
    with _quiet(logging.getLogger("examples.fastapi_site.api")):
        responses = asyncio.run(_send_all(app, requests))
    if any(status >= 500 for status, _, _ in responses):
        _mirror_still_there(state)
    return [
        ApiExchange(r.method, r.template, r.label, status, headers, body)
        for r, (status, headers, body) in zip(requests, responses, strict=True)
    ]


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _mirror_still_there(state: Any) -> None:
    """Raise DatabaseError (exit 3) when server errors came from a mirror that went away."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with state.billig_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        raise DatabaseError(f"the seeded mirror went away during the API check: {first}") from None
