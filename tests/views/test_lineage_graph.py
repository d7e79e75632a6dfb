"""Impact drawn as a graph: ``billig lineage`` and the broken paths in the Markdown reports.

Every diagram drawn here is parsed by mermaid's own parser (the npm package under node).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.lineage import column_lineages, lineage_graph
from mirror.catalog.model import (
    Catalog,
    Column,
    ColumnRef,
    Kind,
    Origin,
    Relation,
    RelationKey,
    Usage,
)
from mirror.contracts.kinds import CheckResult
from mirror.contracts.render import render_results_markdown
from mirror.report.markdown import render as markdown
from mirror.report.mermaid import MAX_COLUMNS, flowchart
from mirror.report.model import RenderOptions, Report
from mirror.sources.contract_file import write_contract

BASE = ColumnRef("shop", "item", "title")
VIEW = ColumnRef("shop", "item_web", "title")


def _catalog(extra_columns: int = 0) -> Catalog:
    item = Relation(
        RelationKey("shop", "item"),
        Kind.TABLE,
        (Column("id", "integer", False), Column("title", "text", False)),
    )
    web = Relation(
        RelationKey("shop", "item_web"),
        Kind.VIEW,
        (
            Column("title", "text", False, origin=Origin(BASE)),
            Column("price", "numeric", None, origin=Origin()),
            *(Column(f"c{i}", "text", True, origin=Origin()) for i in range(extra_columns)),
        ),
    )
    lineage = {
        VIEW: Usage(
            models=("Item.title",),
            fields=("ItemOut.title", "Basket.items[].title"),
            endpoints=("GET /items", "GET /basket/{id}"),
            requires_not_null=True,
        ),
        ColumnRef("shop", "item_web", "price"): Usage(fields=("ItemOut.price",)),
        ColumnRef("shop", "item", "id"): Usage(models=("ItemRow.id",)),
        **{
            ColumnRef("shop", "item_web", f"c{i}"): Usage(models=(f"Item.c{i}",))
            for i in range(extra_columns)
        },
    }
    return Catalog.of([item, web], lineage=lineage)


def _loosened(ref: ColumnRef, severity: Severity = Severity.BREAKING) -> Finding:
    return Finding(
        FindingKind.NULLABILITY_CHANGED,
        severity,
        ref.schema,
        ref.relation,
        ref.column,
        "NOT NULL",
        "NULL",
        f"column {ref} may now be NULL",
        change="loosened",
    )


def _mermaid_blocks(text: str) -> list[str]:
    blocks = text.split("```mermaid\n")[1:]
    return [block.split("```", 1)[0] for block in blocks]


# --------------------------------------------------------------------------- the graph


def test_a_view_column_is_drawn_from_its_base_column_down_to_the_endpoints() -> None:
    graph = lineage_graph(column_lineages(_catalog(), [VIEW]))
    edges = {(a.label, b.label) for a, b in graph.edges}
    assert ("shop.item.title", "shop.item_web.title") in edges
    assert ("shop.item_web.title", "Item.title") in edges
    assert ("Item.title", "Basket.items[].title") in edges
    assert ("ItemOut.title", "GET /basket/{id}") in edges
    assert not any(b.label == "Item.title" and a.label != str(VIEW) for a, b in graph.edges)


def test_a_column_without_model_goes_straight_to_its_serializer_fields() -> None:
    price = ColumnRef("shop", "item_web", "price")
    graph = lineage_graph(column_lineages(_catalog(), [price]))
    assert [(a.label, b.label) for a, b in graph.edges] == [(str(price), "ItemOut.price")]


def test_flowcharts_parse_with_mermaids_parser(mermaid_parse: Any) -> None:
    catalog = _catalog(extra_columns=3)
    whole = flowchart(lineage_graph(column_lineages(catalog)), broken=[VIEW])
    bounded = flowchart(lineage_graph(column_lineages(catalog), max_columns=2))
    assert "more columns" in bounded.replace("#8230; ", "")
    assert mermaid_parse([whole, bounded]) == [None, None]


NAMES = st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s)


CATALOG_NAMES = st.lists(st.tuples(NAMES, NAMES, NAMES, NAMES), min_size=1, max_size=4)


# Each example is a batch of catalogs parsed in one run of node (starting mermaid takes seconds).
@settings(max_examples=4, deadline=None)
@given(batch=st.lists(CATALOG_NAMES, min_size=10, max_size=10))
def test_any_names_make_a_valid_diagram(mermaid_parse: Any, batch: list[Any]) -> None:
    # Production's names and the site's reader names are not ours: quotes, brackets, backticks,
    # markup and line ends must neither break the diagram nor end the code fence.
    sources = []
    for names in batch:
        relations, lineage = [], {}
        for i, (schema, column, model, endpoint) in enumerate(names):
            key = RelationKey(schema, f"r{i}")
            relations.append(Relation(key, Kind.TABLE, (Column(column, "text", True),)))
            lineage[ColumnRef(*key, column)] = Usage(models=(model,), endpoints=(endpoint,))
        catalog = Catalog.of(relations, lineage=lineage)
        sources.append(flowchart(lineage_graph(column_lineages(catalog))))
    assert not any("```" in source for source in sources)
    assert mermaid_parse(sources) == [None] * len(sources)


# --------------------------------------------------------------------------- reports


def test_the_markdown_report_of_a_breaking_drift_draws_the_broken_paths(
    mermaid_parse: Any,
) -> None:
    catalog = _catalog()
    report = Report.build([_loosened(VIEW)], expected=catalog)
    (block,) = _mermaid_blocks(markdown(report, RenderOptions()))
    assert "### Broken paths" in markdown(report, RenderOptions())
    assert "shop.item_web.title" in block and "GET /items" in block
    assert "ItemRow.id" not in block  # only the broken path
    assert "class n1 broken" in block
    assert mermaid_parse([block]) == [None]


def test_findings_below_the_failing_severity_draw_nothing() -> None:
    report = Report.build([_loosened(VIEW, Severity.WARNING)], expected=_catalog())
    assert "```mermaid" not in markdown(report, RenderOptions())


def test_a_large_drift_draws_a_bounded_graph(mermaid_parse: Any) -> None:
    catalog = _catalog(extra_columns=100)
    missing = Finding(
        FindingKind.RELATION_MISSING,
        Severity.BREAKING,
        "shop",
        "item_web",
        None,
        "view",
        None,
        "relation shop.item_web is missing",
    )
    (block,) = _mermaid_blocks(markdown(Report.build([missing], expected=catalog), RenderOptions()))
    assert block.count("shop.item_web.") == MAX_COLUMNS
    assert "more columns" in block.replace("#8230; ", "")
    assert mermaid_parse([block]) == [None]


# --------------------------------------------------------------------------- the command


def _billig(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mirror.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_billig_lineage_prints_the_tree_of_a_column(tmp_path: Path) -> None:
    write_contract(tmp_path / "columns.json", _catalog())
    done = _billig("lineage", "--contract", str(tmp_path), "item_web.title", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "shop.item_web.title  (not null; via shop.item.title)",
        "└── model fields: Item.title",
        "    └── serializer fields: Basket.items[].title, ItemOut.title",
        "        └── endpoints: GET /basket/{id}, GET /items",
    ]


def test_billig_lineage_draws_mermaid(tmp_path: Path, mermaid_parse: Any) -> None:
    write_contract(tmp_path / "columns.json", _catalog())
    done = _billig("lineage", "--contract", str(tmp_path), "--format", "mermaid", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart LR\n")
    assert "ItemRow.id" in done.stdout  # every read column without names
    assert mermaid_parse([done.stdout]) == [None]


def test_billig_lineage_of_an_unknown_column_is_a_usage_error(tmp_path: Path) -> None:
    write_contract(tmp_path / "columns.json", _catalog())
    done = _billig("lineage", "--contract", str(tmp_path), "item_web.nope", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "no column read by the site matches 'item_web.nope' in the contract"
    )
    assert json.dumps(done.stdout) == '""'


def test_the_markdown_report_of_a_failing_contract_check_draws_the_broken_paths(
    mermaid_parse: Any,
) -> None:
    failed = CheckResult(
        "columns",
        "every model column is in columns.json with a compatible type and nullability",
        ("[breaking] column shop.item_web.title may now be NULL",),
        (_loosened(VIEW),),
    )
    text = render_results_markdown([failed], contract=_catalog())
    (block,) = _mermaid_blocks(text)
    assert "Item.title" in block and "ItemRow.id" not in block
    assert mermaid_parse([block]) == [None]
    assert "```mermaid" not in render_results_markdown([failed])  # no contract, no graph
