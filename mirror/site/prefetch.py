"""Batch loading of Billig events for many site events: one query per level, whatever N.

``billig_id`` is a logical reference into another database, so the ORM cannot eager-load it.
Both loaders here collect the ids, load the events, then their ticket groups, then their price
groups (one ``= ANY(array)`` query each), and match rows to parents through dicts or in one
merged pass over rows sorted alike, so the work is linear in the number of rows.
:func:`prefetch_billig` loads ORM objects and sets the collections as if the ORM had loaded
them, so reading ``event.billig.ticket_groups[0].price_groups`` afterwards sends nothing.
:func:`load_billig_rows` is the serializers' list path: only the columns they read, as plain
tuples (:class:`BilligRows`), since building, tracking and collecting tens of thousands of ORM
instances costs several times more than the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable, Integer, any_, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mirror.site.billig_models import (
    BilligEvent,
    BilligPriceGroup,
    BilligTicketGroup,
    select_relevant_events,
)
from mirror.site.events import Event

_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _any_of(ids: Sequence[int]) -> Any:
    # One array parameter instead of N bind parameters: same statement text for every N.
    return any_(bindparam(None, list(ids), type_=ARRAY(Integer)))


# --------------------------------------------------------------------------- ORM objects


def prefetch_billig(
    session: Session,
    events: Iterable[Event],
    tickets: bool = True,
    prices: bool = True,
) -> dict[int, BilligEvent]:
    """Attach ``event.billig`` to every site event: at most one query per level.

    ``tickets`` loads ticket groups, ``prices`` (with ``tickets``) their price groups. Events not
    sold through Billig, or whose ``billig_id`` is not in Billig, get ``billig = None`` at no cost.
    Returns the loaded Billig events by id.
    """
    events = list(events)
    found = load_billig_events(session, billig_ids(events), tickets=tickets, prices=prices)
    for site_event in events:
        billig_id = site_event.billig_id
        sold = billig_id is not None and site_event.sold_through_billig
        site_event.attach_billig(found.get(billig_id) if sold and billig_id is not None else None)
    return found


def billig_ids(events: Iterable[Event]) -> set[int]:
    """The Billig ids the site events sold through Billig refer to."""
    return {e.billig_id for e in events if e.sold_through_billig and e.billig_id is not None}


def load_billig_events(
    session: Session,
    ids: Iterable[int | None],
    *,
    tickets: bool = True,
    prices: bool = True,
) -> dict[int, BilligEvent]:
    """Billig events by id (missing ids are absent), with groups and prices as asked."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.scalars(
        select(BilligEvent).where(BilligEvent.id == _any_of(wanted)).order_by(BilligEvent.id)
    ).all()
    found = {e.id: e for e in rows}
    if tickets:
        attach_ticket_groups(session, rows, prices=prices)
    return found


def get_billig_event(
    session: Session, event_id: int, *, tickets: bool = True, prices: bool = True
) -> BilligEvent | None:
    """One Billig event with its groups and prices loaded (three queries), or None."""
    return load_billig_events(session, [event_id], tickets=tickets, prices=prices).get(event_id)


def relevant_billig_events(
    session: Session, now: datetime, *, tickets: bool = True, prices: bool = True
) -> list[BilligEvent]:
    """The Billig events the site shows at ``now`` (see :mod:`mirror.site.rules`), fully loaded."""
    rows = list(session.scalars(select_relevant_events(now)).all())
    if tickets:
        attach_ticket_groups(session, rows, prices=prices)
    return rows


def attach_ticket_groups(
    session: Session, events: Sequence[BilligEvent], *, prices: bool = True
) -> None:
    """Load the ticket groups (and price groups) of ``events``: one query per level."""
    if not events:
        return
    groups = session.scalars(
        select(BilligTicketGroup)
        .where(BilligTicketGroup.event_id == _any_of([e.id for e in events]))
        .order_by(BilligTicketGroup.id)
    ).all()
    by_event: dict[int, list[BilligTicketGroup]] = {e.id: [] for e in events}
    parents = {e.id: e for e in events}
    for group in groups:
        by_event[group.event_id].append(group)
        set_committed_value(group, "event", parents[group.event_id])
    for billig_event in events:
        set_committed_value(billig_event, "ticket_groups", by_event[billig_event.id])
    if prices:
        attach_price_groups(session, groups)


def attach_price_groups(session: Session, groups: Sequence[BilligTicketGroup]) -> None:
    """Load the price groups of ``groups`` in one query."""
    if not groups:
        return
    rows = session.scalars(
        select(BilligPriceGroup)
        .where(BilligPriceGroup.ticket_group_id == _any_of([g.id for g in groups]))
        .order_by(BilligPriceGroup.id)
    ).all()
    by_group: dict[int, list[BilligPriceGroup]] = {g.id: [] for g in groups}
    parents = {g.id: g for g in groups}
    for price_group in rows:
        by_group[price_group.ticket_group_id].append(price_group)
        set_committed_value(price_group, "ticket_group", parents[price_group.ticket_group_id])
    for group in groups:
        set_committed_value(group, "price_groups", by_group[group.id])


