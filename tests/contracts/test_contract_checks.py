"""The contract checks against the seeded mirror, the update workflow, and their failure modes."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, create_model
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from examples.fastapi_site import serializers
from examples.fastapi_site.source import (
    SITE,
    ReferenceSite,
    billig_serializers,
    measure_billig_statements,
    observe_billig_outputs,
    read_only_session,
)
from mirror.contracts.check import check_contracts, update_contracts
from mirror.contracts.kinds import ContractContext
from mirror.contracts.render import render_changes, render_results
from mirror.errors import ContractError
from mirror.provision.mirror import Mirror
from mirror.provision.providers import connect_url
from mirror.provision.schema import load_schema


def _failures(results) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return {r.name: r.problems for r in results if not r.ok}


def test_project_contracts_hold(billig_mirror: Mirror, project_root: Path) -> None:
    """The committed contracts/ match schema.sql, models and serializers."""
    ctx = ContractContext(project_root / "contracts", billig_mirror.url, site=SITE)
    results = check_contracts(ctx)
    assert _failures(results) == {}, render_results(results)
    assert {r.kind for r in results} >= {"columns", "shapes"}


def test_update_then_check_is_clean_and_a_second_update_changes_nothing(
    tmp_path: Path, billig_mirror: Mirror, project_root: Path
) -> None:
    folder = tmp_path / "contracts"
    mine = ["columns", "shapes"]
    first = update_contracts(ContractContext(folder, billig_mirror.url, site=SITE), mine)
    assert {c.status for c in first} == {"added"}
    assert sorted(str(c.path.relative_to(folder)) for c in first) == [
        "columns.json",
        "shapes/BilligEvent.json",
        "shapes/Event.json",
        "shapes/PriceGroup.json",
        "shapes/TicketGroup.json",
    ]
    assert (
        _failures(check_contracts(ContractContext(folder, billig_mirror.url, site=SITE), mine))
        == {}
    )
    again = update_contracts(ContractContext(folder, billig_mirror.url, site=SITE), mine)
    assert {c.status for c in again} == {"unchanged"}
    # Generated text is byte-for-byte what the project commits.
    for change in first:
        committed = project_root / "contracts" / change.path.relative_to(folder)
        assert change.path.read_bytes() == committed.read_bytes()


# --------------------------------------------------------------------------- schema.sql


@pytest.fixture
def mutated_mirror(fresh_database: URL, project_root: Path, tmp_path: Path) -> URL:
    """A database loaded from an edited copy of schema.sql: a retyped and an added column."""
    source = (project_root / "schema" / "billig.sql").read_text()
    edited = source.replace(
        "    price integer NOT NULL,", "    price numeric(10,2) NOT NULL,"
    ).replace("    event_note text,", "    event_note text,\n    event_subtitle text,", 1)
    assert edited.count("numeric(10,2)") == 1 and "event_subtitle" in edited
    path = tmp_path / "billig.sql"
    path.write_text(edited)
    with contextlib.closing(connect_url(fresh_database)) as conn:
        load_schema(conn, path)
    return fresh_database


def test_edited_schema_sql_fails_the_exact_columns_check(
    contracts_copy: Path, mutated_mirror: URL
) -> None:
    results = check_contracts(
        ContractContext(contracts_copy, mutated_mirror, site=SITE), ["columns"]
    )
    assert _failures(results) == {
        "schema.sql in the mirror satisfies columns.json exactly": (
            "[info] column billig.event.event_subtitle (text) is new",
            "[breaking] column billig.price_group.price type changed incompatibly: "
            "integer → numeric(10,2)",
        )
    }


def test_hand_edited_contract_fails_against_the_mirror(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    path = contracts_copy / "columns.json"
    data = json.loads(path.read_text())
    group = next(r for r in data["relations"] if r["name"] == "ticket_group")
    group["columns"] = [c for c in group["columns"] if c["name"] != "num"]
    path.write_text(json.dumps(data, indent=2))
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["columns"]
    )
    failures = _failures(results)
    assert failures["schema.sql in the mirror satisfies columns.json exactly"] == (
        "[info] column billig.ticket_group.num (integer) is new",
    )
    assert failures[
        "every model column is in columns.json with a compatible type and nullability"
    ] == ("[breaking] column billig.ticket_group.num (integer) is missing",)


def test_stale_lineage_is_reported(contracts_copy: Path, billig_mirror: Mirror) -> None:
    path = contracts_copy / "columns.json"
    data = json.loads(path.read_text())
    price_group = next(r for r in data["relations"] if r["name"] == "price_group")
    price = next(c for c in price_group["columns"] if c["name"] == "price")
    price["lineage"]["fields"].remove("BilligEvent.ticket_groups[].price_groups[].price")
    path.write_text(json.dumps(data, indent=2))
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["columns"]
    )
    assert _failures(results) == {
        "lineage in columns.json matches the models, serializers and endpoints": (
            "lineage of billig.price_group.price: "
            "+ field BilligEvent.ticket_groups[].price_groups[].price",
        )
    }


def test_malformed_contract_is_a_located_contract_error(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    path = contracts_copy / "columns.json"
    path.write_text(path.read_text()[:500])
    with pytest.raises(ContractError, match=rf"^{path}:\d+:\d+: invalid JSON"):
        check_contracts(ContractContext(contracts_copy, billig_mirror.url, site=SITE))


# --------------------------------------------------------------------------- shapes


def _price_as_text() -> dict[str, type[BaseModel]]:
    """The serializers after someone changed PriceGroup.price to a string."""
    price = create_model("PriceGroup", __base__=serializers.PriceGroup, price=(str, ...))
    group = create_model(
        "TicketGroup", __base__=serializers.TicketGroup, price_groups=(list[price], ...)
    )  # type: ignore[valid-type]
    event = create_model(
        "BilligEvent", __base__=serializers.BilligEvent, ticket_groups=(list[group], ...)
    )  # type: ignore[valid-type]
    return {**billig_serializers(), "PriceGroup": price, "BilligEvent": event}


def test_changed_serializer_field_fails_the_declared_shape_check(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    site = ReferenceSite(serializers=_price_as_text)
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=site), ["shapes"]
    )
    assert _failures(results) == {
        "declared serializer shapes equal their snapshots": (
            "BilligEvent: ~ ticket_groups[].price_groups[].price: type integer → string",
            "PriceGroup: ~ price: type integer → string",
        )
    }


def test_output_leaking_a_forbidden_key_fails_the_observed_check(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    def leaky(session: Session) -> Mapping[str, list[Any]]:
        outputs = dict(observe_billig_outputs(session))
        outputs["TicketGroup"] = [dict(g, num_sold=1) for g in outputs["TicketGroup"]]
        return outputs

    site = ReferenceSite(observer=leaky)
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=site), ["shapes"]
    )
    assert _failures(results) == {
        "real serializer output on the seeded mirror matches the snapshots": (
            "TicketGroup[0]: Additional properties are not allowed ('num_sold' was unexpected)",
            "TicketGroup[0].num_sold: forbidden key in output (never public)",
        )
    }


def test_observed_output_covers_every_serializer_and_both_billig_cases(
    billig_mirror: Mirror,
) -> None:
    with read_only_session(
        ContractContext(Path("unused"), billig_mirror.url).database_url
    ) as session:
        outputs = observe_billig_outputs(session)
    assert set(outputs) == set(billig_serializers())
    assert all(outputs[name] for name in outputs)
    billig = [e["billig"] for e in outputs["Event"]]
    assert None in billig and any(b is not None for b in billig)


def test_update_prints_what_changed_and_removes_unused_snapshots(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    (contracts_copy / "shapes" / "Retired.json").write_text("{}\n")
    site = ReferenceSite(serializers=_price_as_text)
    ctx = ContractContext(contracts_copy, billig_mirror.url, site=site)
    before = check_contracts(ctx, ["shapes"])
    assert (
        "shapes/Retired.json: unused snapshot (no serializer 'Retired')"
        in (_failures(before)["declared serializer shapes equal their snapshots"])
    )
    changes = update_contracts(ctx, ["shapes"])
    text = render_changes(changes, contracts_copy.parent)
    assert text == (
        "changed   contracts/shapes/BilligEvent.json\n"
        "          ~ ticket_groups[].price_groups[].price: type integer → string\n"
        "unchanged contracts/shapes/Event.json\n"
        "changed   contracts/shapes/PriceGroup.json\n"
        "          ~ price: type integer → string\n"
        "removed   contracts/shapes/Retired.json\n"
        "          removed (no such serializer)\n"
        "unchanged contracts/shapes/TicketGroup.json\n"
        "contracts: 3 file(s) updated\n"
    )  # fmt: skip
    assert not (contracts_copy / "shapes" / "Retired.json").exists()
    # Pinned now, the declared shape holds, but real output still emits integers.
    after = _failures(
        check_contracts(ContractContext(contracts_copy, billig_mirror.url, site=site), ["shapes"])
    )
    assert list(after) == ["real serializer output on the seeded mirror matches the snapshots"]
    assert [re.sub(r"\d+ is", "N is", p) for p in next(iter(after.values()))] == [
        "BilligEvent[0].ticket_groups[0].price_groups[0].price: N is not of type 'string'",
        "PriceGroup[0].price: N is not of type 'string'",
    ]


def test_update_refuses_to_pin_a_forbidden_field(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    class Leaky(BaseModel):
        id: int
        owner_email: str

    before = {p: p.read_bytes() for p in contracts_copy.rglob("*.json")}
    site = ReferenceSite(serializers=lambda: {**billig_serializers(), "Leaky": Leaky})
    with pytest.raises(ContractError, match="refusing to pin a forbidden field: owner_email"):
        update_contracts(ContractContext(contracts_copy, billig_mirror.url, site=site), ["shapes"])
    assert {p: p.read_bytes() for p in contracts_copy.rglob("*.json")} == before


# --------------------------------------------------------------------------- atomicity


def _hand_edited(contracts_copy: Path) -> str:
    """An outdated (but valid) columns.json that an update would rewrite."""
    path = contracts_copy / "columns.json"
    old = path.read_text().replace('"type": "character varying(254)"', '"type": "text"')
    assert old != path.read_text()
    path.write_text(old)
    return old


def test_interrupted_update_leaves_the_old_file_intact(
    contracts_copy: Path, billig_mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _hand_edited(contracts_copy)

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        update_contracts(ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["columns"])
    monkeypatch.undo()
    assert (contracts_copy / "columns.json").read_text() == old
    assert [p.name for p in contracts_copy.iterdir() if p.name.endswith(".tmp")] == []


def test_write_failing_midway_leaves_the_old_file_intact(
    contracts_copy: Path, billig_mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _hand_edited(contracts_copy)
    real_fsync = os.fsync

    def disk_full(fd: int) -> None:
        real_fsync(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ContractError, match=r"cannot write the contract files \(No space left"):
        update_contracts(ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["columns"])
    monkeypatch.undo()
    assert (contracts_copy / "columns.json").read_text() == old
    assert [p.name for p in contracts_copy.iterdir() if p.name.endswith(".tmp")] == []
    # The same update, undisturbed, rewrites it and says what changed.
    changes = update_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["columns"]
    )
    assert changes[0].status == "changed"
    assert changes[0].lines == (
        "[breaking] column billig.payment_error.owner_email type narrowed: "
        "text → character varying(254)",
        "[breaking] column billig.purchase.owner_email type narrowed: "
        "text → character varying(254)",
    )


def test_a_retyped_serializer_field_is_a_shape_difference_never_a_crash(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    """Someone wrote ``price: str`` in PriceGroup: real output can no longer be built."""
    retyped = _price_as_text()["PriceGroup"]

    def observer(session: Session) -> dict[str, list[Any]]:
        outputs = observe_billig_outputs(session)
        for value in outputs["PriceGroup"]:  # as the edited serializer builds each one
            retyped.model_validate(value)
        return outputs

    site = ReferenceSite(
        serializers=lambda: {**billig_serializers(), "PriceGroup": retyped}, observer=observer
    )
    ctx = ContractContext(contracts_copy, billig_mirror.url, site=site)
    failures = _failures(check_contracts(ctx, ["shapes"]))
    assert failures["declared serializer shapes equal their snapshots"] == (
        "PriceGroup: ~ price: type integer → string",
    )
    (observed,) = failures["real serializer output on the seeded mirror matches the snapshots"]
    assert observed.startswith("the serializers: PriceGroup refuses seeded data at price: ")


def test_events_serialized_one_by_one_fail_the_queries_check(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    """The list endpoint's prefetch forgotten: each event serialized on its own loads its Billig
    event, groups and prices itself, and the pinned constant count starts to grow."""

    def one_by_one(session: Session, events: list[Any]) -> list[Any]:
        return [out for event in events for out in serializers.serialize_events(session, [event])]

    def measurer(session: Session, sizes: Any) -> Any:
        return measure_billig_statements(session, sizes, serialize_events=one_by_one)

    site = ReferenceSite(measurer=measurer)
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=site), ["queries"]
    )
    failures = _failures(results)
    assert list(failures) == ["Event: Billig statements as pinned"], render_results(results)
    problems = failures["Event: Billig statements as pinned"]
    assert problems[0].startswith("grows with the number of objects: ")
    assert problems[0].endswith("for 3 → 30 objects (pinned: constant, 3 statements)")
    assert any("SELECT … FROM billig.event_lim_web" in p for p in problems[1:]), problems
