"""Strings made for the regular expressions of CHECK constraints (the seed's retry for a row a
pattern refuses): generated patterns of the constructs schemas use, each example matching its
pattern, and rows differing where the pattern lets them."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mirror.provision.patterns import regex_example

ATOMS = st.sampled_from(
    ["a", "@", r"\.", r"\d", r"\w", "[a-z]", "[A-Z0-9]", "[^@]", "[^ ]", "[[:digit:]]", "x-y"]
)
REPEATS = st.sampled_from(["", "+", "*", "?", "{3}", "{2,5}", "{1,}"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = [draw(ATOMS) + draw(REPEATS) for _ in range(draw(st.integers(1, 6)))]
    if draw(st.booleans()):
        parts.insert(0, "(" + "|".join(draw(st.lists(ATOMS, min_size=1, max_size=3))) + ")")
    return "^" + "".join(parts) + "$"


@given(patterns(), st.integers(0, 10_000))
def test_an_example_matches_its_pattern(pattern: str, index: int) -> None:
    example = regex_example(pattern, index)
    assert example is not None, pattern
    python = pattern.replace("[[:digit:]]", "[0-9]")
    assert re.search(python, example), (pattern, example)


def test_rows_get_different_strings_where_the_pattern_varies() -> None:
    pattern = r"^[^@]+@[^@]+\.[a-z]+$"
    examples = {regex_example(pattern, i) for i in range(500)}
    assert len(examples) == 500


def test_what_it_cannot_build_is_none() -> None:
    assert regex_example(r"^(\d)\1$") is None  # a back-reference
    assert regex_example("a{5000}") is None  # longer than any column would take
    assert regex_example("[") is None  # not a pattern
