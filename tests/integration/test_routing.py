"""One session, two databases; Billig is read-only through a production-bound session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.engine import URL, Engine

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.errors import ReadOnlyError
from examples.fastapi_site.events import Event
from examples.fastapi_site.routing import create_billig_engine, session_factory, site_url
from examples.fastapi_site.seed import seed_site

from .conftest import StatementLog, scenario_id


@pytest.fixture
def clone_engine(billig_database: URL) -> Iterator[Engine]:
    engine = create_engine(billig_database)
    yield engine
    engine.dispose()


def test_billig_models_go_to_billig_and_site_models_to_site(
    billig_engine: Engine, seeded_site: Engine, billig_statements: StatementLog
):
    site_log = StatementLog()
    event.listen(seeded_site, "before_cursor_execute", site_log)
    try:
        with session_factory(billig_engine, seeded_site)() as session:
            assert session.get(Event, 1) is not None
            assert session.get(orm.BilligEvent, scenario_id("on_sale")) is not None
    finally:
        event.remove(seeded_site, "before_cursor_execute", site_log)
    assert any("event_lim_web" in s for s in billig_statements.statements)
    assert not any("event_lim_web" in s for s in site_log.statements)
    assert any("FROM event" in s for s in site_log.statements)


def test_site_database_defaults_to_a_sqlite_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("BILLIG_SITE_URL", raising=False)
    assert site_url().get_backend_name() == "sqlite"
    assert site_url().database
    monkeypatch.setenv("BILLIG_SITE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert site_url().database == str(tmp_path / "x.db")
    assert site_url("postgresql://u@h/site").get_backend_name() == "postgresql"


def test_flush_of_modified_billig_object_in_production_raises_and_sends_no_dml(
    billig_engine: Engine, seeded_site: Engine, billig_statements: StatementLog
):
    with session_factory(billig_engine, seeded_site, production=True)() as session:
        group = session.scalars(select(orm.BilligTicketGroup).limit(1)).one()
        billig_statements.clear()
        group.num_sold += 1
        with pytest.raises(ReadOnlyError, match=r"billig\.ticket_group .*read-only"):
            session.flush()
        with pytest.raises(ReadOnlyError):
            session.commit()
        assert billig_statements.dml == []
        assert billig_statements.statements == []  # refused before anything was sent
        session.rollback()


def test_production_refuses_new_and_deleted_billig_objects(
    billig_engine: Engine, seeded_site: Engine, billig_statements: StatementLog
):
    with session_factory(billig_engine, seeded_site, production=True)() as session:
        session.add(orm.BilligPurchase(id=999_999, owner_email="x@example.org"))
        with pytest.raises(ReadOnlyError, match=r"billig\.purchase"):
            session.flush()
        session.rollback()
        card = session.scalars(select(orm.BilligTicketCard).limit(1)).one()
        session.delete(card)
        with pytest.raises(ReadOnlyError, match=r"billig\.ticket_card"):
            session.flush()
        session.rollback()
    assert billig_statements.dml == []


def test_production_refuses_orm_bulk_dml_on_billig_models(
    billig_engine: Engine, seeded_site: Engine, billig_statements: StatementLog
):
    factory = session_factory(billig_engine, seeded_site, production=True)
    with (
        factory() as session,
        pytest.raises(ReadOnlyError, match=r"UPDATE on billig\.ticket_group"),
    ):
        session.execute(update(orm.BilligTicketGroup).values(num_sold=0))
    assert billig_statements.dml == []


def test_production_session_still_writes_the_site_database(
    billig_engine: Engine, seeded_site: Engine, billig_statements: StatementLog
):
    with session_factory(billig_engine, seeded_site, production=True)() as session:
        site_event = session.get(Event, 1)
        assert site_event is not None
        site_event.title = "Renamed"
        session.commit()
    with session_factory(billig_engine, seeded_site)() as session:
        renamed = session.get(Event, 1)
        assert renamed is not None and renamed.title == "Renamed"
    assert billig_statements.dml == []


def test_unchanged_billig_object_does_not_block_a_flush(billig_engine: Engine, seeded_site: Engine):
    with session_factory(billig_engine, seeded_site, production=True)() as session:
        group = session.scalars(select(orm.BilligTicketGroup).limit(1)).one()
        group.num_sold = group.num_sold  # set back to what was loaded: no UPDATE to send
        site_event = session.get(Event, 2)
        assert site_event is not None
        site_event.title = "Changed"
        session.flush()
        session.rollback()


def test_mirror_session_writes_billig(clone_engine: Engine, tmp_path: Path):
    site = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    seed_site(site, [scenario_id("on_sale")], seed=1)
    on_sale = scenario_id("on_sale")
    with session_factory(clone_engine, site, production=False)() as session:
        billig_event = session.get(orm.BilligEvent, on_sale)
        assert billig_event is not None and not billig_event.is_sold_out
        for group in billig_event.ticket_groups:
            group.num_sold = group.num
        session.commit()
    with session_factory(clone_engine, site, production=False)() as session:
        billig_event = session.get(orm.BilligEvent, on_sale)
        assert billig_event is not None and billig_event.is_sold_out
    site.dispose()


def test_production_engine_makes_every_transaction_read_only(billig_database: URL):
    engine = create_billig_engine(billig_database, production=True)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW transaction_read_only")) == "on"
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only transaction"):
                conn.execute(text("UPDATE billig.ticket_group SET num_sold = 0"))
    finally:
        engine.dispose()
    mirror_engine = create_billig_engine(billig_database, production=False)
    try:
        with contextlib.closing(mirror_engine.connect()) as conn:
            assert conn.scalar(text("SHOW transaction_read_only")) == "off"
    finally:
        mirror_engine.dispose()
