"""A user's tests for the wheel test (copied as test_events.py): the plugin's fixtures."""

from __future__ import annotations

from mysite import WebEvent
from sqlalchemy import func, select, text

EVENTS = 12  # [tool.billig] events of the project


def test_the_mirror_is_seeded_as_the_project_configures(billig_config, billig_session):
    assert billig_config.events == EVENTS
    assert billig_session.scalar(text("SELECT count(*) FROM billig.event")) == EVENTS


def test_the_model_reads_the_seeded_view(billig_config, billig_session):
    events = billig_session.scalars(select(WebEvent)).all()
    assert len(events) == billig_config.events
    assert billig_session.scalar(text("SELECT count(*) FROM billig.event")) == len(events)
    assert all(event.name and event.sale_to for event in events)


def test_a_write_inside_a_test(billig_session):
    billig_session.execute(text("DELETE FROM billig.ticket"))
    billig_session.commit()  # a savepoint release: the test's transaction is rolled back
    assert billig_session.scalar(text("SELECT count(*) FROM billig.ticket")) == 0


def test_does_not_leak_into_the_next(billig_session):
    assert billig_session.scalar(text("SELECT count(*) FROM billig.ticket")) > 0
    assert billig_session.scalar(select(func.count()).select_from(WebEvent)) == EVENTS
