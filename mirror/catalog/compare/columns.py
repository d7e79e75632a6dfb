"""Columns of a relation: missing, renamed, new, and one column's type, nullability, default
and the login's SELECT privilege.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from mirror.catalog.compare.impact import (
    NONE,
    NOT_NULL,
    NULL,
    Context,
    Reading,
    column_finding,
    judge,
)
from mirror.catalog.compare.renames import column_renamed, column_renames
from mirror.catalog.compare.types import (
    TypeChange,
    classify_type_change,
    compare_type_content,
    type_change_verb,
)
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Column, ColumnRef, Origin, Relation, RelationKey

_SHAPE = attrgetter("name", "type", "nullable", "default", "labels", "base_type", "origin")
_SELECTABLE = attrgetter("selectable")


def same_columns(exp: Relation, act: Relation) -> bool:
    """The common case at a glance, in a few C-level passes: the same columns in the same order
    with the same type, nullability and default, none lost to the login (no finding)."""
    return list(map(_SHAPE, exp.columns)) == list(map(_SHAPE, act.columns)) and (
        False not in map(_SELECTABLE, act.columns)
    )


def compare_columns(ctx: Context, exp: Relation, act: Relation) -> list[Finding]:
    if same_columns(exp, act):
        return []
    key = exp.key
    findings: list[Finding] = []
    actual = {c.name: c for c in act.columns}
    expected_names = {c.name for c in exp.columns}
    has_missing = len(expected_names & actual.keys()) < len(expected_names)
    has_new = len(actual) > len(expected_names & actual.keys())
    renames = column_renames(exp, act) if has_missing and has_new else {}
    renamed_to = set(renames.values())
    for col in exp.columns:
        new = actual.get(col.name)
        if new is not None:
            # The common case, cheaply: nothing but the (separately checked) privilege differs.
            if _SHAPE(col) != _SHAPE(new):
                findings += compare_column(ctx, key, col, new)
        elif col.name in renames:
            findings.append(column_renamed(ctx, key, col, renames[col.name]))
        else:
            reading = ctx.column(key, col.name)
            findings.append(
                column_finding(
                    FindingKind.COLUMN_MISSING,
                    judge(Severity.BREAKING, reading),
                    key,
                    col.name,
                    col.type,
                    None,
                    f"column {ColumnRef(*key, col.name)} ({col.type}) is missing",
                    reading,
                )
            )
    if ctx.report_added and has_new:
        for col in act.columns:
            if col.name not in expected_names and col.name not in renamed_to:
                findings.append(
                    column_finding(
                        FindingKind.COLUMN_ADDED,
                        Severity.INFO,
                        key,
                        col.name,
                        None,
                        col.type,
                        f"column {ColumnRef(*key, col.name)} ({col.type}) is new",
                        Reading(False, False, ()),
                    )
                )
    findings += _privileges(ctx, exp, actual)
    return findings


def compare_column(ctx: Context, key: RelationKey, old: Column, new: Column) -> Iterator[Finding]:
    ref = ColumnRef(*key, old.name)
    reading = ctx.column(key, old.name)
    if old.type != new.type:
        type_change = classify_type_change(old.type, new.type)
        base = Severity.WARNING if type_change is TypeChange.WIDENING else Severity.BREAKING
        verb = type_change_verb(type_change)
        yield column_finding(
            FindingKind.TYPE_CHANGED,
            judge(base, reading),
            key,
            old.name,
            old.type,
            new.type,
            f"column {ref} type {verb}: {old.type} → {new.type}",
            reading,
            type_change.value,
        )
    # Labels are compared whatever the type is called (a model's choices are its labels); a
    # domain's base type only under the same domain name.
    yield from compare_type_content(key, old, new, reading)
    # Unknown nullability (view columns) on either side says nothing; never a finding.
    if old.nullable is not None and new.nullable is not None and old.nullable != new.nullable:
        if new.nullable:
            if reading.requires_not_null:
                severity, why = Severity.BREAKING, "a reader declares it non-null"
            elif reading.read:
                severity, why = Severity.WARNING, "read, but no reader declares it non-null"
            else:
                severity, why = Severity.INFO, "nothing reads it"
            change, what = "loosened", f"now allows NULL ({why})"
            via = new.origin or old.origin  # a view column: say which base column loosened
            if via is not None and via.column is not None:
                what = f"may now be NULL (via {via.column}; {why})"
        else:
            severity, change, what = Severity.INFO, "tightened", "is now NOT NULL"
        yield column_finding(
            FindingKind.NULLABILITY_CHANGED,
            severity,
            key,
            old.name,
            NULL if old.nullable else NOT_NULL,
            NULL if new.nullable else NOT_NULL,
            f"column {ref} {what}",
            reading,
            change,
        )
    # A view column whose values now come from elsewhere (followed on both sides): the same
    # name and type may carry other data.
    if (
        old.origin is not None
        and new.origin is not None
        and _followed(ctx, old.origin) != new.origin
    ):
        yield column_finding(
            FindingKind.ORIGIN_CHANGED,
            Severity.WARNING if reading.read else Severity.INFO,
            key,
            old.name,
            str(old.origin),
            str(new.origin),
            f"view column {ref} now comes from {new.origin} (was {old.origin})",
            reading,
        )
    if old.default != new.default and (old.default is not None or ctx.report_added):
        change = "added" if old.default is None else "removed" if new.default is None else "changed"
        yield column_finding(
            FindingKind.DEFAULT_CHANGED,
            Severity.WARNING,
            key,
            old.name,
            old.default if old.default is not None else NONE,
            new.default if new.default is not None else NONE,
            f"column {ref} default {change}: {old.default or NONE} → {new.default or NONE}",
            reading,
            change,
        )


def _followed(ctx: Context, origin: Origin) -> Origin:
    """The expected origin where its relation now is (renamed, moved or a quoted look-alike)."""
    if origin.column is None:
        return origin
    schema, relation, column = origin.column
    moved = ctx.renamed.get(RelationKey(schema, relation))
    return origin if moved is None else Origin(ColumnRef(*moved, column))


def _privileges(ctx: Context, exp: Relation, actual: dict[str, Column]) -> list[Finding]:
    present = [(c, n) for c in exp.columns if (n := actual.get(c.name)) is not None]
    # selectable None: not checked (not a live catalog); only an explicit False is a loss.
    lost = [c for c, n in present if n.selectable is False]
    if not lost:
        return []
    key = exp.key
    if len(present) > 1 and len(lost) == len(present):
        reading = ctx.relation(exp)
        return [
            Finding(
                FindingKind.PRIVILEGE_MISSING,
                judge(Severity.BREAKING, reading),
                key.schema,
                key.name,
                None,
                "SELECT",
                "no SELECT",
                f"the login can no longer SELECT from {key}",
                reading.readers,
            )
        ]
    out = []
    for col in lost:
        reading = ctx.column(key, col.name)
        out.append(
            column_finding(
                FindingKind.PRIVILEGE_MISSING,
                judge(Severity.BREAKING, reading),
                key,
                col.name,
                "SELECT",
                "no SELECT",
                f"the login can no longer SELECT column {ColumnRef(*key, col.name)}",
                reading,
            )
        )
    return out
