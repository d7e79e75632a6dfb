"""``/billig/events``: the Billig events the web can see, with ticket groups and prices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from examples.fastapi_site.api.document import link, page, page_of, responses
from examples.fastapi_site.api.errors import not_found
from examples.fastapi_site.api.limits import DEFAULT_PAGE
from examples.fastapi_site.api.output import EventOutput
from examples.fastapi_site.api.state import EventId, Limit, Offset, SessionDep, StateDep
from examples.fastapi_site.billig_models import select_relevant_events
from examples.fastapi_site.prefetch import get_billig_event


def router(output: EventOutput) -> APIRouter:
    routes = APIRouter(tags=["billig"])
    billig_page = page_of(output.billig_event)
    first_item_links = {
        "BilligEvent": link(
            "get_billig_event", "The first event's detail.", event_id="$response.body#/items/0/id"
        ),
        "PaymentForm": link(
            "get_payment_form",
            "The first event's payment form.",
            event_id="$response.body#/items/0/id",
        ),
    }

    @routes.get(
        "/billig/events",
        operation_id="list_billig_events",
        response_model=billig_page,
        responses=responses(422, 503, links=first_item_links),
    )
    def list_billig_events(
        state: StateDep, session: SessionDep, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> Any:
        """The Billig events the site shows: not hidden, sale ended less than 31 days ago."""
        now = state.now()
        relevant = select_relevant_events(now)
        total = session.scalar(select(func.count()).select_from(relevant.subquery())) or 0
        rows = session.scalars(relevant.limit(limit).offset(offset)).all()
        items = output.serialize_billig_events(session, rows, now)
        return page(billig_page, items, total, limit, offset)

    @routes.get(
        "/billig/events/{event_id}",
        operation_id="get_billig_event",
        response_model=output.billig_event,
        responses=responses(
            404,
            422,
            503,
            links={
                "PaymentForm": link(
                    "get_payment_form", "This event's payment form.", event_id="$response.body#/id"
                )
            },
        ),
    )
    def get_billig_event_detail(state: StateDep, session: SessionDep, event_id: EventId) -> Any:
        """One Billig event the web can see, with its ticket groups and prices."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise not_found("Billig event", "event_id", event_id)
        return output.serialize_billig_event(found, state.now())

    return routes
