"""Primary and foreign keys of a table: changed, added, removed; a foreign key that follows a
renamed relation has not changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mirror.catalog.compare.impact import NONE, Context, judge
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import ForeignKey, Relation, RelationKey, quote_ident


def compare_primary_key(ctx: Context, exp: Relation, act: Relation) -> Iterator[Finding]:
    old, new = exp.primary_key, act.primary_key
    if old == new:
        return
    reading = ctx.columns(exp.key, old)
    if not old:
        if not ctx.report_added:
            return
        change, severity, what = "added", Severity.INFO, "now has a primary key"
    elif not new:
        change, severity, what = "removed", Severity.WARNING, "lost its primary key"
    elif set(old) == set(new):
        change, severity, what = "reordered", Severity.INFO, "has its primary key reordered"
    else:
        change = "changed"
        severity = judge(Severity.BREAKING, reading)
        what = "has a different primary key"
    yield Finding(
        FindingKind.PRIMARY_KEY_CHANGED,
        severity,
        exp.key.schema,
        exp.key.name,
        None,
        cols(old),
        cols(new),
        f"{exp.key} {what}: {cols(old)} → {cols(new)}",
        reading.readers,
        change=change,
    )


def cols(columns: tuple[str, ...]) -> str:
    return f"({', '.join(quote_ident(c) for c in columns)})" if columns else NONE


def _fk_targets(fks: Iterable[ForeignKey]) -> str:
    """Where foreign keys on one column list point: ``→ billig.event (event)``."""
    return "; ".join(f"→ {fk.target} {cols(fk.target_columns)}" for fk in fks)


def _fk_text(key: RelationKey, columns: tuple[str, ...], fks: tuple[ForeignKey, ...]) -> str:
    """Foreign keys as one reads them: ``billig.ticket_group (event) → billig.event (event)``."""
    return f"{key} {cols(columns)} {_fk_targets(fks)}" if fks else NONE


def compare_foreign_keys(ctx: Context, exp: Relation, act: Relation) -> Iterator[Finding]:
    def by_columns(rel: Relation) -> dict[tuple[str, ...], tuple[ForeignKey, ...]]:
        out: dict[tuple[str, ...], list[ForeignKey]] = {}
        for fk in rel.foreign_keys:
            out.setdefault(fk.columns, []).append(fk)
        return {cols: tuple(fks) for cols, fks in out.items()}

    def follow(fk: ForeignKey) -> ForeignKey:
        target = ctx.renamed.get(fk.target, fk.target)
        return ForeignKey(fk.columns, target, fk.target_columns)

    old, new = by_columns(exp), by_columns(act)
    for cols in sorted(old.keys() | new.keys()):
        before, after = old.get(cols, ()), new.get(cols, ())
        if {follow(fk) for fk in before} == set(after):
            continue
        reading = ctx.columns(exp.key, cols)
        was, now = _fk_text(exp.key, cols, before), _fk_text(exp.key, cols, after)
        # Read as was → now: the key as the contract has it, then where it points now.
        if not before:
            if not ctx.report_added:
                continue
            change, severity, message = "added", Severity.INFO, f"new foreign key {now}"
        elif not after:
            change, severity, message = "removed", Severity.WARNING, f"foreign key {was} is gone"
        else:
            change = "changed"
            severity = judge(Severity.BREAKING, reading)
            message = f"foreign key {was} became {_fk_targets(after)}"
        yield Finding(
            FindingKind.FOREIGN_KEY_CHANGED,
            severity,
            exp.key.schema,
            exp.key.name,
            None,
            was,
            now,
            message,
            reading.readers,
            change=change,
        )


def same_foreign_keys(ctx: Context, exp: Relation, act: Relation) -> bool:
    """The common case at a glance: the same keys, none to a renamed relation (no finding)."""
    return exp.foreign_keys == act.foreign_keys and not any(
        fk.target in ctx.renamed for fk in exp.foreign_keys
    )
