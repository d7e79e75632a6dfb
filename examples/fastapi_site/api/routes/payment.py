"""``/billig/events/{event_id}/payment…``: the payment form, and a buyer's selection validated
into exactly the fields Billig's ``/pay`` takes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from examples.fastapi_site import payment
from examples.fastapi_site.api.document import link, responses
from examples.fastapi_site.api.errors import ApiProblem, Body, not_found
from examples.fastapi_site.api.limits import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    INT4_MAX,
    MAX_CHOICES,
    MAX_COUNT,
    MEMBERCARD_PATTERN,
)
from examples.fastapi_site.api.state import EventId, SessionDep, StateDep
from examples.fastapi_site.prefetch import get_billig_event


class PayRequest(Body):
    """A valid selection: post ``fields`` to ``action`` (Billig's ``/pay``) as a form."""

    action: str
    fields: dict[str, str]


class _Input(BaseModel):
    # Strict: a JSON string is never an integer here, so the document's types are the rules.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _json_integer(value: object) -> object:
    # JSON Schema's integer is any number without a fraction (30.0 is 30), never a string or a
    # boolean: exactly what the document promises, no more (pydantic's lax mode takes "30").
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


_JSON_INTEGER = BeforeValidator(_json_integer)


class TicketChoice(_Input):
    price_group: Annotated[
        int, Field(ge=1, le=INT4_MAX, description="A price group id."), _JSON_INTEGER
    ]
    count: Annotated[
        int, Field(ge=1, le=MAX_COUNT, description="Tickets of that price group."), _JSON_INTEGER
    ]


Choices = Annotated[list[TicketChoice], Field(min_length=1, max_length=MAX_CHOICES)]


class CardPayment(_Input):
    """Tickets put on the buyer's member card."""

    ticket_type: Literal["card"]
    membercard: Annotated[str, Field(pattern=MEMBERCARD_PATTERN)]
    tickets: Choices


class PaperPayment(_Input):
    """Paper tickets sent to the buyer's e-mail address."""

    ticket_type: Literal["paper"]
    email: Annotated[str, Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
    tickets: Choices


PaymentSelection = Annotated[CardPayment | PaperPayment, Field(discriminator="ticket_type")]

# The form's first price group, one ticket on paper: the link Schemathesis follows to buy.
_BUY_LINK = {
    **link(
        "validate_payment",
        "One ticket of the form's first price group, on paper.",
        event_id="$response.body#/event_id",
    ),
    # The body as a whole, not merged into a generated one (Schemathesis).
    "x-schemathesis": {"merge_body": False},
    "requestBody": {
        "ticket_type": "paper",
        "email": "buyer@example.org",
        "tickets": [
            {"price_group": "$response.body#/ticket_groups/0/price_groups/0/id", "count": 1}
        ],
    },
}


def router() -> APIRouter:
    routes = APIRouter(tags=["payment"])

    @routes.get(
        "/billig/events/{event_id}/payment-form",
        operation_id="get_payment_form",
        response_model=payment.PaymentForm,
        responses=responses(404, 422, 503, links={"Buy": _BUY_LINK}),
    )
    def get_payment_form(state: StateDep, session: SessionDep, event_id: EventId) -> Any:
        """What a buyer may choose: netsale price groups, prices, count ranges, and whether the
        event sells now."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise not_found("Billig event", "event_id", event_id)
        return payment.payment_form(found, state.now(), url=state.pay_url)

    @routes.post(
        "/billig/events/{event_id}/payment",
        operation_id="validate_payment",
        response_model=PayRequest,
        responses=responses(404, 409, 413, 422, 503),
    )
    def validate_payment(
        state: StateDep, session: SessionDep, event_id: EventId, selection: PaymentSelection
    ) -> Any:
        """Check a selection; a valid one gives the exact form fields to post to Billig's
        ``/pay``, an invalid one a 409 with a reason per field (``price_<id>_count``,
        ``ticket_group_<id>``, ``event`` …)."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise not_found("Billig event", "event_id", event_id)
        counts: dict[int, int] = {}
        duplicates: dict[str, str] = {}
        for index, choice in enumerate(selection.tickets):
            if choice.price_group in counts:
                duplicates[f"tickets[{index}]"] = f"price group {choice.price_group} listed twice"
            counts[choice.price_group] = choice.count
        if duplicates:
            raise ApiProblem(409, "invalid_selection", "invalid selection", duplicates)
        chosen = payment.Selection(
            counts=counts,
            ticket_type=selection.ticket_type,
            membercard=getattr(selection, "membercard", None),
            email=getattr(selection, "email", None),
        )
        outcome = payment.validate_selection(found, chosen, state.now(), url=state.pay_url)
        if not outcome.valid:
            raise ApiProblem(409, "invalid_selection", "invalid selection", outcome.errors)
        return PayRequest(action=outcome.pay_url, fields=outcome.fields)

    return routes
