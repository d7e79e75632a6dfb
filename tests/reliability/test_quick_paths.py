"""Properties of the quick paths that keep large drift checks fast: each gives exactly what the
general code gives, over random catalogs.

- the contract reader's quick path reads every written contract as the located reader does;
- ``make_columns`` builds the same values as ``Column(...)``;
- the comparator's at-a-glance checks for unchanged columns and foreign keys change no finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.catalog import compare
from mirror.catalog.compare import compare_catalogs
from mirror.catalog.model import Catalog, Column, Relation, make_columns
from mirror.sources.contract_file import _plain_contract, dump_contract, parse_contract, parse_json

from .strategies import MUTATIONS, catalogs, identifiers, mutations

PURE = settings(max_examples=150, deadline=None)


def _as_contract(catalog: Catalog) -> Catalog:
    """What a contract file keeps of ``catalog``: no privileges, no lineage."""
    return Catalog.of(
        (
            Relation(
                rel.key,
                rel.kind,
                tuple(Column(c.name, c.type, c.nullable, c.default) for c in rel.columns),
                rel.primary_key,
                rel.foreign_keys,
                rel.unique,
            )
            for rel in catalog
        ),
        catalog.schemas,
    )


@PURE
@given(catalogs())
def test_the_quick_contract_path_reads_what_the_located_reader_reads(catalog: Catalog) -> None:
    contract = _as_contract(catalog)
    raw = dump_contract(contract).encode()
    located = parse_contract(parse_json(Path("columns.json"), raw))
    assert located == contract
    quick = _plain_contract(raw)
    if b"\\u" in raw:  # control characters are written escaped: the located path reads those
        assert quick is None or quick == located
    else:
        assert quick == located


@PURE
@given(
    st.lists(
        st.tuples(
            identifiers(),
            identifiers(),
            st.sampled_from([True, False, None]),
            st.one_of(st.none(), identifiers()),
            st.sampled_from([True, False, None]),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_make_columns_builds_what_the_constructor_builds(
    fields: list[tuple[str, str, bool | None, str | None, bool | None]], with_selectable: bool
) -> None:
    names, types, nullables, defaults, selectables = ([f[i] for f in fields] for i in range(5))
    if with_selectable:
        built = make_columns(names, types, nullables, defaults, selectables)
        expected = tuple(map(Column, names, types, nullables, defaults, selectables))
    else:
        built = make_columns(names, types, nullables, defaults)
        expected = tuple(map(Column, names, types, nullables, defaults))
    assert built == expected
    assert [hash(c) for c in built] == [hash(c) for c in expected]


def test_make_columns_refuses_sequences_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="equal length"):
        make_columns(["a", "b"], ["integer"], [True, True], [None, None])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_comparators_glance_at_unchanged_relations_changes_no_finding(
    data: st.DataObject,
) -> None:
    expected = data.draw(catalogs())
    name = data.draw(st.sampled_from(MUTATIONS))
    mutation = data.draw(mutations(expected, name))
    actual = expected if mutation is None else mutation.catalog
    quick = compare_catalogs(expected, actual)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compare, "_same_columns", lambda exp, act: False)
        patch.setattr(compare, "_same_foreign_keys", lambda ctx, exp, act: False)
        walked = compare_catalogs(expected, actual)
    assert quick == walked
