"""The payment form: what a buyer may choose for a Billig event, and validating the choice.

The site's page posts straight to Billig's ``/pay`` (URL from ``BILLIG_PAY_URL``). The site
builds the form (netsale price groups, prices, count ranges from the limits, purchasable now) and
validates a submitted :class:`Selection` into exactly the fields Billig expects:
``price_<price_group>_count`` per chosen group, ``ticket_type`` (``card`` or ``paper``) and
exactly one of ``membercard`` (card) or ``email`` (paper). An invalid selection gives one reason
per field instead; the API answers it with a 4xx. The buyer's own ``membercard``/``email`` are
echoed into the ``/pay`` fields only, never anyone else's.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site import rules
from examples.fastapi_site.serializers import CONFIG, INPUT, PublicModel, column, derived, join

PAY_URL_ENV = "BILLIG_PAY_URL"
DEFAULT_PAY_URL = "https://billig.example.org/pay"

TICKET_TYPES = ("card", "paper")
_MEMBERCARD = re.compile(r"^[0-9]{1,19}$")  # ticket_card.card is a bigint
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_MAX = 254  # purchase.owner_email is varchar(254)


def pay_url(url: str | None = None) -> str:
    """Billig's ``/pay`` URL: ``url``, else ``BILLIG_PAY_URL``, else the default."""
    return url or os.environ.get(PAY_URL_ENV) or DEFAULT_PAY_URL


def count_field(price_group_id: int) -> str:
    """The ``/pay`` field carrying the number of tickets of one price group."""
    return f"price_{price_group_id}_count"


# --------------------------------------------------------------------------- form

_PG, _TG, _EV = "price_group", "ticket_group", "event_lim_web"
_COUNTS = ((_TG, "num_sold"), (_TG, "num"))


class FormPriceGroup(PublicModel):
    id: Annotated[int, column(_PG, "price_group")]
    name: Annotated[str, column(_PG, "price_group_name")]
    price: Annotated[int, column(_PG, "price")]
    membership_needed: Annotated[bool, column(_PG, "membership_needed")]
    can_be_put_on_card: Annotated[bool, column(_PG, "can_be_put_on_card")]
    input_name: Annotated[str, derived((_PG, "price_group"))]
    min_count: Annotated[int, CONFIG]
    max_count: Annotated[int, derived((_TG, "ticket_limit"))]


class FormTicketGroup(PublicModel):
    id: Annotated[int, column(_TG, "ticket_group")]
    name: Annotated[str, column(_TG, "ticket_group_name")]
    is_sold_out: Annotated[bool, derived(*_COUNTS)]
    max_total: Annotated[int, derived((_TG, "ticket_limit"), (_PG, "ticket_group"))]
    price_groups: Annotated[list[FormPriceGroup], join((_PG, "ticket_group"), (_PG, "netsale"))]


class PaymentForm(PublicModel):
    event_id: Annotated[int, column(_EV, "event")]
    event_name: Annotated[str, column(_EV, "event_name")]
    pay_url: Annotated[str, CONFIG]
    in_sale_period: Annotated[bool, derived((_EV, "sale_from"), (_EV, "sale_to"))]
    is_sold_out: Annotated[bool, derived(*_COUNTS)]
    purchasable_now: Annotated[
        bool, derived((_EV, "sale_from"), (_EV, "sale_to"), *_COUNTS, (_PG, "netsale"))
    ]
    ticket_groups: Annotated[list[FormTicketGroup], join((_TG, "event"))]


def payment_form(
    event: orm.BilligEvent, now: datetime | None = None, *, url: str | None = None
) -> PaymentForm:
    """The form for ``event``: each ticket group with its netsale price groups and limits."""
    now = rules.billig_now() if now is None else rules.billig_time(now)
    groups: list[FormTicketGroup] = []
    for group in event.ticket_groups:
        web = [pg for pg in group.price_groups if pg.netsale]
        if not web:
            continue
        groups.append(
            FormTicketGroup(
                id=group.id,
                name=group.name,
                is_sold_out=group.is_sold_out,
                max_total=group.total_limit,
                price_groups=[
                    FormPriceGroup(
                        id=pg.id,
                        name=pg.name,
                        price=pg.price,
                        membership_needed=pg.membership_needed,
                        can_be_put_on_card=pg.can_be_put_on_card,
                        input_name=count_field(pg.id),
                        min_count=0,
                        max_count=group.price_group_limit,
                    )
                    for pg in web
                ],
            )
        )
    return PaymentForm(
        event_id=event.id,
        event_name=event.name,
        pay_url=pay_url(url),
        in_sale_period=event.in_sale_period(now),
        is_sold_out=event.is_sold_out,
        purchasable_now=event.purchasable_now(now),
        ticket_groups=groups,
    )


