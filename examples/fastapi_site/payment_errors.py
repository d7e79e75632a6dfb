"""Payment errors: Billig redirects a failed payment back with ``bsession=<error key>``.

:func:`lookup_payment_error` reads ``billig.payment_error`` and its
``payment_error_price_group`` rows and gives one of three outcomes: ``unknown`` (no such
session: a generic message), ``message`` (Billig's message only), or ``refill`` (the message
plus the ticket counts to put back into the form of the event they belong to, found through
price group → ticket group → event). Owner data of the failed payment (card number, e-mail) is
never part of the outcome. Two queries at most.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Annotated, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.payment import count_field
from examples.fastapi_site.serializers import PublicModel, column, derived, join

GENERIC_MESSAGE = "The payment could not be completed. Please try again."
_KEY_MAX = 64  # payment_error.error is varchar(64)

_PE, _PEPG = "payment_error", "payment_error_price_group"

OutcomeKind = Literal["unknown", "message", "refill"]


class RefillCount(PublicModel):
    price_group_id: Annotated[int, column(_PEPG, "price_group")]
    input_name: Annotated[str, derived((_PEPG, "price_group"))]
    count: Annotated[int, column(_PEPG, "number_of_tickets")]


class PaymentErrorOutcome(PublicModel):
    kind: Annotated[OutcomeKind, derived((_PE, "error"), (_PEPG, "error"))]
    message: Annotated[str, column(_PE, "message")]
    # A hidden event is never refilled: the site does not show it.
    event_id: Annotated[
        int | None,
        join(
            ("price_group", "ticket_group"), ("ticket_group", "event"), ("event_lim_web", "hidden")
        ),
    ]
    counts: Annotated[list[RefillCount], join((_PEPG, "error"))]


PAYMENT_ERROR_SCHEMAS: Mapping[str, type[PublicModel]] = types.MappingProxyType(
    {"PaymentErrorOutcome": PaymentErrorOutcome}
)

UNKNOWN = PaymentErrorOutcome(kind="unknown", message=GENERIC_MESSAGE, event_id=None, counts=[])


def lookup_payment_error(session: Session, bsession: str | None) -> PaymentErrorOutcome:
    """The outcome for Billig's ``bsession`` value (any string; malformed means unknown)."""
    key = (bsession or "").strip()
    if not key or len(key) > _KEY_MAX or "\x00" in key:
        return UNKNOWN  # cannot be a key: no query
    message = session.scalar(
        select(orm.BilligPaymentError.message).where(orm.BilligPaymentError.error == key)
    )
    if message is None:
        return UNKNOWN
    pepg = orm.BilligPaymentErrorPriceGroup
    rows = session.execute(
        select(pepg.price_group_id, pepg.number_of_tickets, orm.BilligEvent.id)
        .join(orm.BilligPriceGroup, orm.BilligPriceGroup.id == pepg.price_group_id)
        .join(
            orm.BilligTicketGroup, orm.BilligTicketGroup.id == orm.BilligPriceGroup.ticket_group_id
        )
        .join(orm.BilligEvent, orm.BilligEvent.id == orm.BilligTicketGroup.event_id)
        .where(pepg.error == key, orm.BilligEvent.hidden.is_(False))
        .order_by(pepg.price_group_id)
    ).all()
    if not rows:
        # No rows, or rows whose price group (not a foreign key) points at nothing visible,
        # or at a hidden event (the site never shows one).
        return PaymentErrorOutcome(kind="message", message=message, event_id=None, counts=[])
    # A failed payment is for one event; should rows span several, refill the first one's.
    event_id = rows[0][2]
    counts: dict[int, int] = {}
    for price_group_id, number, row_event in rows:
        if row_event == event_id:
            # No primary key: repeated rows for one price group add up.
            counts[price_group_id] = counts.get(price_group_id, 0) + number
    return PaymentErrorOutcome(
        kind="refill",
        message=message,
        event_id=event_id,
        counts=[
            RefillCount(price_group_id=pg, input_name=count_field(pg), count=n)
            for pg, n in counts.items()
        ],
    )
