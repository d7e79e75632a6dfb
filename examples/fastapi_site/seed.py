"""Deterministic seed of the site database: site events that point into the Billig mirror.

Most site events sell through a Billig event (``ticket_type = "billig"``, ``billig_id`` set; many
site events may share one Billig event). The rest cover what the integration must survive:
``free`` and ``custom`` events (some still carrying a stale ``billig_id``), and Billig events whose
``billig_id`` does not exist in Billig. The first site event always points at the first Billig id,
so any prefix of the seed touches Billig. Same ``seed`` → same rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from examples.fastapi_site.events import (
    TICKET_TYPE_BILLIG,
    TICKET_TYPE_CUSTOM,
    TICKET_TYPE_FREE,
    Event,
    create_site_schema,
)
from examples.fastapi_site.rules import billig_now
from mirror.errors import UsageError

_TITLES = ("Konsert", "Revy", "Quiz", "Foredrag", "Fest", "Jazz", "Teater", "Film", "Debatt")
# Share of site events per kind; the rest sell through an existing Billig event.
_MISSING_SHARE = 0.08
_FREE_SHARE = 0.10
_CUSTOM_SHARE = 0.07


def seed_site(
    site_engine: Engine | Connection,
    billig_event_ids: Sequence[int],
    seed: int,
    *,
    events: int | None = None,
    now: datetime | None = None,
) -> int:
    """Create the site tables and insert ``events`` site events (default: 2 per Billig id, ≥ 10).

    Returns the number of rows inserted. Refuses a site database that already has events.
    """
    ids = sorted(set(billig_event_ids))
    count = max(2 * len(ids), 10) if events is None else events
    if count < 0:
        raise UsageError(f"site events must be >= 0, got {count}")
    rows = site_event_rows(ids, seed, count, now)
    if isinstance(site_engine, Engine):
        with site_engine.begin() as conn:
            _insert(conn, rows)
    else:
        _insert(site_engine, rows)
    return len(rows)


def site_event_rows(
    billig_event_ids: Sequence[int], seed: int, count: int, now: datetime | None = None
) -> list[dict[str, object]]:
    """The rows :func:`seed_site` inserts; pure and deterministic."""
    rng = random.Random(seed)
    ids = sorted(set(billig_event_ids))
    ref = (now or billig_now()).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    # Ids past every real one can never exist in Billig.
    missing_base = (max(ids) if ids else 0) + 1_000_000
    rows: list[dict[str, object]] = []
    for index in range(count):
        roll = rng.random()
        ticket_type, billig_id = TICKET_TYPE_BILLIG, None
        if ids and (index == 0 or roll >= _MISSING_SHARE + _FREE_SHARE + _CUSTOM_SHARE):
            billig_id = ids[0] if index == 0 else rng.choice(ids)
        elif roll < _MISSING_SHARE or not ids:
            billig_id = missing_base + index
        elif roll < _MISSING_SHARE + _FREE_SHARE:
            ticket_type = TICKET_TYPE_FREE
        else:
            ticket_type = TICKET_TYPE_CUSTOM
            # A stale reference left behind when the event stopped selling through Billig.
            billig_id = rng.choice(ids) if rng.random() < 0.5 else None
        rows.append(
            {
                "id": index + 1,
                "title": f"{rng.choice(_TITLES)} {index + 1}",
                "start_dt": ref + timedelta(days=rng.randint(-30, 120), hours=rng.choice((18, 20))),
                "ticket_type": ticket_type,
                "billig_id": billig_id,
            }
        )
    return rows


def _insert(conn: Connection, rows: list[dict[str, object]]) -> None:
    create_site_schema(conn)
    if conn.scalar(select(func.count()).select_from(Event)):
        raise UsageError("the site database already has events; seed an empty one")
    if rows:
        conn.execute(insert(Event), rows)