# --------------------------------------------------------------------------- validation


class Selection(BaseModel):
    """What the buyer submitted: tickets per price group id, ticket type and one contact."""

    model_config = ConfigDict(extra="forbid")

    counts: dict[int, int] = Field(default_factory=dict)
    ticket_type: str
    membercard: str | None = None
    email: str | None = None


class PayValidation(PublicModel):
    """The outcome: ``valid`` with the exact ``/pay`` fields, or a reason per invalid field."""

    valid: Annotated[bool, INPUT]
    pay_url: Annotated[str, CONFIG]
    fields: Annotated[dict[str, str], INPUT]
    errors: Annotated[dict[str, str], INPUT]


def validate_selection(
    event: orm.BilligEvent,
    selection: Selection,
    now: datetime | None = None,
    *,
    url: str | None = None,
) -> PayValidation:
    """Check ``selection`` against ``event`` at ``now``; see the module docstring for fields."""
    now = rules.billig_now() if now is None else rules.billig_time(now)
    errors: dict[str, str] = {}
    by_id = {pg.id: (group, pg) for group in event.ticket_groups for pg in group.price_groups}
    on_card = selection.ticket_type == "card"

    chosen: dict[int, int] = {}
    totals: dict[int, int] = {}
    for pg_id, count in sorted(selection.counts.items()):
        key = count_field(pg_id)
        if pg_id not in by_id:
            errors[key] = "unknown price group for this event"
            continue
        group, pg = by_id[pg_id]
        limit = group.price_group_limit
        if not pg.netsale:
            errors[key] = "this price group is not sold on the web"
        elif count < 0 or count > limit:
            errors[key] = f"count must be between 0 and {limit}"
        elif count and group.is_sold_out:
            errors[key] = "sold out"
        elif count and on_card and not pg.can_be_put_on_card:
            errors[key] = "this price group cannot be put on a card; choose paper"
        elif count:
            chosen[pg_id] = count
            totals[group.id] = totals.get(group.id, 0) + count

    for group in event.ticket_groups:
        if totals.get(group.id, 0) > group.total_limit:
            errors[f"ticket_group_{group.id}"] = (
                f"at most {group.total_limit} tickets in {group.name!r} per purchase"
            )
    if not chosen and not any(k.startswith("price_") for k in errors):
        errors["tickets"] = "choose at least one ticket"

    if selection.ticket_type not in TICKET_TYPES:
        errors["ticket_type"] = "must be 'card' or 'paper'"
    errors.update(_contact_errors(selection))

    if not event.in_sale_period(now):
        errors["event"] = "not in sale period"
    elif not event.purchasable_now(now):
        errors["event"] = "sold out"

    if errors:
        return PayValidation(valid=False, pay_url=pay_url(url), fields={}, errors=errors)
    fields = {count_field(pg_id): str(count) for pg_id, count in chosen.items()}
    fields["ticket_type"] = selection.ticket_type
    if on_card:
        fields["membercard"] = _clean(selection.membercard)
    else:
        fields["email"] = _clean(selection.email)
    return PayValidation(valid=True, pay_url=pay_url(url), fields=fields, errors={})


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _contact_errors(selection: Selection) -> dict[str, str]:
    card, email = _clean(selection.membercard), _clean(selection.email)
    if card and email:
        both = "give exactly one of membercard (card) or email (paper), not both"
        return {"membercard": both, "email": both}
    if selection.ticket_type == "card":
        if email:
            return {"email": "tickets on card need membercard, not email"}
        if not card:
            return {"membercard": "tickets on card need a member card number"}
        if not _MEMBERCARD.match(card):
            return {"membercard": "must be the digits of a member card number"}
    elif selection.ticket_type == "paper":
        if card:
            return {"membercard": "paper tickets need email, not membercard"}
        if not email:
            return {"email": "paper tickets need an e-mail address"}
        if len(email) > _EMAIL_MAX or not _EMAIL.match(email):
            return {"email": "not a valid e-mail address"}
    elif not card and not email:
        return {"contact": "give membercard (card) or email (paper)"}
    return {}


PAYMENT_SCHEMAS: Mapping[str, type[PublicModel]] = types.MappingProxyType(
    {"PaymentForm": PaymentForm, "PayValidation": PayValidation}
)
