"""The queries contract's logic: statements grouped across sizes, pins read and compared."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.catalog.model import ColumnRef, Usage
from mirror.contracts.queries import Pin, dump_pins, parse_pins, summary
from mirror.contracts.statements import profile, statement, triggers
from mirror.errors import ContractError
from mirror.sources.site import QueryRun

PREFETCH = 'SELECT "billig"."event"."event", "billig"."event"."name" FROM "billig"."event"'
ONE_GROUP = (
    'SELECT "billig.ticket_group"."ticket_group" FROM "billig.ticket_group" '
    'WHERE "billig.ticket_group"."event" = %s LIMIT 21'
)


def in_list(n: int) -> str:
    marks = ", ".join(["%s"] * n)
    return (
        f'SELECT "billig"."price_group"."price" FROM "billig"."price_group" WHERE id IN ({marks})'
    )


def test_a_statement_is_shown_without_its_select_list_and_with_its_relations() -> None:
    found = statement(ONE_GROUP)
    assert found.text.startswith('SELECT … FROM "billig.ticket_group" WHERE')
    assert found.tables == ('"billig.ticket_group"',)
    assert "%s" not in found.text


def test_placeholder_lists_of_any_length_are_one_statement() -> None:
    assert statement(in_list(1)).key == statement(in_list(30)).key
    assert "IN ($1, …)" in statement(in_list(30)).text


def test_a_statement_pglast_cannot_read_is_kept_whole() -> None:
    found = statement("FETCH FORWARD %s FROM cursor not sql at all ((")
    assert found.tables == ()
    assert found.text.startswith("FETCH FORWARD $1")


@given(st.integers(1, 10), st.integers(11, 60), st.integers(0, 4))
def test_one_statement_per_object_is_the_repeat_and_constant_ones_are_not(
    small: int, large: int, constant: int
) -> None:
    runs = [
        QueryRun(n, (PREFETCH,) * constant + (in_list(n),) + (ONE_GROUP,) * n)
        for n in (small, large)
    ]
    found = profile("ShowSerializer", runs)
    assert not found.constant
    assert found.billig == (constant + 1 + small, constant + 1 + large)
    assert [r.counts for r in found.repeats] == [(small, large)]
    assert found.repeats[0].statement.tables == ('"billig.ticket_group"',)


@given(st.integers(1, 10), st.integers(11, 60))
def test_prefetched_serializers_are_constant(small: int, large: int) -> None:
    runs = [QueryRun(n, (PREFETCH, in_list(n))) for n in (small, large)]
    found = profile("ShowSerializer", runs)
    assert found.constant and found.repeats == ()


def test_triggers_name_the_serializer_fields_and_models_reading_the_relation() -> None:
    lineage = {
        ColumnRef("public", "billig.ticket_group", "ticket_group"): Usage(
            models=("Category.id",), fields=("ShowSerializer.categories[].id", "Other.id")
        ),
        ColumnRef("billig", "event", "name"): Usage(fields=("ShowSerializer.title",)),
    }
    found = triggers("ShowSerializer", ['public."billig.ticket_group"'], lineage)
    assert found == ("ShowSerializer.categories (model Category)",)
    assert triggers("ShowSerializer", ["billig.price_group"], lineage) == ()


def test_pins_round_trip_and_summarise() -> None:
    pins = {
        "A": Pin((3, 30), (2, 2), True),
        "B": Pin((3, 30), (4, 31), False),
    }
    assert parse_pins("queries.json", dump_pins(pins)) == pins
    assert summary(pins["A"]) == "constant: 2 statements for 3 → 30 objects"
    assert summary(pins["B"]) == "grows with the objects (N+1): 4 → 31 for 3 → 30 objects"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected an object"),
        ('{"format_version": 2, "serializers": {}}', "$.format_version: expected 1"),
        ('{"format_version": 1, "serializers": {}, "x": 1}', "$.x: unknown key"),
        ('{"format_version": 1, "serializers": []}', "$.serializers: expected an object"),
        (
            '{"format_version": 1, "serializers": {"A": {"constant": 1, "objects": [3],'
            ' "statements": [1]}}}',
            "$.serializers.A.constant: expected true or false",
        ),
        (
            '{"format_version": 1, "serializers": {"A": {"constant": true, "objects": [3],'
            ' "statements": [1.5]}}}',
            "$.serializers.A.statements: expected a list of counts",
        ),
        (
            '{"format_version": 1, "serializers": {"A": {"constant": true, "objects": [3, 30],'
            ' "statements": [1]}}}',
            "$.serializers.A.statements: expected one count per size",
        ),
    ],
)
def test_a_malformed_queries_file_is_a_located_contract_error(text: str, message: str) -> None:
    with pytest.raises(ContractError, match=r"^queries\.json:\d+:\d+: ") as raised:
        parse_pins(Path("queries.json"), text)
    assert message in str(raised.value)
