"""Drift seen through views: a column loosened under ``billig.event_lim_web`` is a finding on the
view column, named with the base column it comes from and the readers it hurts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.drift.check import check_drift
from mirror.report.markdown import render as markdown
from mirror.report.model import RenderOptions

from .production import Production

VIEW_COLUMNS = ", ".join(
    """event event_name event_location event_note event_time event_type external_id organisation
    a4_ticket_layout receipt_ticket_layout tp_ticket_layout ticket_fee sale_from sale_to
    hidden""".split()
)


def _on(findings: tuple[Finding, ...], obj: str) -> list[Finding]:
    return [f for f in findings if f.object == obj and f.kind is FindingKind.NULLABILITY_CHANGED]


def test_a_base_column_loosened_under_a_view_is_a_finding_on_the_view_column(
    production: Production, contract_dir: Path
) -> None:
    production.execute("ALTER TABLE billig.event ALTER COLUMN event_name DROP NOT NULL")
    check = check_drift(production.login, contract=contract_dir)
    (through,) = _on(check.findings, "billig.event_lim_web.event_name")
    assert through.severity is Severity.BREAKING
    assert through.change == "loosened"
    assert through.message.startswith(
        "column billig.event_lim_web.event_name may now be NULL (via billig.event.event_name"
    )
    # The readers of the view column: the site's model, its serializer field, its endpoints.
    assert {"BilligEvent.name", "Event.billig.name", "GET /billig/events"} <= set(through.impact)
    assert _on(check.findings, "billig.event.event_name")  # the base table's own finding
    assert check.report.exit_code == 1


def test_the_markdown_report_draws_the_broken_paths_through_the_view(
    production: Production, contract_dir: Path, mermaid_parse: Any
) -> None:
    production.execute("ALTER TABLE billig.event ALTER COLUMN event_name DROP NOT NULL")
    text = markdown(check_drift(production.login, contract=contract_dir).report, RenderOptions())
    (block,) = [b.split("```", 1)[0] for b in text.split("```mermaid\n")[1:]]
    # From the base column through the view column to the model, serializer field, endpoint.
    for node in (
        '[("billig.event.event_name")]',
        '["billig.event_lim_web.event_name"]',
        '("model BilligEvent.name")',
        '[/"field Event.billig.name"/]',
        '{{"GET /billig/events"}}',
    ):
        assert node in block
    assert mermaid_parse([block]) == [None]


def test_a_view_redefined_over_an_outer_join_is_a_finding_with_the_same_origin(
    production: Production, contract_dir: Path
) -> None:
    production.execute(
        "DROP VIEW billig.event_lim_web; "
        "CREATE VIEW billig.event_lim_web AS SELECT e.event, n.event_name, "
        + ", ".join(f"e.{c}" for c in VIEW_COLUMNS.split(", ")[2:])
        + " FROM billig.event e "
        "LEFT JOIN billig.event n ON n.event = e.event AND NOT n.hidden; "
        f"GRANT SELECT ON billig.event_lim_web TO {production.role}"
    )
    check = check_drift(production.login, contract=contract_dir)
    (through,) = _on(check.findings, "billig.event_lim_web.event_name")
    assert "(via billig.event.event_name;" in through.message
    assert through.severity is Severity.BREAKING
    assert not _on(check.findings, "billig.event_lim_web.event")  # still the inner side's
    assert check.report.exit_code == 1


def test_a_view_column_taken_from_another_column_is_an_origin_finding(
    production: Production, contract_dir: Path
) -> None:
    # Same name, same type, both NOT NULL: only the origin tells that the data changed.
    production.execute(
        "DROP VIEW billig.event_lim_web; "
        "CREATE VIEW billig.event_lim_web AS SELECT event, "
        "event_type::character varying(140) AS event_name, "
        + ", ".join(VIEW_COLUMNS.split(", ")[2:])
        + " FROM billig.event WHERE event_type IS NOT NULL; "
        f"GRANT SELECT ON billig.event_lim_web TO {production.role}"
    )
    check = check_drift(production.login, contract=contract_dir)
    (moved,) = [f for f in check.findings if f.kind is FindingKind.ORIGIN_CHANGED]
    assert moved.object == "billig.event_lim_web.event_name"
    assert (moved.expected, moved.actual) == ("billig.event.event_name", "billig.event.event_type")
    assert moved.severity is Severity.WARNING
    assert not _on(check.findings, "billig.event_lim_web.event_name")  # still not null


def test_a_view_column_the_analysis_cannot_follow_stays_unknown(
    production: Production, contract_dir: Path
) -> None:
    # The same columns, now out of a set-returning function: nothing can be promised about
    # them, and nothing is claimed either (no nullability finding, unknown in the catalog).
    production.execute(
        "DROP VIEW billig.event_lim_web; "
        f"CREATE VIEW billig.event_lim_web AS SELECT {VIEW_COLUMNS} "
        "FROM pg_catalog.json_populate_recordset(NULL::billig.event, '[]') AS e; "
        f"GRANT SELECT ON billig.event_lim_web TO {production.role}"
    )
    check = check_drift(production.login, contract=contract_dir)
    view = check.actual.get(("billig", "event_lim_web"))
    assert view is not None
    assert {(c.nullable, c.origin) for c in view.columns} == {(None, None)}
    assert not [f for f in check.findings if f.relation == "event_lim_web"]
