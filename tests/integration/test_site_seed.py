"""The site seed: deterministic site events covering every way to (not) reach Billig."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from examples.fastapi_site.events import (
    TICKET_TYPE_BILLIG,
    TICKET_TYPE_CUSTOM,
    TICKET_TYPE_FREE,
    Event,
)
from examples.fastapi_site.seed import seed_site, site_event_rows
from mirror.errors import UsageError

IDS = list(range(1000, 1060))
NOW = datetime(2024, 6, 15)


def test_same_seed_same_rows_other_seed_other_rows():
    assert site_event_rows(IDS, 1, 200, NOW) == site_event_rows(IDS, 1, 200, NOW)
    assert site_event_rows(IDS, 1, 200, NOW) != site_event_rows(IDS, 2, 200, NOW)


def test_rows_cover_every_kind_of_site_event():
    rows = site_event_rows(IDS, 1, 500, NOW)
    billig = [r for r in rows if r["ticket_type"] == TICKET_TYPE_BILLIG]
    assert {r["ticket_type"] for r in rows} == {TICKET_TYPE_BILLIG, TICKET_TYPE_FREE,
                                                TICKET_TYPE_CUSTOM}  # fmt: skip
    assert any(r["billig_id"] in IDS for r in billig)
    assert any(r["billig_id"] not in IDS for r in billig)  # points at nothing in Billig
    assert any(r["billig_id"] in IDS for r in rows if r["ticket_type"] != TICKET_TYPE_BILLIG)
    assert len({r["billig_id"] for r in billig if r["billig_id"] in IDS}) > 30  # spread out
    assert [r["id"] for r in rows] == list(range(1, 501))


def test_first_site_event_points_at_the_first_billig_event():
    for seed in range(5):
        first = site_event_rows(IDS, seed, 1, NOW)[0]
        assert (first["ticket_type"], first["billig_id"]) == (TICKET_TYPE_BILLIG, IDS[0])


def test_without_billig_ids_every_billig_reference_is_missing():
    rows = site_event_rows([], 1, 20, NOW)
    assert all(r["billig_id"] is None or r["billig_id"] >= 1_000_000 for r in rows)


def test_seed_site_creates_and_fills_the_site_database(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'site.db'}")
    assert seed_site(engine, IDS, seed=1, now=NOW) == 120  # two per Billig event by default
    with Session(engine) as session:
        events = list(session.scalars(select(Event).order_by(Event.id)))
    assert [(e.id, e.title, e.ticket_type, e.billig_id, e.start_dt) for e in events] == [
        (r["id"], r["title"], r["ticket_type"], r["billig_id"], r["start_dt"])
        for r in site_event_rows(IDS, 1, 120, NOW)
    ]
    with pytest.raises(UsageError, match="already has events"):
        seed_site(engine, IDS, seed=1)
    engine.dispose()


def test_negative_count_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError):
        seed_site(create_engine(f"sqlite:///{tmp_path / 's.db'}"), IDS, seed=1, events=-1)