# --------------------------------------------------------------------------- plain rows

# The list path's rows are exact tuples: the cyclic garbage collector stops tracking a tuple of
# plain values after one pass, but keeps scanning named tuples and dataclasses in every full
# collection, and 10,000 events bring some 70,000 rows. Their columns, in order:
EVENT_COLUMNS = (BilligEvent.id, BilligEvent.name, BilligEvent.sale_from, BilligEvent.sale_to)
TICKET_GROUP_COLUMNS = (
    BilligTicketGroup.id,
    BilligTicketGroup.event_id,
    BilligTicketGroup.name,
    BilligTicketGroup.ticket_limit,
    BilligTicketGroup.num_sold,
    BilligTicketGroup.num,
)
PRICE_GROUP_COLUMNS = (
    BilligPriceGroup.id,
    BilligPriceGroup.ticket_group_id,
    BilligPriceGroup.name,
    BilligPriceGroup.can_be_put_on_card,
    BilligPriceGroup.membership_needed,
    BilligPriceGroup.netsale,
    BilligPriceGroup.price,
)
EventRow = tuple[int, str, datetime, datetime]
TicketGroupRow = tuple[int, int, str, int | None, int, int]
PriceGroupRow = tuple[int, int, str, bool, bool, bool, int]
# A ticket group with its price groups; an event with its ticket groups.
GroupRows = tuple[TicketGroupRow, list[PriceGroupRow]]
EventRows = tuple[EventRow, list[GroupRows]]


@dataclass(frozen=True, slots=True)
class BilligRows:
    """Billig events with their ticket and price groups as plain rows, one list per level.

    A row's second column is its parent's id. Each level is in its parents' order: events by
    id, ticket groups by event then id, price groups by event, ticket group, then id. So one
    merged pass nests them (:meth:`nested`), with no index or list per parent kept alive.
    """

    events: list[EventRow]
    ticket_groups: list[TicketGroupRow]
    price_groups: list[PriceGroupRow]

    def nested(self) -> Iterator[EventRows]:
        """Each event with its ticket groups, each with its price groups, in event id order."""
        groups = _children(self.ticket_groups, (e[0] for e in self.events))
        prices = _children(self.price_groups, (g[0] for g in self.ticket_groups))
        for event in self.events:
            yield event, [(group, next(prices)) for group in next(groups)]
        # Rows left over had their parent earlier in the order: the lists were not sorted alike.
        next(groups, None)
        next(prices, None)


def _children(rows: Iterable[_Row], parents: Iterable[int]) -> Iterator[list[_Row]]:
    """For each parent id in turn, its rows: consecutive in ``rows``, in the parents' order."""
    runs = groupby(rows, itemgetter(1))
    run = next(runs, None)
    for parent in parents:
        if run is not None and run[0] == parent:
            yield list(run[1])
            run = next(runs, None)
        else:
            yield []
    if run is not None:
        raise ValueError(f"rows of parent {run[0]} are out of their parents' order")


def load_billig_rows(session: Session, ids: Iterable[int | None]) -> BilligRows:
    """Billig events by id (missing ids are absent) with their groups and prices, as rows.

    The same rows :func:`load_billig_events` loads, in at most three queries (none without ids),
    without ORM instances or identity map.
    """
    wanted = sorted({i for i in ids if i is not None})
    events: list[EventRow] = []
    groups: list[TicketGroupRow] = []
    prices: list[PriceGroupRow] = []
    if not wanted:
        return BilligRows(events, groups, prices)
    # The session's connection to Billig (same transaction), without the ORM's result handling.
    conn = session.connection(bind_arguments={"mapper": sa_inspect(BilligEvent)})
    event, group, price = BilligEvent, BilligTicketGroup, BilligPriceGroup
    events = _rows(
        conn,
        select(*EVENT_COLUMNS).where(event.id == _any_of(wanted)).order_by(event.id),
    )
    if events:
        groups = _rows(
            conn,
            select(*TICKET_GROUP_COLUMNS)
            .where(group.event_id == _any_of([e[0] for e in events]))
            .order_by(group.event_id, group.id),
        )
    if groups:
        # Joined only to order by event, as the ticket groups are.
        prices = _rows(
            conn,
            select(*PRICE_GROUP_COLUMNS)
            .join(group, group.id == price.ticket_group_id)
            .where(price.ticket_group_id == _any_of([g[0] for g in groups]))
            .order_by(group.event_id, price.ticket_group_id, price.id),
        )
    return BilligRows(events, groups, prices)


def _rows(conn: Connection, statement: Executable) -> list[Any]:
    # Row objects are tracked by the collector for as long as they live: copy them out.
    return [tuple(row) for row in conn.execute(statement)]
