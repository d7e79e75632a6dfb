"""``bsession`` lookups: unknown session, message only, or message plus counts to refill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.payment_errors import GENERIC_MESSAGE, lookup_payment_error
from examples.fastapi_site.routing import RoutedSession, session_factory
from examples.fastapi_site.serializers import to_json

from .conftest import StatementLog


def keys_by_kind(reader: RoutedSession) -> tuple[list[str], list[str]]:
    errors = reader.scalars(select(orm.BilligPaymentError).order_by(orm.BilligPaymentError.error))
    with_rows, without = [], []
    for error in errors:
        (with_rows if error.price_groups else without).append(error.error)
    return with_rows, without


@pytest.mark.parametrize(
    "bsession", [None, "", "   ", "no-such-session", "f" * 64, "f" * 65, "bad\x00key"]
)
def test_unknown_session_gives_the_generic_message(reader: RoutedSession, bsession: str | None):
    outcome = lookup_payment_error(reader, bsession)
    assert outcome.kind == "unknown"
    assert outcome.message == GENERIC_MESSAGE
    assert outcome.event_id is None and outcome.counts == []


def test_malformed_session_is_unknown_without_a_query(
    reader: RoutedSession, billig_statements: StatementLog
):
    for bsession in ("", "x" * 65, "a\x00b"):
        assert lookup_payment_error(reader, bsession).kind == "unknown"
    assert billig_statements.count == 0


def test_error_without_price_groups_gives_its_message_only(reader: RoutedSession):
    _, without = keys_by_kind(reader)
    assert without
    for key in without:
        outcome = lookup_payment_error(reader, key)
        stored = reader.get(orm.BilligPaymentError, key)
        assert stored is not None
        assert (outcome.kind, outcome.message) == ("message", stored.message)
        assert outcome.event_id is None and outcome.counts == []


def test_error_with_price_groups_gives_counts_for_the_event(
    reader: RoutedSession, billig_statements: StatementLog
):
    with_rows, _ = keys_by_kind(reader)
    assert with_rows
    for key in with_rows:
        stored = reader.get(orm.BilligPaymentError, key)
        assert stored is not None
        billig_statements.clear()
        outcome = lookup_payment_error(reader, key)
        assert billig_statements.count == 2
        assert outcome.kind == "refill" and outcome.message == stored.message
        expected = {row.price_group_id: row.number_of_tickets for row in stored.price_groups}
        assert {c.price_group_id: c.count for c in outcome.counts} == expected
        assert all(c.input_name == f"price_{c.price_group_id}_count" for c in outcome.counts)
        # price group → ticket group → event
        pg = reader.get(orm.BilligPriceGroup, outcome.counts[0].price_group_id)
        assert pg is not None and outcome.event_id == pg.ticket_group.event_id


def test_outcome_never_carries_owner_data(reader: RoutedSession):
    for error in reader.scalars(select(orm.BilligPaymentError)):
        dumped = str(to_json(lookup_payment_error(reader, error.error)))
        for private in (error.owner_email, error.owner_cardno):
            if private:
                assert private not in dumped


@pytest.fixture
def writable(billig_engine: Engine, site_engine: Engine) -> Iterator[RoutedSession]:
    """A mirror session inside a transaction that is rolled back after the test."""
    with billig_engine.connect() as conn:
        outer = conn.begin()
        factory = session_factory(
            conn, site_engine, production=False, join_transaction_mode="create_savepoint"
        )
        with factory() as session:
            yield session
        outer.rollback()


def add_error(session: RoutedSession, key: str, rows: list[tuple[int, int]]) -> None:
    conn = session.connection(bind_arguments={"mapper": orm.BilligPaymentError.__mapper__})
    conn.execute(
        text("INSERT INTO billig.payment_error (error, message) VALUES (:k, 'Feil')"), {"k": key}
    )
    for price_group, number in rows:
        conn.execute(
            text("INSERT INTO billig.payment_error_price_group VALUES (:k, :pg, :n)"),
            {"k": key, "pg": price_group, "n": number},
        )


def test_rows_pointing_at_no_price_group_give_the_message_only(writable: RoutedSession):
    # price_group is not a foreign key in production: it can point at nothing.
    add_error(writable, "dangling", [(9_999_999, 2)])
    outcome = lookup_payment_error(writable, "dangling")
    assert (outcome.kind, outcome.message, outcome.counts) == ("message", "Feil", [])


def test_repeated_rows_for_one_price_group_add_up(writable: RoutedSession):
    pg = writable.scalars(select(orm.BilligPriceGroup).limit(1)).one()
    add_error(writable, "twice", [(pg.id, 1), (pg.id, 2)])
    outcome = lookup_payment_error(writable, "twice")
    assert [(c.price_group_id, c.count) for c in outcome.counts] == [(pg.id, 3)]


def test_rows_spanning_two_events_refill_only_the_first_event(writable: RoutedSession):
    groups = writable.scalars(select(orm.BilligTicketGroup).order_by(orm.BilligTicketGroup.id))
    by_event: dict[int, orm.BilligTicketGroup] = {}
    for group in groups:
        if group.price_groups:
            by_event.setdefault(group.event_id, group)
    first, second = sorted(by_event.values(), key=lambda g: g.price_groups[0].id)[:2]
    pg_first, pg_second = first.price_groups[0].id, second.price_groups[0].id
    add_error(writable, "mixed", [(pg_first, 1), (pg_second, 1)])
    outcome = lookup_payment_error(writable, "mixed")
    assert outcome.event_id == first.event_id
    assert [c.price_group_id for c in outcome.counts] == [pg_first]
