"""``/events``: the site's own events, each with its Billig event (null when not sold there)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from examples.fastapi_site import events as site_models
from examples.fastapi_site.api.document import link, page, page_of, responses
from examples.fastapi_site.api.errors import not_found
from examples.fastapi_site.api.limits import DEFAULT_PAGE
from examples.fastapi_site.api.output import EventOutput
from examples.fastapi_site.api.state import Limit, Offset, SessionDep, SiteEventId, StateDep


def router(output: EventOutput) -> APIRouter:
    routes = APIRouter(tags=["site"])
    event_page = page_of(output.event)

    @routes.get(
        "/events",
        operation_id="list_events",
        response_model=event_page,
        responses=responses(
            422,
            503,
            links={
                "Event": link(
                    "get_event", "The first event's detail.", event_id="$response.body#/items/0/id"
                )
            },
        ),
    )
    def list_events(
        state: StateDep, session: SessionDep, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> Any:
        """Site events by start time, each with its Billig event (null when not sold there).

        Billig data for the whole page comes in one query per level, whatever the page size.
        """
        event = site_models.Event
        total = session.scalar(select(func.count()).select_from(event)) or 0
        rows = session.scalars(
            select(event).order_by(event.start_dt, event.id).limit(limit).offset(offset)
        ).all()
        items = output.serialize_events(session, rows, state.now())
        return page(event_page, items, total, limit, offset)

    @routes.get(
        "/events/{event_id}",
        operation_id="get_event",
        response_model=output.event,
        responses=responses(404, 422, 503),
    )
    def get_event(state: StateDep, session: SessionDep, event_id: SiteEventId) -> Any:
        """One site event with its Billig event."""
        found = session.get(site_models.Event, event_id)
        if found is None:
            raise not_found("event", "event_id", event_id)
        return output.serialize_events(session, [found], state.now())[0]

    return routes
