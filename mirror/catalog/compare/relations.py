"""Relations: missing, new, of another kind, and the comparison of one relation present on
both sides (its keys and columns).
"""

from __future__ import annotations

from mirror.catalog.compare.checks import compare_checks
from mirror.catalog.compare.columns import compare_columns
from mirror.catalog.compare.impact import Context, judge, kind_name
from mirror.catalog.compare.keys import (
    compare_foreign_keys,
    compare_primary_key,
    same_foreign_keys,
)
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Kind, Relation

_KINDS_WITH_KEYS = frozenset({Kind.TABLE, Kind.PARTITIONED_TABLE})


def relation_missing(ctx: Context, rel: Relation) -> Finding:
    reading = ctx.relation(rel)
    return Finding(
        FindingKind.RELATION_MISSING,
        judge(Severity.BREAKING, reading),
        rel.key.schema,
        rel.key.name,
        None,
        kind_name(rel.kind),
        None,
        f"{kind_name(rel.kind)} {rel.key} is missing",
        reading.readers,
    )


def relation_added(rel: Relation) -> Finding:
    return Finding(
        FindingKind.RELATION_ADDED,
        Severity.INFO,
        rel.key.schema,
        rel.key.name,
        None,
        None,
        kind_name(rel.kind),
        f"{kind_name(rel.kind)} {rel.key} is new (not in the contract)",
    )


def compare_relation(ctx: Context, exp: Relation, act: Relation) -> list[Finding]:
    findings: list[Finding] = []
    if exp.kind != act.kind:
        findings.append(kind_changed(ctx, exp, act))
    if exp.kind in _KINDS_WITH_KEYS and act.kind in _KINDS_WITH_KEYS:
        if exp.primary_key != act.primary_key:
            findings += compare_primary_key(ctx, exp, act)
        if not same_foreign_keys(ctx, exp, act):
            findings += compare_foreign_keys(ctx, exp, act)
    findings += compare_checks(ctx, exp, act)
    findings += compare_columns(ctx, exp, act)
    return findings


def kind_changed(ctx: Context, exp: Relation, act: Relation) -> Finding:
    # A SELECT reads a view like a table: the change of kind alone breaks no reader. Columns
    # lost in the move are column_missing findings of their own, so their impact counts once.
    reading = ctx.relation(exp)
    return Finding(
        FindingKind.RELATION_KIND_CHANGED,
        Severity.WARNING,
        exp.key.schema,
        exp.key.name,
        None,
        kind_name(exp.kind),
        kind_name(act.kind),
        f"{exp.key} changed from a {kind_name(exp.kind)} to a {kind_name(act.kind)}",
        reading.readers,
    )
