"""The Billig models map the mirror's relations by their real (schema, name) and column names."""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from examples.fastapi_site import billig_models as orm
from mirror.catalog.model import RelationKey

from .conftest import scenario_id


def test_nine_models_name_schema_and_relation_separately():
    keys = [orm.relation_key(m) for m in orm.BILLIG_MODELS]
    assert len(set(keys)) == 9
    assert {k.schema for k in keys} == {"billig"}
    assert all("." not in k.name for k in keys)
    assert RelationKey("billig", "event_lim_web") in keys


def test_events_are_read_through_the_view():
    sql = str(select(orm.BilligEvent).compile(dialect=postgresql.dialect()))
    assert "FROM billig.event_lim_web" in sql
    assert '"billig.event' not in sql


def test_models_map_every_column_of_the_mirror_by_its_real_name(billig_session: Session):
    rows = billig_session.execute(
        text(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'billig'"
        )
    ).all()
    mirror: dict[str, dict[str, bool]] = {}
    for table, column, nullable in rows:
        mirror.setdefault(table, {})[column] = nullable == "YES"
    for model in orm.BILLIG_MODELS:
        key = orm.relation_key(model)
        table = model.__table__
        assert {c.name for c in table.columns} == set(mirror[key.name]), key
        if key.name != "event_lim_web":  # a view's nullability is unknown in the catalog
            for col in table.columns:
                assert col.nullable == mirror[key.name][col.name], (key, col.name)


def test_relations_without_primary_key_keep_none_in_table_metadata():
    assert not orm.BilligEvent.__table__.primary_key.columns
    assert not orm.BilligPaymentErrorPriceGroup.__table__.primary_key.columns
    # ... but the mapper can still identify rows.
    assert [c.name for c in inspect(orm.BilligPaymentErrorPriceGroup).primary_key] == [
        "error",
        "price_group",
    ]


def test_every_model_reads_seeded_rows(billig_session: Session):
    for model in orm.BILLIG_MODELS:
        assert billig_session.scalars(select(model).limit(3)).all(), model.__name__


def test_relationships_follow_the_foreign_keys(billig_session: Session):
    event = billig_session.get(orm.BilligEvent, scenario_id("limits_and_non_netsale"))
    assert event is not None
    assert [g.id for g in event.ticket_groups] == sorted(g.id for g in event.ticket_groups)
    assert len(event.ticket_groups) == 2
    for group in event.ticket_groups:
        assert group.event is event
        assert len(group.price_groups) == 3
        assert all(pg.ticket_group is group for pg in group.price_groups)

    ticket = billig_session.scalars(select(orm.BilligTicket).limit(1)).one()
    assert ticket.price_group.id == ticket.price_group_id
    assert ticket.purchase.id == ticket.purchase_id
    assert ticket in ticket.purchase.tickets


def test_payment_error_rows_reach_their_price_groups(billig_session: Session):
    errors = billig_session.scalars(select(orm.BilligPaymentError)).all()
    with_rows = [e for e in errors if e.price_groups]
    assert with_rows and len(with_rows) < len(errors)  # both kinds are seeded
    for row in with_rows[0].price_groups:
        assert row.payment_error is with_rows[0]
        assert row.price_group is not None and row.price_group.id == row.price_group_id


def test_event_table_and_view_models_read_the_same_event(billig_session: Session):
    event_id = scenario_id("on_sale")
    view = billig_session.get(orm.BilligEvent, event_id)
    table = billig_session.get(orm.BilligEventTable, event_id)
    assert view is not None and table is not None
    assert (view.name, view.sale_from, view.sale_to) == (table.name, table.sale_from, table.sale_to)


def test_reprs_never_show_owner_data_or_secrets(billig_session: Session):
    purchase = billig_session.scalars(
        select(orm.BilligPurchase).where(orm.BilligPurchase.owner_email.is_not(None)).limit(1)
    ).one()
    card = billig_session.scalars(select(orm.BilligTicketCard).limit(1)).one()
    error = billig_session.scalars(select(orm.BilligPaymentError).limit(1)).one()
    assert purchase.owner_email not in repr(purchase)
    assert str(card.card) not in repr(card)
    assert error.error not in repr(error)
