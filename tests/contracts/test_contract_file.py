"""The columns contract file: deterministic round trips, located validation, atomic writes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from mirror.catalog.model import (
    Catalog,
    CheckConstraint,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    Usage,
)
from mirror.errors import ContractError
from mirror.files import write_atomic, write_files_atomic
from mirror.sources.contract_file import dump_contract, load_contract, write_contract

EVENT = RelationKey("billig", "event")
GROUP = RelationKey("billig", "ticket_group")
VIEW = RelationKey("billig", "event_lim_web")
ODD = RelationKey("Odd Schema", 'we"ird.Näme')


def sample_catalog(*, lineage: bool = True) -> Catalog:
    relations = [
        Relation(
            GROUP,
            Kind.TABLE,
            (
                Column("ticket_group", "integer", False),
                Column("event", "integer", False),
                Column("is_theater_ticket_group", "boolean", False, "false"),
                Column("ticket_limit", "integer", True),
            ),
            primary_key=("ticket_group",),
            foreign_keys=(ForeignKey(("event",), EVENT, ("event",)),),
            unique=(("event", "ticket_group"),),
        ),
        Relation(
            EVENT,
            Kind.TABLE,
            (
                Column("event", "integer", False),
                Column("event_name", "character varying(140)", False),
            ),
            primary_key=("event",),
        ),
        Relation(
            VIEW, Kind.VIEW, (Column("event", "integer", None), Column("event_name", "text", None))
        ),
        Relation(ODD, Kind.TABLE, (Column("ÆØÅ col", "bigint", True),)),
    ]
    usage = {
        ColumnRef("billig", "event_lim_web", "event_name"): Usage(
            models=("BilligEvent.name",),
            fields=("BilligEvent.name", "Event.billig.name"),
            endpoints=("GET /events",),
            requires_not_null=True,
        ),
        ColumnRef("billig", "ticket_group", "ticket_limit"): Usage(
            fields=("BilligEvent.ticket_groups[].ticket_limit",)
        ),
    }
    return Catalog.of(relations, ["billig", "Odd Schema"], usage if lineage else None)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("lineage", [True, False], ids=["with-lineage", "without-lineage"])
def test_round_trip_keeps_relations_and_lineage(tmp_path: Path, lineage: bool) -> None:
    catalog = sample_catalog(lineage=lineage)
    path = tmp_path / "columns.json"
    write_contract(path, catalog)
    loaded = load_contract(path)
    assert loaded == catalog
    if lineage:
        assert loaded.lineage is not None
        assert dict(loaded.lineage) == {
            ref: usage for ref, usage in (catalog.lineage or {}).items()
        }
        # Columns nobody reads are part of a lineage contract, with empty lineage.
        assert loaded.usage(ColumnRef("billig", "event", "event")) == Usage()
    else:
        assert loaded.lineage is None


def _typed(catalog: Catalog) -> Catalog:
    """``catalog`` with an enum column, a domain column and a CHECK constraint pinned."""
    group = catalog.relations[GROUP]
    columns = (
        Column("ticket_group", "integer", False, base_type="integer"),
        Column("event", "integer", False),
        Column("is_theater_ticket_group", "boolean", False, "false"),
        Column("ticket_limit", "billig.mood", True, labels=("sad", "ok", "happy")),
    )
    checks = (CheckConstraint(("ticket_limit",), "CHECK ((ticket_limit IS NOT NULL))"),)
    typed = Relation(
        GROUP,
        group.kind,
        columns,
        group.primary_key,
        group.foreign_keys,
        group.unique,
        checks,
    )
    return Catalog({**catalog.relations, GROUP: typed}, catalog.schemas, catalog.lineage)


def test_enum_labels_domain_base_types_and_checks_round_trip_in_format_2(
    tmp_path: Path,
) -> None:
    catalog = _typed(sample_catalog())
    path = tmp_path / "columns.json"
    write_contract(path, catalog)
    assert json.loads(path.read_text())["format_version"] == 2
    loaded = load_contract(path)
    assert loaded == catalog
    assert loaded.relations[GROUP].checks == catalog.relations[GROUP].checks
    assert loaded.relations[GROUP].column("ticket_limit") == Column(
        "ticket_limit", "billig.mood", True, labels=("sad", "ok", "happy")
    )


def test_a_contract_pinning_no_enum_domain_or_check_stays_in_format_1() -> None:
    text = dump_contract(sample_catalog())
    assert json.loads(text)["format_version"] == 1
    assert '"labels"' not in text and '"base_type"' not in text and '"checks"' not in text


def test_format_1_refuses_the_keys_of_format_2(tmp_path: Path) -> None:
    text = dump_contract(_typed(sample_catalog())).replace(
        '"format_version": 2', '"format_version": 1'
    )
    message = _error(_write(tmp_path, text))
    assert "$.relations[3].checks: unknown key 'checks'" in message


def test_a_check_on_a_column_the_relation_lacks_is_located(tmp_path: Path) -> None:
    doc = json.loads(dump_contract(_typed(sample_catalog())))
    doc["relations"][3]["checks"][0]["columns"] = ["nope"]
    message = _error(_write(tmp_path, json.dumps(doc, indent=2)))
    assert "$.relations[3].checks[0].columns[0]: no column 'nope' in this relation" in message


def test_dump_is_deterministic_sorted_and_ends_with_a_newline() -> None:
    first = dump_contract(sample_catalog())
    shuffled = Catalog.of(reversed(list(sample_catalog())), ["Odd Schema", "billig"],
                          sample_catalog().lineage)  # fmt: skip
    assert dump_contract(shuffled) == first
    assert first.endswith("}\n") and not first.endswith("\n\n")
    assert (
        first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    names = [(r["schema"], r["name"]) for r in json.loads(first)["relations"]]
    assert names == sorted(names)


def test_dump_keeps_column_order_and_spells_view_nullability_unknown() -> None:
    data = json.loads(dump_contract(sample_catalog()))
    group = next(r for r in data["relations"] if r["name"] == "ticket_group")
    assert [c["name"] for c in group["columns"]] == [
        "ticket_group", "event", "is_theater_ticket_group", "ticket_limit"
    ]  # fmt: skip
    view = next(r for r in data["relations"] if r["name"] == "event_lim_web")
    assert {c["nullable"] for c in view["columns"]} == {"unknown"}


def test_awkward_identifiers_survive_the_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "columns.json"
    write_contract(path, sample_catalog())
    assert "Näme" in path.read_text(encoding="utf-8")  # readable, not \u-escaped
    rel = load_contract(path).get(ODD)
    assert rel is not None and rel.column_names == ("ÆØÅ col",)


def test_hand_written_type_spellings_are_normalized_on_load(tmp_path: Path) -> None:
    data = json.loads(dump_contract(sample_catalog()))
    data["relations"][1]["columns"][1]["type"] = "VARCHAR(140)"
    path = tmp_path / "columns.json"
    path.write_text(json.dumps(data))
    event = load_contract(path).get(EVENT)
    assert event is not None and event.columns[1].type == "character varying(140)"


# --------------------------------------------------------------------------- malformed files


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "columns.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _edited(edit) -> str:  # type: ignore[no-untyped-def]
    data = json.loads(dump_contract(sample_catalog()))
    edit(data)
    return json.dumps(data, indent=2, sort_keys=True)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence - 1]


def _error(path: Path) -> str:
    with pytest.raises(ContractError) as info:
        load_contract(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_truncated_file_names_the_line_where_the_json_ends(tmp_path: Path) -> None:
    text = dump_contract(sample_catalog())
    cut = text[: len(text) // 2]
    message = _error(_write(tmp_path, cut))
    assert re.match(rf"^{re.escape(str(tmp_path))}/columns\.json:\d+:\d+: invalid JSON: ", message)
    line = int(message.split(":")[1])
    assert line >= cut.count("\n")


def test_wrong_type_names_file_line_and_json_path(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["relations"][1]["columns"][0]["nullable"] = "maybe"

    text = _edited(edit)
    message = _error(_write(tmp_path, text))
    line = _line_of(text, '"nullable": "maybe"')
    assert message.startswith(f"{tmp_path}/columns.json:{line}:")
    assert "$.relations[1].columns[0].nullable" in message
    assert 'expected true or false for a table column, got "maybe"' in message


def test_unknown_key_is_rejected_where_it_was_written(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["relations"][2]["colour"] = "red"

    text = _edited(edit)
    message = _error(_write(tmp_path, text))
    assert f"columns.json:{_line_of(text, 'colour')}:" in message
    assert "$.relations[2].colour: unknown key 'colour'" in message


def test_duplicated_relation_points_at_the_second_one(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["relations"].append(data["relations"][1])

    text = _edited(edit)
    message = _error(_write(tmp_path, text))
    assert (
        "$.relations[4].name: relation billig.event appears twice (also at $.relations[1])"
        in message
    )
    relation_names = [
        i for i, line in enumerate(text.splitlines(), 1) if line == '      "name": "event",'
    ]
    assert f"columns.json:{relation_names[-1]}:15:" in message  # the value


def test_duplicated_json_key_is_located(tmp_path: Path) -> None:
    text = '{\n  "format_version": 1,\n  "lineage": false,\n  "lineage": true\n}\n'
    message = _error(_write(tmp_path, text))
    assert message == f"{tmp_path}/columns.json:4:3: $.lineage: duplicate key lineage"


@pytest.mark.parametrize("version", ["3", '"1"', "true", "null"])
def test_wrong_format_version_is_rejected(tmp_path: Path, version: str) -> None:
    text = dump_contract(sample_catalog()).replace(
        '"format_version": 1', f'"format_version": {version}'
    )
    message = _error(_write(tmp_path, text))
    assert f"columns.json:{_line_of(text, 'format_version')}:" in message
    assert (
        f"$.format_version: unsupported format_version {version} (this harness reads 1 and 2)"
        in message
    )


def test_binary_garbage_is_not_utf8(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, b'{"format_version": 1,\n\x89PNG\r\n\x1a\n\xff\xfe'))
    assert message.startswith(f"{tmp_path}/columns.json:2:1: not UTF-8 text")


@pytest.mark.parametrize("text", ["", "  \n\n"], ids=["empty", "blank"])
def test_empty_file_is_an_error(tmp_path: Path, text: str) -> None:
    assert _error(_write(tmp_path, text)) == (
        f"{tmp_path}/columns.json:1:1: empty contract file, expected a JSON object"
    )


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    message = _error(tmp_path / "columns.json")
    assert "contract file missing" in message and "billig contracts update" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(relations={}), "$.relations: expected an array, got an object"),
        (lambda d: d.pop("schemas"), "$: missing key 'schemas'"),
        (lambda d: d["relations"][0].update(kind="sequence"), "$.relations[0].kind: unknown kind"),
        (
            lambda d: d["relations"][2]["columns"][0].update(nullable=1),
            '$.relations[2].columns[0].nullable: expected true, false or "unknown" for a view',
        ),
        (
            lambda d: d["relations"][1]["primary_key"].append("nope"),
            "$.relations[1].primary_key[1]: no column 'nope' in this relation",
        ),
        (
            lambda d: d["relations"][3]["columns"].append(d["relations"][3]["columns"][0]),
            "$.relations[3].columns[4].name: column 'ticket_group' appears twice",
        ),
        (
            lambda d: d["relations"][3]["foreign_keys"][0].update(target_columns=["event", "x"]),
            "$.relations[3].foreign_keys[0].target_columns: 1 column(s) reference 2 target",
        ),
        (
            lambda d: d["relations"][3]["foreign_keys"][0].update(target_columns=["nope"]),
            "$.relations[3].foreign_keys[0].target_columns[0]: no column 'nope' in billig.event",
        ),
        (
            lambda d: d["relations"][0]["columns"][0]["lineage"].update(models="X.y"),
            "$.relations[0].columns[0].lineage.models: expected an array",
        ),
        (
            lambda d: d.update(lineage=False),
            "$.relations[0].columns[0].lineage: lineage given but the contract has lineage false",
        ),
        (lambda d: d["relations"][1].update(name=""), "$.relations[1].name: expected a non-empty"),
    ],
    ids=[
        "relations-not-array", "missing-key", "unknown-kind", "view-nullability", "pk-column",
        "duplicate-column", "fk-arity", "fk-target-column", "lineage-type", "lineage-flag",
        "empty-name",
    ],
)  # fmt: skip
def test_hand_edit_errors_are_located(tmp_path: Path, edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = _edited(edit)
    message = _error(_write(tmp_path, text))
    assert re.match(rf"^{re.escape(str(tmp_path))}/columns\.json:\d+:\d+: ", message), message
    assert expected in message


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    assert _error(_write(tmp_path, "[1, 2]")) == (
        f"{tmp_path}/columns.json:1:1: $: expected a JSON object, got an array"
    )


# --------------------------------------------------------------------------- atomic writes


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_replaces_the_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "columns.json"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert _leftovers(tmp_path) == []
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_failure_after_writing_half_of_the_new_file_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "columns.json"
    old = dump_contract(sample_catalog(lineage=False))
    path.write_text(old)
    new = dump_contract(sample_catalog())
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half of what it is given, then the disk is full."""

        def __init__(self, fh) -> None:  # type: ignore[no-untyped-def]
            self.fh = fh

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        write_contract(path, sample_catalog())
    assert path.read_text() == old != new
    assert _leftovers(tmp_path) == []


def test_interrupt_before_the_rename_keeps_every_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text("old a\n")
    second.write_text("old b\n")
    real_replace = os.replace
    calls: list[str] = []

    def interrupted(src: str, dst: str) -> None:
        calls.append(dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files_atomic({first: "new a\n", second: "new b\n"})
    monkeypatch.setattr(os, "replace", real_replace)
    assert calls  # the interruption hit the rename, after both temporary files were written
    assert (first.read_text(), second.read_text()) == ("old a\n", "old b\n")
    assert _leftovers(tmp_path) == []
