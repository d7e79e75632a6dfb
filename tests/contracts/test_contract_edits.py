"""Contracts as written and as edited by hand: awkward names read back as they were written,
every broken edit is a located error, and a duplicated JSON key (which a plain parse silently
merges) is found wherever it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mirror.catalog.model import Catalog, Column, ForeignKey, Kind, Relation, RelationKey
from mirror.errors import ContractError
from mirror.sources.contract_file import (
    dump_contract,
    dump_json,
    load_contract,
    parse_contract,
    parse_json,
)

EVENT = RelationKey("billig", "event")
GROUP = RelationKey("billig", "ticket_group")
VIEW = RelationKey("billig", "event_lim_web")


def awkward_catalog() -> Catalog:
    """Colons, quotes, backslashes and non-ASCII in names and defaults; every kind of key."""
    return Catalog.of(
        [
            Relation(
                GROUP,
                Kind.TABLE,
                (
                    Column("ticket_group", "integer", False, "nextval('g_seq'::regclass)"),
                    Column("event", "integer", False),
                    Column('we"ird: col', "character varying(140)", True, "'a:b'::text"),
                    Column("back\\slash", "numeric(10,2)", True, "0"),
                ),
                primary_key=("ticket_group",),
                foreign_keys=(ForeignKey(("event",), EVENT, ("event",)),),
                unique=(("event", "ticket_group"), ('we"ird: col',)),
            ),
            Relation(
                EVENT,
                Kind.TABLE,
                (Column("event", "integer", False), Column("navn ÆØÅ", "text", True)),
                primary_key=("event",),
                # A target outside the contract is not checked for its columns.
                foreign_keys=(ForeignKey(("event",), RelationKey("other", "x:y"), ("id",)),),
            ),
            Relation(VIEW, Kind.VIEW, (Column("event", "integer", None),)),
            Relation(RelationKey("billig", "m"), Kind.MATERIALIZED_VIEW, ()),
            Relation(RelationKey("Odd: Schema", "p"), Kind.PARTITIONED_TABLE, ()),
        ],
        ["billig", "Odd: Schema", "empty"],
    )


def _read(path: Path, raw: bytes) -> Catalog:
    return parse_contract(parse_json(path, raw))


def test_a_written_contract_with_awkward_names_reads_back_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "columns.json"
    path.write_text(dump_contract(awkward_catalog()), encoding="utf-8")
    assert load_contract(path) == awkward_catalog()


def test_a_contract_with_lineage_and_empty_usages_reads_with_lineage(tmp_path: Path) -> None:
    doc = json.loads(dump_contract(awkward_catalog()))
    doc["lineage"] = True
    for rel in doc["relations"]:
        for col in rel["columns"]:
            col["lineage"] = {}
    raw = dump_json(doc).encode()
    assert _read(tmp_path / "columns.json", raw).lineage is not None


Edit = Callable[[dict[str, Any]], object]

# Each edit breaks the document somewhere the located reader rejects it.
BROKEN: dict[str, Edit] = {
    "top-not-object": lambda d: d.clear(),
    "unknown-top-key": lambda d: d.update(extra=1),
    "missing-top-key": lambda d: d.pop("schemas"),
    "version-string": lambda d: d.update(format_version="1"),
    "version-bool": lambda d: d.update(format_version=True),
    "version-3": lambda d: d.update(format_version=3),
    "lineage-null": lambda d: d.update(lineage=None),
    "schemas-not-list": lambda d: d.update(schemas="billig"),
    "schema-empty": lambda d: d["schemas"].append(""),
    "schema-number": lambda d: d["schemas"].append(1),
    "relations-object": lambda d: d.update(relations={}),
    "relation-not-object": lambda d: d["relations"].append([]),
    "relation-unknown-key": lambda d: d["relations"][0].update(colour="red"),
    "relation-missing-key": lambda d: d["relations"][0].pop("unique"),
    "relation-name-empty": lambda d: d["relations"][0].update(name=""),
    "relation-schema-number": lambda d: d["relations"][0].update(schema=3),
    "kind-unknown": lambda d: d["relations"][0].update(kind="sequence"),
    "kind-number": lambda d: d["relations"][0].update(kind=1),
    "columns-object": lambda d: d["relations"][0].update(columns={}),
    "column-not-object": lambda d: d["relations"][0]["columns"].append("x"),
    "column-unknown-key": lambda d: d["relations"][0]["columns"][0].update(colour="red"),
    "column-missing-key": lambda d: d["relations"][0]["columns"][0].pop("default"),
    "column-swapped-key": lambda d: d["relations"][0]["columns"][0].update(
        colour=d["relations"][0]["columns"][0].pop("default")
    ),
    "column-lineage": lambda d: d["relations"][0]["columns"][0].update(lineage={}),
    "column-name-empty": lambda d: d["relations"][0]["columns"][0].update(name=""),
    "column-name-list": lambda d: d["relations"][0]["columns"][0].update(name=["x"]),
    "column-type-null": lambda d: d["relations"][0]["columns"][0].update(type=None),
    "column-type-empty": lambda d: d["relations"][0]["columns"][0].update(type=""),
    "table-nullable-unknown": lambda d: d["relations"][0]["columns"][0].update(nullable="unknown"),
    "table-nullable-number": lambda d: d["relations"][0]["columns"][0].update(nullable=0),
    "view-nullable-number": lambda d: d["relations"][2]["columns"][0].update(nullable=1),
    "view-origin-other": lambda d: d["relations"][2]["columns"][0].update(origin="x"),
    "view-origin-partial": lambda d: d["relations"][2]["columns"][0].update(origin={"schema": "s"}),
    "table-origin": lambda d: d["relations"][0]["columns"][0].update(origin="expression"),
    "view-nullable-other": lambda d: d["relations"][2]["columns"][0].update(nullable="unk"),
    "default-number": lambda d: d["relations"][0]["columns"][0].update(default=0),
    "default-object": lambda d: d["relations"][0]["columns"][0].update(default={}),
    "column-twice": lambda d: d["relations"][0]["columns"].append(
        dict(d["relations"][0]["columns"][0])
    ),
    "pk-unknown-column": lambda d: d["relations"][0]["primary_key"].append("nope"),
    "pk-twice": lambda d: d["relations"][0]["primary_key"].append("ticket_group"),
    "pk-not-list": lambda d: d["relations"][0].update(primary_key="event"),
    "fk-not-object": lambda d: d["relations"][0]["foreign_keys"].append(["event"]),
    "fk-unknown-key": lambda d: d["relations"][0]["foreign_keys"][0].update(on_delete="x"),
    "fk-no-columns": lambda d: d["relations"][0]["foreign_keys"][0].update(
        columns=[], target_columns=[]
    ),
    "fk-arity": lambda d: d["relations"][0]["foreign_keys"][0].update(
        target_columns=["event", "x"]
    ),
    "fk-target-column-missing": lambda d: d["relations"][0]["foreign_keys"][0].update(
        target_columns=["nope"]
    ),
    "fk-target-column-empty": lambda d: d["relations"][1]["foreign_keys"][0].update(
        target_columns=[""]
    ),
    "fk-target-not-object": lambda d: d["relations"][0]["foreign_keys"][0].update(
        target="billig.event"
    ),
    "fk-target-unknown-key": lambda d: d["relations"][0]["foreign_keys"][0]["target"].update(x=1),
    "fk-target-name-empty": lambda d: d["relations"][0]["foreign_keys"][0]["target"].update(
        name=""
    ),
    "unique-empty": lambda d: d["relations"][0]["unique"].append([]),
    "unique-unknown-column": lambda d: d["relations"][0]["unique"].append(["nope"]),
    "unique-not-list": lambda d: d["relations"][0].update(unique="event"),
    "relation-twice": lambda d: d["relations"].append(dict(d["relations"][1])),
}


@pytest.mark.parametrize("edit", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_contract_is_a_located_error(tmp_path: Path, edit: Edit) -> None:
    doc = json.loads(dump_contract(awkward_catalog()))
    # The canonical order of relations: billig.event, billig.event_lim_web, billig.m, ...
    doc["relations"].sort(key=lambda r: (r["name"] != "ticket_group", r["name"]))
    edit(doc)
    raw = dump_json(doc).encode()
    path = tmp_path / "columns.json"
    path.write_bytes(raw)
    with pytest.raises(ContractError, match=r"^.*columns\.json:\d+:\d+: "):
        load_contract(path)


def _duplicated(text: str, key: str, occurrence: int = 0) -> str:
    """``text`` with the ``occurrence``-th member ``"key": …`` written twice, the copy first."""
    members = list(re.finditer(rf'^(\s*)"{re.escape(key)}": (.*?),?$', text, re.M))
    member = members[occurrence]
    indent, value = member.group(1), member.group(2)
    copy = f'{indent}"{key}": {value},\n'
    return text[: member.start()] + copy + text[member.start() :].lstrip("\n")


@pytest.mark.parametrize(
    ("key", "occurrence"),
    [
        ("format_version", 0),  # top level
        ("kind", 1),  # a relation
        ("type", 3),  # a column: same structure, only the value kept differs
        ("nullable", 0),
        ("default", 2),
        ("schema", 2),  # a foreign key's target (or a relation)
        ("name", 5),
    ],
)
def test_a_duplicated_key_is_found_though_a_plain_parse_hides_it(
    tmp_path: Path, key: str, occurrence: int
) -> None:
    text = _duplicated(dump_contract(awkward_catalog()), key, occurrence)
    assert json.loads(text)  # still JSON, with the key silently merged
    path = tmp_path / "columns.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError, match=rf"duplicate key {key}$"):
        load_contract(path)


def test_an_escaped_colon_reads_the_same_and_hides_no_duplicate_key(tmp_path: Path) -> None:
    text = dump_contract(awkward_catalog()).replace("'a:b'", "'a\\u003ab'")
    path = tmp_path / "columns.json"
    path.write_text(text, encoding="utf-8")
    assert load_contract(path) == awkward_catalog()
    path.write_text(_duplicated(text, "type", 3), encoding="utf-8")
    with pytest.raises(ContractError, match=r"duplicate key type$"):
        load_contract(path)


def test_a_file_with_a_byte_order_mark_reads_the_same(tmp_path: Path) -> None:
    raw = "\ufeff".encode() + dump_contract(awkward_catalog()).encode()
    assert _read(tmp_path / "columns.json", raw) == awkward_catalog()
