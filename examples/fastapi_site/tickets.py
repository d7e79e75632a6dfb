"""Ticket PDFs: parsing Billig's ticket references, the PDF link, and describing the tickets.

After a purchase Billig sends back one reference per ticket: the ticket id followed by a 5-digit
HMAC only Billig can make (and checks when it serves the PDF). The site cannot verify the code,
so the reference's id part is all it can check, and enumeration is ruled out by what a request
must hold instead: exactly the complete ticket set of one purchase (every ticket of it, nothing
else, at most :data:`MAX_TICKETS`), all of events the web shows. Anything else is "not found",
the same answer whatever was wrong, so a request learns nothing about tickets it did not name
completely. What is shown is never private: price group, price, event name and time, and
whether the ticket is on a card, never the purchase's owner. References are bearer tokens:
error messages name them by position (``ticket0`` …), never by value. The PDF base URL comes
from ``BILLIG_TICKET_URL``.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site import rules
from examples.fastapi_site.serializers import CONFIG, INPUT, PublicModel, column, join
from mirror.errors import UsageError

TICKET_URL_ENV = "BILLIG_TICKET_URL"
DEFAULT_TICKET_URL = "https://billig.example.org/pdf?"
HMAC_DIGITS = 5
MAX_TICKETS = 100  # references in one request, so tickets of one purchase the site can show
# The one reason of every "not found": which reference was wrong would tell what exists.
NOT_ONE_PURCHASE = "not the complete ticket set of one purchase"
_INT4_MAX = 2**31 - 1  # ticket.ticket is an integer column
_DIGITS = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit() accepts '²' and other scripts


class TicketReferenceError(UsageError):
    """Ticket references that cannot be used; ``reasons`` maps ``ticket<i>`` to why."""

    def __init__(self, reasons: Mapping[str, str]) -> None:
        self.reasons = dict(reasons)
        detail = "; ".join(f"{key}: {why}" for key, why in self.reasons.items())
        super().__init__(f"invalid ticket references ({detail})")


class TicketsNotFound(TicketReferenceError):
    """Well-formed references that are not exactly one purchase's tickets the web can see."""

    def __init__(self) -> None:
        super().__init__({"tickets": NOT_ONE_PURCHASE})


@dataclass(frozen=True, slots=True)
class TicketRef:
    reference: str
    ticket_id: int


def ticket_url(base: str | None = None) -> str:
    """The PDF base: ``base``, else ``BILLIG_TICKET_URL``, else the default."""
    return base or os.environ.get(TICKET_URL_ENV) or DEFAULT_TICKET_URL


def parse_ticket_refs(references: Iterable[str]) -> tuple[TicketRef, ...]:
    """Parse references; raise :class:`TicketReferenceError` with a reason per bad one."""
    refs = list(references)
    if not refs:
        raise TicketReferenceError({"tickets": "no ticket references"})
    if len(refs) > MAX_TICKETS:
        raise TicketReferenceError({"tickets": f"at most {MAX_TICKETS} tickets at once"})
    reasons: dict[str, str] = {}
    parsed: list[TicketRef] = []
    seen: dict[int, int] = {}
    for index, raw in enumerate(refs):
        key = f"ticket{index}"
        text = raw.strip() if isinstance(raw, str) else ""
        if not _DIGITS.match(text):
            reasons[key] = "must be digits only"
            continue
        if len(text) <= HMAC_DIGITS:
            reasons[key] = f"too short: a ticket id followed by a {HMAC_DIGITS}-digit code"
            continue
        id_part = text[:-HMAC_DIGITS]
        if len(id_part.lstrip("0")) > len(str(_INT4_MAX)) or int(id_part) > _INT4_MAX:
            reasons[key] = "not a ticket id"
            continue
        ticket_id = int(id_part)
        if ticket_id == 0:
            reasons[key] = "ticket id is zero"
            continue
        if ticket_id in seen:
            reasons[key] = f"duplicate of ticket{seen[ticket_id]}"
            continue
        seen[ticket_id] = index
        parsed.append(TicketRef(text, ticket_id))
    if reasons:
        raise TicketReferenceError(reasons)
    return tuple(parsed)


