"""Prefetch + serialize N site events with their Billig data, against a per-event loading loop.

The Billig database is seeded once with the largest N of events (so only N varies between
sizes, not the table sizes); the site database is a SQLite file with N site events, each sold
through a different Billig event. Every approach runs in a fresh routed session, reads the site
events (ORM objects) and produces the JSON document a list endpoint sends: ours with the
reference site's :func:`serialize_events` (ORM prefetch, one query per level, a validated model
per object), ``to_json`` and ``json.dumps``; the naive loop serializes each site event's Billig
event with its :func:`serialize_billig_event`, which loads the Billig event, its ticket groups
and each group's price groups lazily, as ORM code does by default. Both documents are checked to
be equal. Statements are counted on both databases: psycopg2 cursors
for Billig, engine events for SQLite.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.measurement import Laps, StatementCounter, Timing, measure, phases
from benchmarks.results import Result
from benchmarks.settings import Settings
from examples.fastapi_site import rules
from examples.fastapi_site.events import TICKET_TYPE_BILLIG, Event, create_site_schema
from examples.fastapi_site.routing import session_factory
from examples.fastapi_site.serializers import Event as EventShape
from examples.fastapi_site.serializers import serialize_billig_event, serialize_events, to_json
from mirror.provision.mirror import build_template
from mirror.provision.providers import Server
from mirror.provision.seed import reference_now

SIZES = (100, 1_000, 10_000)
CASE = "site events with Billig data"
OURS = "ours: serialize_events + to_json + dumps (prefetch)"
NAIVE = "naive per-event lazy loading"
SEED = 1
DATABASE = "bench_prefetch"
# A fixed reference day: the seed and in_sale_period then give the same JSON every run.
NOW = reference_now(datetime(2025, 1, 15))


def run(server: Server, settings: Settings) -> list[Result]:
    sizes = settings.sizes(SIZES)
    server.drop_database(DATABASE)
    # Twice the events measured: the site shows only the visible ones (a few are hidden).
    events = 2 * max(sizes)
    url = build_template(server, events=events, seed=SEED, now=NOW, name=DATABASE).sqlalchemy()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-prefetch-") as tmp:
            for size in sizes:
                results += _measure_size(url, Path(tmp) / f"site-{size}.sqlite3", size, settings)
    finally:
        server.drop_database(DATABASE)
    return results


class _SiteCounter:
    """Statements the SQLite site engine sends (its cursors are not psycopg2's)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._sent)

    def _sent(self, *_: Any) -> None:
        self.count += 1


def _visible_events(billig_url: URL, size: int) -> list[int]:
    """The first ``size`` Billig events the site shows (hidden ones serialize as no Billig),
    read outside the counted engine."""
    query = "SELECT event FROM billig.event_lim_web WHERE NOT hidden ORDER BY event LIMIT :n"
    engine = create_engine(billig_url)
    try:
        with engine.connect() as conn:
            ids = list(conn.scalars(text(query), {"n": size}))
    finally:
        engine.dispose()
    if len(ids) < size:
        raise RuntimeError(f"the mirror shows {len(ids)} Billig events, {size} needed")
    return ids


def _site_database(path: Path, billig_ids: list[int]) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    create_site_schema(engine)
    rows = [
        {
            "id": i + 1,
            "title": f"Arrangement {i + 1}",
            "start_dt": NOW + timedelta(days=i % 90, hours=19),
            "ticket_type": TICKET_TYPE_BILLIG,
            "billig_id": billig_id,
        }
        for i, billig_id in enumerate(billig_ids)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Event), rows)
    return engine


@contextlib.contextmanager
def _engines(billig_url: URL, site_path: Path, size: int) -> Iterator[tuple[Engine, Engine, Any]]:
    counter = StatementCounter()
    site = _site_database(site_path, _visible_events(billig_url, size))
    billig = create_engine(billig_url, connect_args=counter.connect_args())
    try:
        yield billig, site, counter
    finally:
        billig.dispose()
        site.dispose()


def _measure_size(billig_url: URL, site_path: Path, size: int, settings: Settings) -> list[Result]:
    results: list[Result] = []
    with _engines(billig_url, site_path, size) as (billig, site, counter):
        sessions = session_factory(billig, site, production=True)
        site_counter = _SiteCounter(site)
        expected = _ours(sessions)
        found = json.loads(expected)
        if len(found) != size or sum(1 for e in found if e["billig"]) != size:
            raise RuntimeError(f"prefetch returned {len(found)} events, expected {size}")
        del found  # kept alive, its ~7 objects per event would weigh on every GC timed below
        # The same document both ways, checked at the smallest size (the naive loop is slow).
        if size == SIZES[0] and _naive(sessions) != expected:
            raise RuntimeError("the naive loop and prefetch produced different JSON")

        def reset() -> None:
            counter.reset()
            site_counter.count = 0

        for approach, call in ((OURS, _ours), (NAIVE, _naive)):
            timing: Timing = measure(
                partial(call, sessions),
                settings.repeats,
                budget_s=settings.budget_s,
                # The naive loop at 10,000 events takes seconds: no warm-up for it.
                warmup=approach == OURS or size < max(SIZES),
                setup=reset,
            )
            statements = counter.count + site_counter.count  # of the last sample
            extra: dict[str, object] = {
                "billig_statements": counter.count,
                "site_statements": site_counter.count,
                "json_events": size,
            }
            if approach == OURS:
                extra["phases"] = phases(partial(_ours, sessions))
            results.append(
                Result(
                    benchmark="prefetch",
                    case=CASE,
                    size=size,
                    approach=approach,
                    timing=timing,
                    statements=statements,
                    baseline=approach == OURS,
                    extra=extra,
                )
            )
    return results


def _ours(sessions: sessionmaker[Any], laps: Laps | None = None) -> str:
    with sessions() as session:
        events = _site_events(session)
        if laps:
            laps.lap("site_events")
        out = _text(to_json(serialize_events(session, events, NOW)))
        if laps:
            laps.lap("prefetch_and_serialize")
    if laps:
        laps.lap("session_close")
    return out


def _naive(sessions: sessionmaker[Any]) -> str:
    with sessions() as session:
        zone = rules.billig_zone()
        shapes = [
            EventShape(
                id=e.id,
                title=e.title,
                start_dt=rules.localize(e.start_dt, zone),
                ticket_type=e.ticket_type,
                billig=None if e.billig is None else serialize_billig_event(e.billig, NOW),
            )
            for e in _site_events(session)
        ]
        return _text(to_json(shapes))


def _text(data: list[Any]) -> str:
    # The document as Starlette's JSONResponse writes it.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _site_events(session: Session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.id)).all())
