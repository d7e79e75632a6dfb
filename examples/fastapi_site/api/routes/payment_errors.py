"""``GET /payment-errors``: why a payment failed, from the session key Billig sent back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from examples.fastapi_site import payment_errors
from examples.fastapi_site.api.document import responses
from examples.fastapi_site.api.limits import BSESSION_MAX
from examples.fastapi_site.api.state import SessionDep

Lookup = Callable[[Session, str], payment_errors.PaymentErrorOutcome]


def payment_error_lookup() -> Lookup:
    """The lookup the endpoint runs: a dependency, so an app can be given another
    (``app.dependency_overrides``)."""
    return payment_errors.lookup_payment_error


def router() -> APIRouter:
    routes = APIRouter(tags=["payment"])

    @routes.get(
        "/payment-errors",
        operation_id="get_payment_error",
        response_model=payment_errors.PaymentErrorOutcome,
        responses=responses(422, 503),
    )
    def get_payment_error(
        session: SessionDep,
        lookup: Annotated[Lookup, Depends(payment_error_lookup)],
        bsession: Annotated[
            str,
            Query(
                min_length=1,
                max_length=BSESSION_MAX,
                description="The session key Billig sent back after a failed payment.",
            ),
        ],
    ) -> Any:
        """Why a payment failed: a generic message for an unknown session, Billig's message, or
        the message and the counts to refill the event's form with. Never the owner's data."""
        return lookup(session, bsession)

    return routes
