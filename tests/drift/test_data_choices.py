"""The readers' choices: pinned in the columns contract's lineage, probed by ``drift --data``
with the values as parameters only (pure; the runs against a database are in
``tests/django/test_data_choices.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.catalog.findings import FindingKind
from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Relation, RelationKey, Usage
from mirror.drift.data import plan_probes, probe_statement
from mirror.errors import ContractError
from mirror.sources.contract_file import catalog_to_json, dump_contract
from mirror.sources.contract_reader import FORMAT_VERSION, TYPES_FORMAT_VERSION, parse_contract
from mirror.sources.json_locator import parse_json

KEY = RelationKey("shop", "item")


def _contract(type_: str, choices: tuple[str | int, ...] | None, **usage: object) -> Catalog:
    ref = ColumnRef(*KEY, "state")
    return Catalog.of(
        [Relation(KEY, Kind.TABLE, (Column("state", type_, True),))],
        lineage={ref: Usage(models=("Item.state",), choices=choices, **usage)},  # type: ignore[arg-type]
    )


def _probes(contract: Catalog, live_type: str | None = None) -> list[object]:
    live_col = Column("state", live_type or contract.relations[KEY].columns[0].type, True)
    live = Catalog.of([Relation(KEY, Kind.TABLE, (live_col,))])
    return [p for probes in plan_probes(contract, live).values() for p in probes]


choice_values = st.one_of(
    st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
             unique=True, max_size=6),
    st.lists(st.integers(-(2**40), 2**40), unique=True, max_size=6),
)  # fmt: skip


@given(choice_values, st.sampled_from(["integer", "numeric(10,2)", "text", "character(3)"]))
def test_choices_reach_the_statement_as_parameters_only(
    choices: list[str] | list[int], type_: str
) -> None:
    (probe,) = _probes(_contract(type_, tuple(choices)))
    assert probe.kind is FindingKind.DATA_OUTSIDE_CHOICES  # type: ignore[attr-defined]
    (values,) = probe.params.values()  # type: ignore[attr-defined]
    numeric = type_ in ("integer", "numeric(10,2)") and all(isinstance(v, int) for v in choices)
    # Numbers compare as numbers (1.00 is the choice 1), the rest as PostgreSQL prints it.
    assert values == (list(choices) if numeric else [str(v) for v in choices])
    sql = probe_statement(KEY, Kind.TABLE, [probe], reltuples=10.0)  # type: ignore[list-item]
    assert ("::numeric[]" if numeric else "::text[]") in sql
    assert f"{len(choices)} choice(s)" in probe.what  # type: ignore[attr-defined]
    # The statement is the same whatever the values: they travel as parameters only.
    (other,) = _probes(_contract(type_, (0,) if numeric else ("x",)))
    assert probe_statement(KEY, Kind.TABLE, [other], reltuples=10.0) == sql  # type: ignore[list-item]


def test_the_comparison_follows_the_type_production_has_now() -> None:
    # The contract says integer, production made it text: a numeric comparison would not parse.
    (probe,) = _probes(_contract("integer", (1, 2)), live_type="text")
    assert "::text[]" in probe.condition  # type: ignore[attr-defined]
    assert probe.params == {"choices_0": ["1", "2"]}  # type: ignore[attr-defined]


def test_columns_without_choices_or_unread_or_arrays_are_not_probed() -> None:
    assert _probes(_contract("text", None)) == []
    assert _probes(_contract("text[]", ("a",))) == []
    unread = Catalog.of(
        [Relation(KEY, Kind.TABLE, (Column("state", "text", True),))],
        lineage={ColumnRef(*KEY, "state"): Usage(choices=("a",))},
    )
    assert _probes(unread) == []


@given(choice_values)
def test_choices_round_trip_through_the_contract(choices: list[str] | list[int]) -> None:
    contract = _contract("text", tuple(choices))
    text = dump_contract(contract)
    assert catalog_to_json(contract)["format_version"] == TYPES_FORMAT_VERSION
    back = parse_contract(parse_json(Path("columns.json"), text.encode("utf-8")))
    assert back.lineage == contract.lineage


def test_a_contract_without_choices_keeps_the_first_format() -> None:
    assert catalog_to_json(_contract("text", None))["format_version"] == FORMAT_VERSION


def _document(choices: object, version: int = TYPES_FORMAT_VERSION) -> bytes:
    document = catalog_to_json(_contract("text", ("a",)))
    document["format_version"] = version
    document["relations"][0]["columns"][0]["lineage"]["choices"] = choices
    return json.dumps(document).encode("utf-8")


@pytest.mark.parametrize(
    ("choices", "version", "says"),
    [
        (["a", "a"], TYPES_FORMAT_VERSION, "a value is listed twice"),
        ([True], TYPES_FORMAT_VERSION, "expected a string or an integer, got a boolean"),
        ([1.5], TYPES_FORMAT_VERSION, "expected a string or an integer, got a number"),
        ("a", TYPES_FORMAT_VERSION, "expected an array"),
        (["a"], FORMAT_VERSION, "unknown key 'choices'"),
    ],
)
def test_malformed_choices_in_the_contract_are_located_errors(
    choices: object, version: int, says: str
) -> None:
    with pytest.raises(ContractError, match=r"columns\.json:\d+:\d+: .*" + re.escape(says)):
        parse_contract(parse_json(Path("columns.json"), _document(choices, version)))
