"""Pure parts of the checks: residual catalog differences, lineage changes, summaries."""

from __future__ import annotations

from pathlib import Path

from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Relation, RelationKey, Usage
from mirror.contracts.check import (
    CheckResult,
    FileChange,
    lineage_changes,
    render_changes,
    render_results,
    render_results_markdown,
    residual_differences,
)

KEY = RelationKey("billig", "purchase")


def _catalog(unique: tuple[tuple[str, ...], ...]) -> Catalog:
    columns = (Column("purchase", "integer", False), Column("owner_email", "text", True))
    return Catalog.of([Relation(KEY, Kind.TABLE, columns, ("purchase",), unique=unique)])


def test_unique_constraints_the_comparator_does_not_judge_still_differ() -> None:
    assert residual_differences(_catalog((("owner_email",),)), _catalog(())) == [
        "$['relations'][0]['unique'][0]: iterable item removed"
    ]
    assert residual_differences(_catalog(()), _catalog(())) == []


def test_lineage_changes_list_readers_per_column() -> None:
    ref = ColumnRef("billig", "purchase", "owner_email")
    before = {ref: Usage(models=("BilligPurchase.owner_email",))}
    after = {
        ref: Usage(fields=("Ticket.owner",), endpoints=("GET /tickets",), requires_not_null=True)
    }
    assert lineage_changes(before, after) == [
        "lineage of billig.purchase.owner_email: - model BilligPurchase.owner_email; "
        "+ field Ticket.owner; + endpoint GET /tickets; "
        "requires_not_null False → True"
    ]
    assert lineage_changes(after, after) == []


def test_summary_shows_each_check_and_its_problems() -> None:
    results = [
        CheckResult("columns", "schema.sql matches", detail="9 relations"),
        CheckResult("shapes", "declared shapes", ("PriceGroup: ~ price: type integer → string",)),
    ]
    assert render_results(results) == (
        "ok    columns  schema.sql matches (9 relations)\n"
        "FAIL  shapes   declared shapes\n"
        "        PriceGroup: ~ price: type integer → string\n"
        "contracts: 2 checks, 1 of 2 failed\n"
    )
    markdown = render_results_markdown(results)
    assert "| ❌ | shapes | declared shapes |  |" in markdown
    assert "```\nPriceGroup: ~ price: type integer → string\n```" in markdown


def test_change_summary_is_relative_to_the_project() -> None:
    root = Path("/project")
    changes = [
        FileChange(root / "contracts" / "columns.json", "unchanged"),
        FileChange(root / "contracts" / "shapes" / "Event.json", "changed", ("- title (string)",)),
    ]
    assert render_changes(changes, root) == (
        "unchanged contracts/columns.json\n"
        "changed   contracts/shapes/Event.json\n"
        "          - title (string)\n"
        "contracts: 1 file(s) updated\n"
    )
