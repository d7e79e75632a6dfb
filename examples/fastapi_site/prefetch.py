"""Batch loading of Billig events for many site events: one query per level, whatever N.

``billig_id`` is a logical reference into another database, so the ORM cannot eager-load it.
The loaders here collect the ids, load the events, then their ticket groups, then their price
groups (one ``= ANY(array)`` query each), and match rows to parents through dicts, so the work
is linear in the number of rows. :func:`prefetch_billig` sets the collections as if the ORM had
loaded them, so reading ``event.billig.ticket_groups[0].price_groups`` afterwards sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from examples.fastapi_site.billig_models import (
    BilligEvent,
    BilligPriceGroup,
    BilligTicketGroup,
    select_relevant_events,
)
from examples.fastapi_site.events import Event


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
    """Billig events by id, with groups and prices as asked.

    Missing ids are absent, and so are hidden events: hidden means the site never shows it.
    """
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.scalars(
        select(BilligEvent)
        .where(BilligEvent.id == _any_of(wanted), BilligEvent.hidden.is_(False))
        .order_by(BilligEvent.id)
    ).all()
    found = {e.id: e for e in rows}
    if tickets:
        attach_ticket_groups(session, rows, prices=prices)
    return found


def get_billig_event(
    session: Session, event_id: int, *, tickets: bool = True, prices: bool = True
) -> BilligEvent | None:
    """One Billig event with its groups and prices loaded (three queries), or None (missing
    or hidden)."""
    return load_billig_events(session, [event_id], tickets=tickets, prices=prices).get(event_id)


def relevant_billig_events(
    session: Session, now: datetime, *, tickets: bool = True, prices: bool = True
) -> list[BilligEvent]:
    """The Billig events the site shows at ``now`` (see :mod:`rules`), fully loaded."""
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
