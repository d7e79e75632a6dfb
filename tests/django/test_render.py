"""Suggestions as Django model changes: field declarations and Meta.db_table."""

from __future__ import annotations

import pytest

from mirror.adapters.django.models import relation_key
from mirror.adapters.django.render import db_table, model_field
from mirror.catalog.model import Column, RelationKey


@pytest.mark.parametrize(
    ("column", "nullable", "expected"),
    [
        (Column("price", "integer", True), True,
         'price = models.IntegerField(db_column="price", null=True)'),
        (Column("price_group_name", "character varying(140)", False), False,
         'name = models.CharField(max_length=140, db_column="price_group_name")'),
        (Column("sale_to", "timestamp without time zone", False), False,
         'sale_to = models.DateTimeField(db_column="sale_to")'),
        (Column("fee", "numeric(8,2)", True), True,
         'fee = models.DecimalField(max_digits=8, decimal_places=2, db_column="fee", null=True)'),
    ],
)  # fmt: skip
def test_model_field_declares_the_column_as_production_has_it(column, nullable, expected):
    attribute = "name" if column.name == "price_group_name" else column.name
    rendered = model_field(
        attribute, column, nullable=nullable, primary_key=False, server_default=False
    )
    assert rendered == expected


def test_a_primary_key_is_declared_as_one():
    rendered = model_field(
        "id", Column("ticket_group", "integer", False), nullable=False, primary_key=True,
        server_default=False,
    )  # fmt: skip
    assert rendered == 'id = models.IntegerField(primary_key=True, db_column="ticket_group")'


def test_table_name_lines_set_meta_db_table(site):
    model = next(m for m in site.models() if m.name == "BilligTicketGroup")
    lines = site.table_name(model, RelationKey("billig", "ticket_group"))
    assert lines == ["""db_table = 'billig"."ticket_group'  # in class Meta"""]


@pytest.mark.parametrize(
    "key",
    [
        RelationKey("billig", "ticket_group"),
        RelationKey("public", "billig.ticket_group"),
        RelationKey("public", "event"),
        RelationKey("Billig", "Event Lim"),
    ],
)
def test_the_suggested_db_table_reaches_the_relation(site, key):
    assert relation_key(db_table(key), site.connection) == key