def pdf_url(refs: Sequence[TicketRef], base: str | None = None) -> str:
    """``<base>ticket0=<ref0>&ticket1=<ref1>…`` for parsed references."""
    return ticket_url(base) + "&".join(f"ticket{i}={r.reference}" for i, r in enumerate(refs))


# --------------------------------------------------------------------------- descriptions


class TicketDescription(PublicModel):
    reference: Annotated[str, INPUT]
    ticket_id: Annotated[int, column("ticket", "ticket")]
    price_group: Annotated[str, column("price_group", "price_group_name")]
    price: Annotated[int, column("price_group", "price")]
    event_id: Annotated[int, column("event_lim_web", "event")]
    event_name: Annotated[str, column("event_lim_web", "event_name")]
    event_time: Annotated[datetime | None, column("event_lim_web", "event_time")]
    on_card: Annotated[bool, column("ticket", "on_card")]


class PurchaseTickets(PublicModel):
    pdf_url: Annotated[str, CONFIG]
    # The purchase and the hidden flag decide whether the tickets are shown at all.
    tickets: Annotated[
        list[TicketDescription],
        join(
            ("ticket", "price_group"),
            ("price_group", "ticket_group"),
            ("ticket_group", "event"),
            ("ticket", "purchase"),
            ("event_lim_web", "hidden"),
        ),
    ]


TICKET_SCHEMAS: Mapping[str, type[PublicModel]] = types.MappingProxyType(
    {"PurchaseTickets": PurchaseTickets}
)


def describe_tickets(session: Session, refs: Sequence[TicketRef]) -> list[TicketDescription]:
    """The tickets of ``refs``, in their order, when they are one purchase's complete set.

    One query. Raises :class:`TicketsNotFound` (always the same reason) unless every ticket
    exists, all belong to one purchase, no ticket of that purchase is left out and every event
    is one the web shows (not hidden).
    """
    if not refs:
        return []
    ticket, pg, tg, ev = (
        orm.BilligTicket,
        orm.BilligPriceGroup,
        orm.BilligTicketGroup,
        orm.BilligEvent,
    )
    ids = [r.ticket_id for r in refs]
    asked = ticket.id == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    # How many tickets each purchase of the asked tickets has: counted in billig.ticket, so the
    # purchase itself (and its owner) is never read.
    other = aliased(ticket)
    sizes = (
        select(other.purchase_id.label("purchase"), func.count().label("tickets"))
        .where(other.purchase_id.in_(select(ticket.purchase_id).where(asked)))
        .group_by(other.purchase_id)
        .subquery()
    )
    rows = session.execute(
        select(
            ticket.id,
            sizes.c.purchase,
            sizes.c.tickets,
            ticket.on_card,
            pg.name,
            pg.price,
            ev.id,
            ev.name,
            ev.time,
        )
        .join(sizes, sizes.c.purchase == ticket.purchase_id)
        .join(pg, pg.id == ticket.price_group_id)
        .join(tg, tg.id == pg.ticket_group_id)
        .join(ev, ev.id == tg.event_id)
        .where(asked, ev.hidden.is_(False))
    ).all()
    by_id = {row[0]: row for row in rows}
    purchases = {(row[1], row[2]) for row in rows}
    complete = len(purchases) == 1 and next(iter(purchases))[1] == len(refs)
    if len(by_id) != len(refs) or not complete:
        raise TicketsNotFound()
    out: list[TicketDescription] = []
    for ref in refs:
        _, _, _, on_card, pg_name, price, event_id, event_name, event_time = by_id[ref.ticket_id]
        out.append(
            TicketDescription(
                reference=ref.reference,
                ticket_id=ref.ticket_id,
                price_group=pg_name,
                price=price,
                event_id=event_id,
                event_name=event_name,
                event_time=rules.localize(event_time) if event_time else None,
                on_card=on_card,
            )
        )
    return out


def purchase_tickets(
    session: Session, references: Iterable[str], *, base: str | None = None
) -> PurchaseTickets:
    """Parse, describe and link the tickets Billig sent back after a purchase.

    Raises :class:`TicketReferenceError` for references that cannot be parsed (with a reason
    per position) and :class:`TicketsNotFound` unless they are one purchase's complete set.
    """
    refs = parse_ticket_refs(references)
    return PurchaseTickets(pdf_url=pdf_url(refs, base), tickets=describe_tickets(session, refs))
