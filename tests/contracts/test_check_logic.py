"""Pure parts of the checks: residual catalog differences, lineage changes, summaries, the
registry of contract kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.catalog.model import Catalog, Column, ColumnRef, Kind, Relation, RelationKey, Usage
from mirror.contracts.check import check_contracts, update_contracts
from mirror.contracts.columns import lineage_changes, residual_differences
from mirror.contracts.kinds import KINDS, CheckResult, ContractContext, FileChange, snapshot_kinds
from mirror.contracts.render import render_changes, render_results, render_results_markdown
from mirror.errors import UsageError

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


PROBE_KIND = '''
from pathlib import Path

from mirror.contracts.kinds import CheckResult


class ProbeKind:
    """A contract kind of one file, ``probe.txt``, that must say ``pinned``."""

    name = "probe"

    def generate(self, ctx):
        return {Path("probe.txt"): "pinned\\n"}

    def owned(self, ctx):
        return [Path("probe.txt")] if (ctx.contracts_dir / "probe.txt").exists() else []

    def check(self, ctx):
        path = ctx.contracts_dir / "probe.txt"
        text = path.read_text() if path.exists() else ""
        problems = () if text == "pinned\\n" else ("not pinned",)
        return [CheckResult(self.name, "probe.txt is pinned", problems)]

    def describe(self, path, old, new):
        return ["new file"] if old is None else ["changed"]
'''


def test_a_new_contract_kind_plugs_in_with_one_row_of_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"probe_kind_{tmp_path.name}"
    (tmp_path / f"{module}.py").write_text(PROBE_KIND, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(KINDS, "probe", f"{module}:ProbeKind")
    assert [kind.name for kind in snapshot_kinds()][-1] == "probe"
    ctx = ContractContext(tmp_path / "contracts", database=None)
    assert [r.ok for r in check_contracts(ctx, ["probe"])] == [False]
    changes = update_contracts(ctx, ["probe"])
    assert [(c.path.name, c.status, c.lines) for c in changes] == [
        ("probe.txt", "added", ("new file",))
    ]
    assert [r.ok for r in check_contracts(ctx, ["probe"])] == [True]


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown snapshot kind 'querys'.*columns"):
        snapshot_kinds(["querys"])
