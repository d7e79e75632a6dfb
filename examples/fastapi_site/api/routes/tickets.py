"""``GET /tickets``: the tickets of one purchase and their PDF link."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from examples.fastapi_site import tickets
from examples.fastapi_site.api.document import responses
from examples.fastapi_site.api.errors import ApiProblem
from examples.fastapi_site.api.limits import EXAMPLE_TICKET_REFS, TICKET_REF_PATTERN
from examples.fastapi_site.api.state import SessionDep, StateDep

TicketRefs = Annotated[
    list[Annotated[str, Field(pattern=TICKET_REF_PATTERN)]],
    Query(
        min_length=1,
        max_length=tickets.MAX_TICKETS,
        description=(
            "The ticket references Billig sent back after one purchase, all of them: "
            "each a ticket id and a 5-digit code."
        ),
        examples=[EXAMPLE_TICKET_REFS],
    ),
]


def router() -> APIRouter:
    routes = APIRouter(tags=["tickets"])

    @routes.get(
        "/tickets",
        operation_id="get_tickets",
        response_model=tickets.PurchaseTickets,
        responses=responses(404, 422, 503),
    )
    def get_tickets(state: StateDep, session: SessionDep, ref: TicketRefs) -> Any:
        """The tickets of one purchase (price group, price, event) and their PDF link.

        The request must name every ticket of one purchase and nothing else; anything else
        (a ticket missing or extra, several purchases, a repeated ticket, a hidden event) is
        the same 404, so no request tells which tickets exist. Billig's 5-digit code is not
        verified here (Billig checks it when it serves the PDF). Owner data, member ids and
        card numbers are never read; references are never echoed in errors.
        """
        try:
            return tickets.purchase_tickets(session, ref, base=state.ticket_url)
        except tickets.TicketReferenceError:
            # Well-formed (the pattern held), so a repeated ticket or not one complete purchase.
            raise ApiProblem(
                404, "not_found", "no such purchase", {"ref": tickets.NOT_ONE_PURCHASE}
            ) from None

    return routes
