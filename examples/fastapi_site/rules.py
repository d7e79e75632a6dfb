"""The site's business rules over Billig data, as pure functions of values and "now".

Billig stores timestamps as naive local time in the site's time zone (``BILLIG_TIME_ZONE``,
default Europe/Oslo). Every rule takes ``now`` explicitly as a naive datetime in that zone;
:func:`billig_time` turns an aware datetime into that form and :func:`billig_now` is the default
clock, so callers (and tests) decide what "now" is. Nothing here touches a database: the rules
read attributes of anything shaped like the models (see the protocols below).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

TIME_ZONE_ENV = "BILLIG_TIME_ZONE"
DEFAULT_TIME_ZONE = "Europe/Oslo"

# Events whose sale ended longer ago than this are no longer relevant to the site.
RELEVANCE_WINDOW = timedelta(days=31)
ALMOST_SOLD_OUT_RATIO = 0.8
# Tickets per price group when the ticket group sets no positive limit.
DEFAULT_TICKET_LIMIT = 9

Clock = Callable[[], datetime]


class TicketCounts(Protocol):
    @property
    def num(self) -> int: ...
    @property
    def num_sold(self) -> int: ...


class PriceGroupLike(Protocol):
    @property
    def netsale(self) -> bool: ...


class TicketGroupLike(TicketCounts, Protocol):
    @property
    def price_groups(self) -> Sequence[PriceGroupLike]: ...


class SalePeriod(Protocol):
    @property
    def sale_from(self) -> datetime: ...
    @property
    def sale_to(self) -> datetime: ...


class EventLike(SalePeriod, Protocol):
    @property
    def ticket_groups(self) -> Sequence[TicketGroupLike]: ...


# --------------------------------------------------------------------------- time


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def billig_zone() -> ZoneInfo:
    """The site's local time zone, in which Billig's naive timestamps are written."""
    return _zone(os.environ.get(TIME_ZONE_ENV) or DEFAULT_TIME_ZONE)


def billig_time(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``moment`` as Billig writes time: naive, in the site's zone.

    An aware datetime is converted; a naive one is taken to be Billig time already.
    """
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone or billig_zone()).replace(tzinfo=None)


def billig_now(zone: ZoneInfo | None = None) -> datetime:
    """The default clock: the current time as a naive datetime in the site's zone."""
    return datetime.now(zone or billig_zone()).replace(tzinfo=None)


def localize(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """A naive Billig timestamp made aware in the site's zone, for output with an offset."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone or billig_zone())


# --------------------------------------------------------------------------- events


def is_relevant(hidden: bool, sale_to: datetime, now: datetime) -> bool:
    """Shown by the site: not hidden, and the sale ended less than 31 days ago (or later)."""
    return not hidden and sale_to > billig_time(now) - RELEVANCE_WINDOW


def relevant_since(now: datetime) -> datetime:
    """The earliest ``sale_to`` of a relevant event (exclusive), for queries."""
    return billig_time(now) - RELEVANCE_WINDOW


def in_sale_period(sale_from: datetime, sale_to: datetime, now: datetime) -> bool:
    """``sale_from <= now <= sale_to``, both ends inclusive."""
    return sale_from <= billig_time(now) <= sale_to


def event_in_sale_period(event: SalePeriod, now: datetime) -> bool:
    return in_sale_period(event.sale_from, event.sale_to, now)


# --------------------------------------------------------------------------- sold out


def group_is_sold_out(num_sold: int, num: int) -> bool:
    """A ticket group is sold out when ``num_sold >= num``; so a group of 0 tickets is."""
    return num_sold >= num


def group_is_almost_sold_out(num_sold: int, num: int) -> bool:
    """At least 80 % sold. A sold-out group (including ``num == 0``) is also almost sold out."""
    if num <= 0:
        return True
    return num_sold / num >= ALMOST_SOLD_OUT_RATIO


def event_is_sold_out(groups: Iterable[TicketCounts]) -> bool:
    """Every ticket group sold out; an event without ticket groups has nothing left to sell."""
    return all(group_is_sold_out(g.num_sold, g.num) for g in groups)


def event_is_almost_sold_out(groups: Iterable[TicketCounts]) -> bool:
    """Total sold / total tickets >= 80 %; false when the event has no tickets at all."""
    sold = total = 0
    for group in groups:
        sold += group.num_sold
        total += group.num
    if total <= 0:
        return False
    return sold / total >= ALMOST_SOLD_OUT_RATIO


# --------------------------------------------------------------------------- limits


def price_group_limit(ticket_limit: int | None) -> int:
    """Most tickets of one price group in one purchase.

    Billig keeps the limit on the ticket group; each of its price groups may use all of it.
    NULL or a non-positive limit means the default of 9.
    """
    if ticket_limit is not None and ticket_limit > 0:
        return ticket_limit
    return DEFAULT_TICKET_LIMIT


def ticket_group_limit(ticket_limit: int | None, price_groups: int) -> int:
    """Most tickets of one ticket group in one purchase: its limit, else 9 per price group."""
    if ticket_limit is not None and ticket_limit > 0:
        return ticket_limit
    return DEFAULT_TICKET_LIMIT * max(price_groups, 1)


# --------------------------------------------------------------------------- purchasing


def group_sells_on_web(group: TicketGroupLike) -> bool:
    """Tickets left and at least one price group sold on the web."""
    return not group_is_sold_out(group.num_sold, group.num) and any(
        pg.netsale for pg in group.price_groups
    )


def purchasable_now(event: EventLike, now: datetime) -> bool:
    """In the sale period, and some ticket group with a netsale price group has tickets left."""
    return event_in_sale_period(event, now) and any(
        group_sells_on_web(g) for g in event.ticket_groups
    )
