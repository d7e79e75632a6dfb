"""The ``columns`` contract kind: ``columns.json``, the Billig relations of the schema file.

Generated from the mirror loaded from the schema file, with the site's lineage (who reads each
column). Checked three ways: the schema file's mirror equals the contract exactly, every model
column is in it with a compatible type and nullability, and the pinned lineage is the site's.
Catalogs are compared by the one comparator (:func:`~mirror.catalog.compare.compare_catalogs`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.findings import Finding
from mirror.catalog.model import Catalog, ColumnRef, Usage
from mirror.catalog.reads import incompatible_reads
from mirror.contracts.kinds import CheckResult, ContractContext
from mirror.drift.policy import MODELS_POLICY_FILE, PolicyEntry, load_policy
from mirror.errors import ContractError
from mirror.sources.contract_file import (
    COLUMNS_FILE,
    catalog_to_json,
    dump_contract,
    load_contract,
    parse_contract,
    with_lineage,
)
from mirror.sources.json_locator import parse_json
from mirror.sources.site import SiteSource

BILLIG_SCHEMA = "billig"


def finding_line(finding: Finding) -> str:
    return f"[{finding.severity.label}] {finding.message}"


def mirror_catalog(ctx: ContractContext) -> Catalog:
    """The Billig relations of the mirror, as loaded from the schema file (cached): schema
    ``billig``, and each relation the site's models read wherever it is (a site's own dev
    schema may hold one as ``public."billig.ticket_group"``, to match a dotted table name)."""
    from mirror.sources.introspect import introspect

    def read() -> Catalog:
        read_by_site = [m.relation for m in ctx.site.models()] if ctx.site is not None else []
        return introspect(
            ctx.database, relations=read_by_site, schemas=[BILLIG_SCHEMA], namesakes=False
        ).catalog

    catalog: Catalog = ctx.cached("mirror_catalog", read)
    return catalog


def expected_columns_contract(ctx: ContractContext) -> Catalog:
    """The columns contract as it should be: the mirror's Billig relations with the site's
    lineage (without a site: no lineage)."""
    catalog = mirror_catalog(ctx)
    if ctx.site is None:
        return catalog
    lineage = ctx.site.lineage()
    pinned = {
        ColumnRef(rel.key.schema, rel.key.name, col.name) for rel in catalog for col in rel.columns
    }
    return with_lineage(catalog, {ref: u for ref, u in lineage.items() if ref in pinned})


def check_models_in_contract(contract: Catalog, models: Catalog) -> list[Finding]:
    """Findings where a model column is missing from the contract or cannot read it
    (:func:`~mirror.catalog.reads.incompatible_reads`)."""
    return incompatible_reads(contract, models)


def _expired(entries: tuple[PolicyEntry, ...]) -> str:
    """Where a finding was declared, when its declaration has expired."""
    return "".join(f" (declared in {e.source}, expired {e.expires})" for e in entries)


def lineage_changes(
    expected: Mapping[ColumnRef, Usage], actual: Mapping[ColumnRef, Usage]
) -> list[str]:
    """Lines for each column whose readers differ (``+``/``-`` per reader kind)."""
    lines: list[str] = []
    for ref in sorted(set(expected) | set(actual)):
        old, new = expected.get(ref, Usage()), actual.get(ref, Usage())
        if old == new:
            continue
        parts: list[str] = []
        for label in ("models", "fields", "endpoints"):
            before, after = set(getattr(old, label)), set(getattr(new, label))
            parts += [f"+ {label[:-1]} {r}" for r in sorted(after - before)]
            parts += [f"- {label[:-1]} {r}" for r in sorted(before - after)]
        if old.requires_not_null != new.requires_not_null:
            parts.append(f"requires_not_null {old.requires_not_null} → {new.requires_not_null}")
        if old.choices is None or new.choices is None:
            if old.choices != new.choices:
                parts.append(f"choices {_choices(old.choices)} → {_choices(new.choices)}")
        elif old.choices != new.choices:
            parts += [f"+ choice {v!r}" for v in new.choices if v not in old.choices]
            parts += [f"- choice {v!r}" for v in old.choices if v not in new.choices]
            if set(old.choices) == set(new.choices):
                parts.append("choices reordered")
        lines.append(f"lineage of {ref}: " + "; ".join(parts))
    return lines


def _choices(values: tuple[str | int, ...] | None) -> str:
    return "any value" if values is None else f"{len(values)} value(s)"


def residual_differences(expected: Catalog, actual: Catalog) -> list[str]:
    """Differences the comparator does not judge (e.g. unique constraints), by JSON path."""
    old = catalog_to_json(with_lineage(expected, None))
    new = catalog_to_json(with_lineage(actual.restrict(expected.relations), None))
    old["schemas"] = new["schemas"] = []
    if old == new:  # the common case: no structural diff to compute (nor its library to load)
        return []
    from deepdiff import DeepDiff

    diff = DeepDiff(old, new, view="tree")
    lines = []
    for report, levels in sorted(diff.items()):
        for level in levels:
            where = level.path(output_format="str").replace("root", "$", 1)
            lines.append(f"{where}: {report.replace('_', ' ')}")
    return sorted(lines)


def pinned(path: Path) -> Catalog:
    """The columns contract at ``path``; one that pins no relation is a :class:`ContractError`:
    checking nothing is never a pass."""
    contract = load_contract(path)
    if not len(contract):
        raise ContractError(f"{path}: the contract pins no relation; nothing would be checked")
    return contract


class ColumnsSnapshot:
    """``columns.json``: the Billig relations of ``schema/billig.sql`` with lineage."""

    name = "columns"

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        contract = expected_columns_contract(ctx)
        if not len(contract):
            # An empty contract would make every later check pass: refuse to write one.
            raise ContractError(
                "the schema file holds no Billig relation (no schema billig, no relation the site "
                f"reads): nothing to pin in {COLUMNS_FILE}"
            )
        return {Path(COLUMNS_FILE): dump_contract(contract)}

    def owned(self, ctx: ContractContext) -> list[Path]:
        return [Path(COLUMNS_FILE)] if (ctx.contracts_dir / COLUMNS_FILE).exists() else []

    def validate(self, folder: Path) -> None:
        pinned(folder / COLUMNS_FILE)

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        path = ctx.contracts_dir / COLUMNS_FILE
        contract = pinned(path)
        results = [self._schema_sql(ctx, path, contract)]
        if ctx.site is not None:
            results += [
                self._models(ctx.site, path, contract, ctx.moment.date()),
                self._lineage(ctx.site, path, contract),
            ]
        return results

    def _schema_sql(self, ctx: ContractContext, path: Path, contract: Catalog) -> CheckResult:
        actual = mirror_catalog(ctx)
        findings = compare_catalogs(contract, actual)
        problems = [finding_line(f) for f in findings]
        if not problems:
            problems = residual_differences(contract, actual)
        return CheckResult(
            self.name,
            f"schema.sql in the mirror satisfies {path.name} exactly",
            tuple(problems),
            tuple(findings),
            f"{len(contract)} relations",
        )

    def _models(self, site: SiteSource, path: Path, contract: Catalog, today: date) -> CheckResult:
        models = site.catalog()
        policy = load_policy(path.parent / MODELS_POLICY_FILE, missing_ok=True)
        outcome = policy.apply(check_models_in_contract(contract, models), today)
        problems = [
            finding_line(f)
            + "".join(
                f" (declared in {e.source}, expired {e.expires})" for e in outcome.expired_for(f)
            )
            for f in outcome.findings
        ]
        detail = f"{sum(len(r.columns) for r in models)} model columns"
        if outcome.tolerated:
            detail += f", {len(outcome.tolerated)} declared difference(s) in {MODELS_POLICY_FILE}"
        if outcome.findings:  # how to declare one that is deliberate, spelt for the first
            first = outcome.findings[0]
            detail += (
                f"; a deliberate difference is declared in {MODELS_POLICY_FILE} next to "
                f'{path.name}: {{"kind": "{first.kind}", "object": {json.dumps(first.object)}, '
                '"reason": …, "owner": …, "expires": …}'
            )
        return CheckResult(
            self.name,
            f"every model column is in {path.name} with a compatible type and nullability",
            tuple(problems),
            outcome.findings,
            detail,
        )

    def _lineage(self, site: SiteSource, path: Path, contract: Catalog) -> CheckResult:
        pinned = {
            ColumnRef(rel.key.schema, rel.key.name, col.name)
            for rel in contract
            for col in rel.columns
        }
        current = {ref: u for ref, u in site.lineage().items() if ref in pinned}
        stored = dict(contract.lineage or {})
        problems = (
            lineage_changes(stored, current)
            if contract.lineage is not None
            else [f"{path.name} has no lineage; run `billig contracts update`"]
        )
        return CheckResult(
            self.name,
            f"lineage in {path.name} matches the models, serializers and endpoints",
            tuple(problems),
            detail=f"{sum(1 for u in current.values() if u.read)} columns read",
        )

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        if old is None:
            return ["new file"]
        if new is None:
            return ["removed"]
        before = parse_contract(parse_json(path, old.encode("utf-8")))
        after = parse_contract(parse_json(path, new.encode("utf-8")))
        lines = [finding_line(f) for f in compare_catalogs(with_lineage(before, None), after)]
        if not lines:
            lines = residual_differences(before, after)
        lines += lineage_changes(dict(before.lineage or {}), dict(after.lineage or {}))
        return lines or ["formatting only"]
