"""What a drift run reads and checks, decided without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Catalog, Column, Kind, Relation, RelationKey
from mirror.drift.check import (
    check_drift,
    default_dsn,
    rename_lookup_schemas,
    resolve_contract,
    restrict_to_schemas,
    scope_of,
)
from mirror.errors import ContractError, UsageError

from .production import ROOT

EVENT = RelationKey("billig", "event")
KORT = RelationKey("public", "kort")
ID = Column("id", "integer", False)

CONTRACT = Catalog.of([Relation(EVENT, Kind.TABLE, (ID,)), Relation(KORT, Kind.TABLE, (ID,))])


def test_scope_is_the_contracted_relations_and_their_quoting_look_alikes() -> None:
    dotted = Catalog.of([Relation(RelationKey("public", "billig.ticket"), Kind.TABLE, (ID,))])
    assert scope_of(CONTRACT) == [
        EVENT,
        KORT,
        RelationKey("public", "billig.event"),
        RelationKey("public", "public.kort"),
    ]
    # A contract expecting a dotted single identifier also reads the schema-qualified relation.
    assert RelationKey("billig", "ticket") in scope_of(dotted)


def test_schemas_limit_the_contract_and_must_be_covered_by_it() -> None:
    limited = restrict_to_schemas(CONTRACT, ["public"])
    assert list(limited.relations) == [KORT]
    assert limited.schemas == frozenset({"public"})
    with pytest.raises(UsageError, match=r"covers no schema 'kasse' \(it covers: billig, public"):
        restrict_to_schemas(CONTRACT, ["kasse"])


def _missing(schema: str) -> Finding:
    return Finding(
        FindingKind.RELATION_MISSING, Severity.BREAKING, schema, "x", None, "table", None, "gone"
    )


def test_only_missing_relations_of_existing_schemas_are_looked_for_as_renames() -> None:
    actual = Catalog.of([], schemas=["billig"])
    findings = [_missing("billig"), _missing("gone"), _missing("billig")]
    assert rename_lookup_schemas(findings, actual) == ["billig"]
    assert rename_lookup_schemas([], actual) == []


def test_contract_resolves_from_a_folder_or_a_file(tmp_path: Path) -> None:
    assert resolve_contract(ROOT / "contracts") == ROOT / "contracts" / "columns.json"
    assert resolve_contract(ROOT / "contracts" / "columns.json").name == "columns.json"
    with pytest.raises(ContractError, match="contract file not found"):
        resolve_contract(tmp_path)


def test_dsn_comes_from_the_environment_when_not_given() -> None:
    assert default_dsn({"BILLIG_PROD_DSN": " postgresql://ro@db/billig "}) == (
        "postgresql://ro@db/billig"
    )
    assert default_dsn({"BILLIG_PROD_DSN": "  "}) is None
    assert default_dsn({}) is None


def test_no_dsn_is_a_usage_error_before_anything_is_read() -> None:
    with pytest.raises(UsageError, match="BILLIG_PROD_DSN"):
        check_drift(None, contract=ROOT / "contracts")


def test_a_contract_pinning_nothing_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "columns.json"
    empty.write_text('{"format_version": 1, "lineage": false, "relations": [], "schemas": []}\n')
    with pytest.raises(ContractError, match="pins no relation"):
        check_drift("postgresql://ro@127.0.0.1:1/x", contract=empty)
