"""The JSON locator: strict parsing with located errors, positions of paths, one path spelling."""

from __future__ import annotations

import pytest

from mirror.errors import ContractError, PolicyError
from mirror.sources.json_locator import dump_json, json_path, parse_json

TEXT = '{\n  "a": [1, {"b c": true}],\n  "d": "x"\n}\n'


@pytest.mark.parametrize(
    ("parts", "root", "expected"),
    [
        ((), "$", "$"),
        (("relations", 2, "name"), "$", "$.relations[2].name"),
        (("a b", 'q"', "x-y", "200"), "$", '$["a b"]["q\\""].x-y.200'),
        (("Ære",), "$", '$["Ære"]'),
        (("relations", 2, "name"), "", "relations[2].name"),
        ((0, "price"), "", "[0].price"),
    ],
)
def test_json_path_spells_keys_plainly_or_as_json_strings(parts, root, expected) -> None:  # type: ignore[no-untyped-def]
    assert json_path(parts, root=root) == expected


def test_values_are_located_at_the_value_and_keys_at_the_key() -> None:
    doc = parse_json("f.json", TEXT)
    assert doc.locate(("a",)) == (2, 8)
    assert doc.locate(("a",), at_key=True) == (2, 3)
    assert doc.locate(("a", 1, "b c")) == (2, 20)
    assert doc.locate(("d",)) == (3, 8)


def test_a_missing_path_is_located_at_its_nearest_existing_ancestor() -> None:
    doc = parse_json("f.json", TEXT)
    assert doc.locate(("a", 1, "missing", 3)) == doc.locate(("a", 1)) == (2, 12)
    assert doc.locate(("nowhere",)) == (1, 1)


def test_errors_name_the_file_position_and_path_in_the_documents_error_type() -> None:
    doc = parse_json("p.json", TEXT, what="policy", error=PolicyError)
    error = doc.error(("a", 1, "b c"), "expected a string")
    assert isinstance(error, PolicyError)
    assert str(error) == 'p.json:2:20: $.a[1]["b c"]: expected a string'


def test_a_nested_duplicate_key_is_named_with_its_path() -> None:
    text = '{"a": [{"x": 1,\n "x": 2}], "b": 1}'
    with pytest.raises(ContractError) as info:
        parse_json("f.json", text)
    assert str(info.value) == "f.json:2:2: $.a[0].x: duplicate key x"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a":\n "\xff"}', "f.json:2:3: not UTF-8 text (byte 8); is this a contract file?"),
        (b"  \n", "f.json:1:1: empty contract file, expected a JSON object"),
        (b'{"a": NaN}', "f.json: invalid JSON: NaN is not JSON"),
        (b'{"a": ' + b"9" * 5_001 + b"}", "f.json: invalid JSON: Exceeds the limit"),
        (b"[" * 100_000, "f.json: invalid JSON: nested too deeply"),
        (b'{"a" 1}', "f.json:1:6: invalid JSON: Expecting ':' delimiter"),
    ],
    ids=["not-utf8", "blank", "nan", "long-number", "deep", "syntax"],
)
def test_what_json_loads_refuses_or_would_accept_silently_is_a_located_error(
    raw: bytes, message: str
) -> None:
    with pytest.raises(ContractError) as info:
        parse_json("f.json", raw)
    assert str(info.value).startswith(message)


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_json("f.json", "\ufeff" + TEXT).data == parse_json("f.json", TEXT).data


def test_dump_json_sorts_keys_indents_two_spaces_keeps_unicode_and_ends_with_a_newline() -> None:
    assert dump_json({"b": "Æ", "a": [1]}) == '{\n  "a": [\n    1\n  ],\n  "b": "Æ"\n}\n'
