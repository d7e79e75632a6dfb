"""The one comparator: two :class:`~mirror.catalog.model.Catalog` values in, sorted findings out.

``compare_catalogs(expected, actual)`` serves every check: the nightly drift (contract against
production), ``schema.sql`` against the contract, and the models against the contract (with
``report_added=False``, "subset" semantics). It is pure: small functions, one per object kind
(schema, relation, keys, column), each returning :class:`~mirror.catalog.findings.Finding` values.
Severity is judged by the impact on us as readers, using the lineage the *expected* catalog
carries; an expected catalog without lineage (a pinned snapshot) counts every column as read and
declared non-null. Probable renames and quoting confusions are recognised before anything is
called missing, so they never show up as an unexplained drop plus add.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from operator import attrgetter

from mirror.catalog.findings import Finding, FindingKind, Severity, sort_findings
from mirror.catalog.model import (
    Catalog,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    quote_ident,
)

# A relation counts as a probable rename when at least this share of its expected columns
# reappears, same name and same type, in exactly one unexplained new relation.
RENAME_THRESHOLD = 0.8

# Only these kinds can carry primary and foreign keys; a view's empty key set means nothing.
_KINDS_WITH_KEYS = frozenset({Kind.TABLE, Kind.PARTITIONED_TABLE})

_NULL = "NULL"
_NOT_NULL = "NOT NULL"
_NONE = "(none)"


def compare_catalogs(
    expected: Catalog, actual: Catalog, *, report_added: bool = True
) -> list[Finding]:
    """Findings that turn ``expected`` (the contract) into ``actual``, sorted.

    Relations of ``actual`` outside the schemas ``expected`` covers are ignored (except as
    explanations: a dotted single identifier for a quoting confusion, a same-named relation for a
    move), so ``actual`` may be a whole database. With ``report_added=False`` nothing that only
    ``actual`` has (relations, columns, keys, defaults) is reported: "is every expected thing in
    actual?". A missing schema is reported once, and each of its relations as well (so each
    carries its own impact).
    """
    ctx = _Context(expected, actual, report_added)
    findings: list[Finding] = []
    findings += _compare_schemas(ctx)
    missing = [k for k in expected.relations if k not in actual.relations]
    unexplained = [
        k for k in actual.relations if k not in expected.relations and k.schema in expected.schemas
    ]
    confused = _quoting_confusions(ctx, missing)
    findings += confused.findings
    missing = [k for k in missing if k not in confused.explained]
    unexplained = [k for k in unexplained if k not in confused.used]
    # A relation moved to a schema the contract does not cover keeps its name there.
    missing_names = {k.name for k in missing}
    moved = [
        k
        for k in actual.relations
        if k.name in missing_names
        and k.schema not in expected.schemas
        and k not in expected.relations
        and k not in confused.used
    ]
    renames = (
        _relation_renames(ctx, missing, unexplained + moved)
        if missing and (unexplained or moved)
        else _Explained([], {})
    )
    findings += renames.findings
    for key in missing:
        if key not in renames.explained:
            findings.append(_relation_missing(ctx, expected.relations[key]))
    # Foreign keys that follow a renamed relation, or its look-alike, have not changed.
    ctx.renamed = {**confused.pairs, **renames.pairs}
    for key, rel in expected.relations.items():
        if key in actual.relations:
            findings += _compare_relation(ctx, rel, actual.relations[key])
        elif key in confused.pairs:
            findings += _look_alike_differences(ctx, rel, actual.relations[confused.pairs[key]])
    if report_added:
        for key in unexplained:
            if key not in renames.used:
                findings.append(_relation_added(actual.relations[key]))
    return sort_findings(findings)


def confusable_keys(key: RelationKey, schemas: Iterable[str] = ("public",)) -> list[RelationKey]:
    """Relations that could be mistaken for ``key`` by dotted-name quoting.

    ``billig.event`` ↔ ``"billig.event"`` in each of ``schemas`` (where an unqualified, quoted
    name lands), and ``public."billig.event"`` ↔ ``billig.event``. Introspection callers pass
    these along with the contracted relations so the comparator can name the confusion.
    """
    out = [RelationKey(s, f"{key.schema}.{key.name}") for s in schemas]
    out += _split_dotted(key.name)
    return sorted(set(out) - {key})


def _split_dotted(name: str) -> list[RelationKey]:
    parts = name.split(".")
    return [
        RelationKey(".".join(parts[:i]), ".".join(parts[i:]))
        for i in range(1, len(parts))
        if all(parts[:i]) and all(parts[i:])
    ]


# --------------------------------------------------------------------------- reading context


@dataclass(frozen=True, slots=True)
class _Reading:
    """Whether and how our code reads a column (or a relation), from the expected lineage."""

    read: bool
    requires_not_null: bool
    readers: tuple[str, ...]


class _Context:
    def __init__(self, expected: Catalog, actual: Catalog, report_added: bool) -> None:
        self.expected = expected
        self.actual = actual
        self.report_added = report_added
        # Probable renames, expected key → actual key: foreign keys that follow a renamed
        # relation are not changed.
        self.renamed: dict[RelationKey, RelationKey] = {}

    def column(self, key: RelationKey, column: str) -> _Reading:
        usage = self.expected.usage(ColumnRef(key.schema, key.name, column))
        if usage is None:  # no lineage: the contract promised every pinned column
            return _Reading(True, True, ())
        return _Reading(
            usage.read or usage.requires_not_null,
            usage.requires_not_null,
            tuple(dict.fromkeys(usage.readers)),
        )

    def relation(self, rel: Relation) -> _Reading:
        if not rel.columns:  # nothing pinned: read only if the contract promised everything
            return _Reading(self.expected.lineage is None, False, ())
        return _merge(self.column(rel.key, c.name) for c in rel.columns)

    def columns(self, key: RelationKey, names: Iterable[str]) -> _Reading:
        return _merge(self.column(key, n) for n in names)


def _merge(readings: Iterable[_Reading]) -> _Reading:
    read = not_null = False
    readers: set[str] = set()
    for r in readings:
        read |= r.read
        not_null |= r.requires_not_null
        readers.update(r.readers)
    return _Reading(read, not_null, tuple(sorted(readers)))


def _judge(severity: Severity, reading: _Reading) -> Severity:
    """Cap at warning what nothing of ours reads."""
    return severity if reading.read else min(severity, Severity.WARNING)


# --------------------------------------------------------------------------- schemas


def _compare_schemas(ctx: _Context) -> Iterator[Finding]:
    for schema in sorted(ctx.expected.schemas - ctx.actual.schemas):
        rels = [r for r in ctx.expected if r.key.schema == schema]
        reading = _merge(ctx.relation(r) for r in rels)
        yield Finding(
            FindingKind.SCHEMA_MISSING,
            _judge(Severity.BREAKING, reading),
            schema,
            None,
            None,
            "schema",
            None,
            f"schema {quote_ident(schema)} is missing ({len(rels)} contracted relations in it)",
            reading.readers,
        )


# --------------------------------------------------------------------------- relations


@dataclass(frozen=True, slots=True)
class _Explained:
    findings: list[Finding]
    pairs: dict[RelationKey, RelationKey]  # expected key → the actual key that explains it

    @property
    def explained(self) -> set[RelationKey]:
        return set(self.pairs)

    @property
    def used(self) -> set[RelationKey]:
        return set(self.pairs.values())


def _quoting_confusions(ctx: _Context, missing: list[RelationKey]) -> _Explained:
    by_name: dict[str, list[RelationKey]] = {}
    for key in ctx.actual.relations:
        if "." in key.name and key not in ctx.expected.relations:
            by_name.setdefault(key.name, []).append(key)
    findings: list[Finding] = []
    pairs: dict[RelationKey, RelationKey] = {}
    for key in missing:
        # Expected schema-qualified, found as one dotted identifier (in any schema) ...
        candidates = list(by_name.get(f"{key.schema}.{key.name}", []))
        # ... or expected one dotted identifier, found schema-qualified.
        candidates += [
            k
            for k in _split_dotted(key.name)
            if k in ctx.actual.relations and k not in ctx.expected.relations
        ]
        if not candidates:
            continue
        found = sorted(candidates)[0]
        rel = ctx.expected.relations[key]
        reading = ctx.relation(rel)
        findings.append(
            Finding(
                FindingKind.QUOTING_CONFUSION,
                _judge(Severity.BREAKING, reading),
                key.schema,
                key.name,
                None,
                str(key),
                str(found),
                f"{_describe(key)} is missing but {_describe(found)} exists: these are "
                "different relations; a dotted name quoted as one identifier targets the "
                "wrong one",
                reading.readers,
                evidence=f"expected {key} (schema {quote_ident(key.schema)}, relation "
                f"{quote_ident(key.name)}), found {found} (schema {quote_ident(found.schema)}, "
                f"relation {quote_ident(found.name)})",
            )
        )
        pairs[key] = found
    return _Explained(findings, pairs)


def _look_alike_differences(ctx: _Context, exp: Relation, act: Relation) -> list[Finding]:
    """The contracted relation compared with its quoting look-alike, column by column.

    The confusion alone would hide what else changed: a reader that fixes its quoting still
    meets these. They are reported on the contracted relation (where readers and policies name
    them), each saying which relation it was compared with.
    """
    where = f"compared with the look-alike {act.key}"
    return [
        replace(f, evidence=f"{f.evidence}; {where}" if f.evidence else where)
        for f in _compare_relation(ctx, exp, act)
    ]


def _describe(key: RelationKey) -> str:
    return f"{key} (schema {quote_ident(key.schema)}, relation {quote_ident(key.name)})"


@dataclass(frozen=True, slots=True)
class _Match:
    score: float  # share of expected (name, type) pairs found in the candidate
    precision: float  # share of the candidate's columns that are expected ones
    same_schema: bool
    matched: int

    @property
    def rank(self) -> tuple[float, float, bool]:
        return (self.score, self.precision, self.same_schema)


_Signature = frozenset[tuple[str, str]]


def _signature(rel: Relation) -> _Signature:
    return frozenset((c.name, c.type) for c in rel.columns)


def _needed(size: int) -> int:
    """The fewest shared columns of ``size`` expected ones that reach RENAME_THRESHOLD."""
    return next(m for m in range(size + 1) if m / size >= RENAME_THRESHOLD)


@dataclass(frozen=True, slots=True)
class _Group:
    """Candidates with the same columns: scored once, told apart only by their schema."""

    signature: _Signature
    by_schema: dict[str, list[RelationKey]]

    @property
    def size(self) -> int:
        return sum(map(len, self.by_schema.values()))


def _relation_renames(
    ctx: _Context, missing: list[RelationKey], candidates: list[RelationKey]
) -> _Explained:
    """Probable renames (or moves): each missing relation paired with at most one candidate.

    Candidates are unexplained relations of the covered schemas, plus same-named relations in
    other schemas. The best candidate must be strictly better than the next one, and a candidate
    claimed by two missing relations goes to the strictly better one (or to neither).
    """
    # Near-linear however many relations share columns: candidates are grouped by their
    # columns, and an inverted index (name, type) → groups is walked from the expected
    # relation's rarest column on, stopping once no group left can reach the best overlap.
    groups: dict[_Signature, _Group] = {}
    moved: dict[str, list[tuple[RelationKey, _Signature]]] = {}
    for cand in candidates:
        sig = _signature(ctx.actual.relations[cand])
        if cand.schema in ctx.expected.schemas:
            group = groups.setdefault(sig, _Group(sig, {}))
            group.by_schema.setdefault(cand.schema, []).append(cand)
        else:  # a candidate outside the covered schemas only for a relation of its name
            moved.setdefault(cand.name, []).append((cand, sig))
    index: dict[tuple[str, str], list[_Group]] = {}
    for group in groups.values():
        for pair in group.signature:
            index.setdefault(pair, []).append(group)
    best: dict[RelationKey, tuple[RelationKey, _Match]] = {}
    for key in missing:
        wanted = _signature(ctx.expected.relations[key])
        if wanted:
            found = _best_candidate(key, wanted, index, moved.get(key.name, ()))
            if found is not None:
                best[key] = found
    claims: dict[RelationKey, list[RelationKey]] = {}
    for key, (cand, _) in best.items():
        claims.setdefault(cand, []).append(key)
    findings: list[Finding] = []
    pairs: dict[RelationKey, RelationKey] = {}
    for cand, keys in claims.items():
        ranks = sorted((best[k][1].rank, k) for k in keys)
        if len(ranks) > 1 and ranks[-1][0] == ranks[-2][0]:
            continue
        key = ranks[-1][1]
        findings.append(
            _relation_renamed(
                ctx, ctx.expected.relations[key], ctx.actual.relations[cand], best[key][1]
            )
        )
        pairs[key] = cand
    return _Explained(findings, pairs)


def _best_candidate(
    key: RelationKey,
    wanted: _Signature,
    index: dict[tuple[str, str], list[_Group]],
    moved: Iterable[tuple[RelationKey, _Signature]],
) -> tuple[RelationKey, _Match] | None:
    """The one candidate of the best rank for ``key``, or None (none good enough, or a tie)."""
    size = len(wanted)
    top = _needed(size)  # candidates below the best overlap seen cannot rank first
    overlaps: dict[int, tuple[_Group, int]] = {}
    for i, pair in enumerate(sorted(wanted, key=lambda p: len(index.get(p, ())))):
        if size - i < top:  # groups not met yet share none of the first i columns
            break
        for group in index.get(pair, ()):
            if id(group) not in overlaps:
                matched = len(wanted & group.signature)
                overlaps[id(group)] = (group, matched)
                top = max(top, matched)
    # (rank, how many candidates have it, one of them, shared columns)
    entries: list[tuple[tuple[float, float, bool], int, RelationKey, int]] = []
    for group, matched in overlaps.values():
        if matched < top:
            continue
        score, precision = matched / size, matched / len(group.signature)
        here = group.by_schema.get(key.schema, [])
        if here:
            entries.append(((score, precision, True), len(here), here[0], matched))
        elsewhere = [cands[0] for schema, cands in group.by_schema.items() if schema != key.schema]
        if elsewhere:
            count = group.size - len(here)
            entries.append(((score, precision, False), count, elsewhere[0], matched))
    for cand, sig in moved:
        matched = len(wanted & sig)
        if matched >= top:
            rank = (matched / size, matched / len(sig), cand.schema == key.schema)
            entries.append((rank, 1, cand, matched))
    if not entries:
        return None
    first = max(rank for rank, _, _, _ in entries)
    tied = [(count, cand, matched) for rank, count, cand, matched in entries if rank == first]
    # Two equally good candidates: not probable enough to name either.
    if len(tied) != 1 or tied[0][0] != 1:
        return None
    _, cand, matched = tied[0]
    return cand, _Match(*first, matched)


def _relation_renamed(ctx: _Context, exp: Relation, act: Relation, match: _Match) -> Finding:
    reading = ctx.relation(exp)
    have = {(c.name, c.type) for c in act.columns}
    lost = [c.name for c in exp.columns if (c.name, c.type) not in have]
    evidence = f"{match.matched} of {len(exp.columns)} expected columns match by name and type"
    if lost:
        evidence += f" (not matching: {', '.join(quote_ident(n) for n in lost)})"
    if act.kind != exp.kind:
        evidence += f"; now a {_kind(act.kind)}, was a {_kind(exp.kind)}"
    verb = "moved to" if act.key.name == exp.key.name else "renamed to"
    return Finding(
        FindingKind.RELATION_RENAMED,
        _judge(Severity.BREAKING, reading),
        exp.key.schema,
        exp.key.name,
        None,
        str(exp.key),
        str(act.key),
        f"{_kind(exp.kind)} {exp.key} is missing; probably {verb} {act.key}",
        reading.readers,
        evidence=evidence,
    )


def _relation_missing(ctx: _Context, rel: Relation) -> Finding:
    reading = ctx.relation(rel)
    return Finding(
        FindingKind.RELATION_MISSING,
        _judge(Severity.BREAKING, reading),
        rel.key.schema,
        rel.key.name,
        None,
        _kind(rel.kind),
        None,
        f"{_kind(rel.kind)} {rel.key} is missing",
        reading.readers,
    )


def _relation_added(rel: Relation) -> Finding:
    return Finding(
        FindingKind.RELATION_ADDED,
        Severity.INFO,
        rel.key.schema,
        rel.key.name,
        None,
        None,
        _kind(rel.kind),
        f"{_kind(rel.kind)} {rel.key} is new (not in the contract)",
    )


def _kind(kind: Kind) -> str:
    return kind.value.replace("_", " ")


def _compare_relation(ctx: _Context, exp: Relation, act: Relation) -> list[Finding]:
    findings: list[Finding] = []
    if exp.kind != act.kind:
        findings.append(_kind_changed(ctx, exp, act))
    if exp.kind in _KINDS_WITH_KEYS and act.kind in _KINDS_WITH_KEYS:
        if exp.primary_key != act.primary_key:
            findings += _compare_primary_key(ctx, exp, act)
        if not _same_foreign_keys(ctx, exp, act):
            findings += _compare_foreign_keys(ctx, exp, act)
    findings += _compare_columns(ctx, exp, act)
    return findings


def _kind_changed(ctx: _Context, exp: Relation, act: Relation) -> Finding:
    # A SELECT reads a view like a table: the change of kind alone breaks no reader. Columns
    # lost in the move are column_missing findings of their own, so their impact counts once.
    reading = ctx.relation(exp)
    return Finding(
        FindingKind.RELATION_KIND_CHANGED,
        Severity.WARNING,
        exp.key.schema,
        exp.key.name,
        None,
        _kind(exp.kind),
        _kind(act.kind),
        f"{exp.key} changed from a {_kind(exp.kind)} to a {_kind(act.kind)}",
        reading.readers,
    )


# --------------------------------------------------------------------------- keys


def _compare_primary_key(ctx: _Context, exp: Relation, act: Relation) -> Iterator[Finding]:
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
        severity = _judge(Severity.BREAKING, reading)
        what = "has a different primary key"
    yield Finding(
        FindingKind.PRIMARY_KEY_CHANGED,
        severity,
        exp.key.schema,
        exp.key.name,
        None,
        _cols(old),
        _cols(new),
        f"{exp.key} {what}: {_cols(old)} → {_cols(new)}",
        reading.readers,
        change=change,
    )


def _cols(columns: tuple[str, ...]) -> str:
    return f"({', '.join(quote_ident(c) for c in columns)})" if columns else _NONE


def _fk_targets(fks: Iterable[ForeignKey]) -> str:
    """Where foreign keys on one column list point: ``→ billig.event (event)``."""
    return "; ".join(f"→ {fk.target} {_cols(fk.target_columns)}" for fk in fks)


def _fk_text(key: RelationKey, columns: tuple[str, ...], fks: tuple[ForeignKey, ...]) -> str:
    """Foreign keys as one reads them: ``billig.ticket_group (event) → billig.event (event)``."""
    return f"{key} {_cols(columns)} {_fk_targets(fks)}" if fks else _NONE


def _compare_foreign_keys(ctx: _Context, exp: Relation, act: Relation) -> Iterator[Finding]:
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
            severity = _judge(Severity.BREAKING, reading)
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


# --------------------------------------------------------------------------- columns


def _same_foreign_keys(ctx: _Context, exp: Relation, act: Relation) -> bool:
    """The common case at a glance: the same keys, none to a renamed relation (no finding)."""
    return exp.foreign_keys == act.foreign_keys and not any(
        fk.target in ctx.renamed for fk in exp.foreign_keys
    )


_SHAPE = attrgetter("name", "type", "nullable", "default")
_SELECTABLE = attrgetter("selectable")


def _same_columns(exp: Relation, act: Relation) -> bool:
    """The common case at a glance, in a few C-level passes: the same columns in the same order
    with the same type, nullability and default, none lost to the login (no finding)."""
    return list(map(_SHAPE, exp.columns)) == list(map(_SHAPE, act.columns)) and (
        False not in map(_SELECTABLE, act.columns)
    )


def _compare_columns(ctx: _Context, exp: Relation, act: Relation) -> list[Finding]:
    if _same_columns(exp, act):
        return []
    key = exp.key
    findings: list[Finding] = []
    actual = {c.name: c for c in act.columns}
    expected_names = {c.name for c in exp.columns}
    has_missing = len(expected_names & actual.keys()) < len(expected_names)
    has_new = len(actual) > len(expected_names & actual.keys())
    renames = _column_renames(exp, act) if has_missing and has_new else {}
    renamed_to = set(renames.values())
    for col in exp.columns:
        new = actual.get(col.name)
        if new is not None:
            # The common case, cheaply: nothing but the (separately checked) privilege differs.
            if (col.type, col.nullable, col.default) != (new.type, new.nullable, new.default):
                findings += _compare_column(ctx, key, col, new)
        elif col.name in renames:
            findings.append(_column_renamed(ctx, key, col, renames[col.name]))
        else:
            reading = ctx.column(key, col.name)
            findings.append(
                _column_finding(
                    FindingKind.COLUMN_MISSING,
                    _judge(Severity.BREAKING, reading),
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
                    _column_finding(
                        FindingKind.COLUMN_ADDED,
                        Severity.INFO,
                        key,
                        col.name,
                        None,
                        col.type,
                        f"column {ColumnRef(*key, col.name)} ({col.type}) is new",
                        _Reading(False, False, ()),
                    )
                )
    findings += _privileges(ctx, exp, actual)
    return findings


def _column_finding(
    kind: FindingKind,
    severity: Severity,
    key: RelationKey,
    column: str,
    expected: str | None,
    actual: str | None,
    message: str,
    reading: _Reading,
    change: str | None = None,
    evidence: str | None = None,
) -> Finding:
    return Finding(
        kind,
        severity,
        key.schema,
        key.name,
        column,
        expected,
        actual,
        message,
        reading.readers,
        change,
        evidence,
    )


def _column_renames(exp: Relation, act: Relation) -> dict[str, str]:
    """Probable column renames: expected name → actual name.

    A missing column pairs with a new column of the same type that sits at the same place:
    between the same surviving neighbours (``ALTER TABLE … RENAME COLUMN`` keeps the position).
    Within one gap, equal numbers of missing and new columns with pairwise equal types pair in
    order; otherwise only unambiguous one-to-one candidates count.
    """
    expected_names = set(exp.column_names)
    position = {c.name: i for i, c in enumerate(act.columns)}
    gaps: dict[tuple[int, int], list[Column]] = {}
    last_seen = -1
    pending: list[Column] = []
    for col in exp.columns:
        if col.name in position:
            for m in pending:
                gaps.setdefault((last_seen, position[col.name]), []).append(m)
            pending = []
            last_seen = position[col.name]
        else:
            pending.append(col)
    for m in pending:
        gaps.setdefault((last_seen, len(act.columns)), []).append(m)

    renames: dict[str, str] = {}
    for (lo, hi), missing in gaps.items():
        new = [c for c in act.columns[lo + 1 : hi] if c.name not in expected_names]
        if not new:
            continue
        if len(new) == len(missing) and all(
            m.type == n.type for m, n in zip(missing, new, strict=True)
        ):
            renames.update({m.name: n.name for m, n in zip(missing, new, strict=True)})
            continue
        candidates = {m.name: [n for n in new if n.type == m.type] for m in missing}
        claimed: dict[str, int] = {}
        for cands in candidates.values():
            for n in cands:
                claimed[n.name] = claimed.get(n.name, 0) + 1
        for name, cands in candidates.items():
            if len(cands) == 1 and claimed[cands[0].name] == 1:
                renames[name] = cands[0].name
    return renames


def _column_renamed(ctx: _Context, key: RelationKey, col: Column, new_name: str) -> Finding:
    reading = ctx.column(key, col.name)
    return _column_finding(
        FindingKind.COLUMN_RENAMED,
        _judge(Severity.BREAKING, reading),
        key,
        col.name,
        col.name,
        new_name,
        f"column {ColumnRef(*key, col.name)} is missing; probably renamed to "
        f"{quote_ident(new_name)}",
        reading,
        evidence=f"same type {col.type} and same position among the surviving columns",
    )


def _compare_column(ctx: _Context, key: RelationKey, old: Column, new: Column) -> Iterator[Finding]:
    ref = ColumnRef(*key, old.name)
    reading = ctx.column(key, old.name)
    if old.type != new.type:
        type_change = classify_type_change(old.type, new.type)
        base = Severity.WARNING if type_change is TypeChange.WIDENING else Severity.BREAKING
        verb = {
            TypeChange.WIDENING: "widened",
            TypeChange.NARROWING: "narrowed",
            TypeChange.INCOMPATIBLE: "changed incompatibly",
        }[type_change]
        yield _column_finding(
            FindingKind.TYPE_CHANGED,
            _judge(base, reading),
            key,
            old.name,
            old.type,
            new.type,
            f"column {ref} type {verb}: {old.type} → {new.type}",
            reading,
            type_change.value,
        )
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
        else:
            severity, change, what = Severity.INFO, "tightened", "is now NOT NULL"
        yield _column_finding(
            FindingKind.NULLABILITY_CHANGED,
            severity,
            key,
            old.name,
            _NULL if old.nullable else _NOT_NULL,
            _NULL if new.nullable else _NOT_NULL,
            f"column {ref} {what}",
            reading,
            change,
        )
    if old.default != new.default and (old.default is not None or ctx.report_added):
        change = "added" if old.default is None else "removed" if new.default is None else "changed"
        yield _column_finding(
            FindingKind.DEFAULT_CHANGED,
            Severity.WARNING,
            key,
            old.name,
            old.default if old.default is not None else _NONE,
            new.default if new.default is not None else _NONE,
            f"column {ref} default {change}: {old.default or _NONE} → {new.default or _NONE}",
            reading,
            change,
        )


def _privileges(ctx: _Context, exp: Relation, actual: dict[str, Column]) -> list[Finding]:
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
                _judge(Severity.BREAKING, reading),
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
            _column_finding(
                FindingKind.PRIVILEGE_MISSING,
                _judge(Severity.BREAKING, reading),
                key,
                col.name,
                "SELECT",
                "no SELECT",
                f"the login can no longer SELECT column {ColumnRef(*key, col.name)}",
                reading,
            )
        )
    return out


# --------------------------------------------------------------------------- types


class TypeChange(StrEnum):
    """How a column type change affects a reader.

    Types are grouped into families by the Python value a reader gets (int, str, Decimal, float,
    naive datetime, aware datetime, …). Within a family a change that loses no value is a
    widening (``varchar(140)`` → ``varchar(255)``, ``varchar`` → ``text``, ``integer`` →
    ``bigint``, ``json`` → ``jsonb``), one that may lose values a narrowing. A change across
    families is incompatible, even where PostgreSQL would cast: ``integer`` → ``numeric`` hands
    a reader ``Decimal`` instead of ``int``, and ``timestamp`` → ``timestamptz`` hands it aware
    datetimes that raise when compared with the naive ones the site uses.
    """

    WIDENING = "widening"
    NARROWING = "narrowing"
    INCOMPATIBLE = "incompatible"


_TYPE = re.compile(
    r"^(?P<head>[a-z_][a-z0-9_ ]*?)(?:\((?P<args>[0-9, ]*)\))?(?P<tail> with(?:out)? time zone)?$"
)
_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_FLOATS = {"real": 1, "double precision": 2}
_STRINGS = {"character varying", "character", "text"}
_FAMILY = {
    **{t: "int" for t in _INTEGERS},
    **{t: "float" for t in _FLOATS},
    **{t: "str" for t in _STRINGS},
    "json": "json",
    "jsonb": "json",
    "bit": "bit",
    "bit varying": "bit",
}
_INFINITE = 1 << 62


@dataclass(frozen=True, slots=True)
class _ParsedType:
    base: str
    args: tuple[int, ...]
    dims: int

    @property
    def family(self) -> str:
        return _FAMILY.get(self.base, self.base)


def _parse_type(spelling: str) -> _ParsedType | None:
    text = spelling.strip()
    dims = 0
    while text.endswith("[]"):
        text, dims = text[:-2].rstrip(), dims + 1
    match = _TYPE.match(text)
    if match is None:
        return None
    args = tuple(int(a) for a in (match["args"] or "").replace(" ", "").split(",") if a)
    return _ParsedType(match["head"].strip() + (match["tail"] or ""), args, dims)


def classify_type_change(old: str, new: str) -> TypeChange:
    """Classify a change of canonical type spelling from ``old`` to ``new`` (see TypeChange)."""
    a, b = _parse_type(old), _parse_type(new)
    if a is None or b is None or a.dims != b.dims or a.family != b.family:
        return TypeChange.INCOMPATIBLE
    if a.family == "int":
        return _order(_INTEGERS[a.base], _INTEGERS[b.base])
    if a.family == "float":
        return _order(_FLOATS[a.base], _FLOATS[b.base])
    if a.family in ("str", "bit"):
        return _order(_length(a), _length(b))
    if a.family == "json":
        return TypeChange.WIDENING
    if a.base == "numeric":
        return _numeric(a.args, b.args)
    if a.base != b.base:
        return TypeChange.INCOMPATIBLE
    if a.base.startswith(("timestamp", "time", "interval")):
        # No precision means the maximum (6 fractional digits).
        return _order(a.args[0] if a.args else 6, b.args[0] if b.args else 6)
    if len(a.args) == 1 and len(b.args) == 1:
        return _order(a.args[0], b.args[0])
    return TypeChange.INCOMPATIBLE


def _order(old: int, new: int) -> TypeChange:
    # Equal capacity under another spelling (char(10) → varchar(10)) loses nothing.
    return TypeChange.WIDENING if new >= old else TypeChange.NARROWING


def _length(t: _ParsedType) -> int:
    if t.args:
        return t.args[0]
    # Bare character/bit means length 1; bare varchar/text/varbit is unlimited.
    return 1 if t.base in ("character", "bit") else _INFINITE


def _numeric(old: tuple[int, ...], new: tuple[int, ...]) -> TypeChange:
    if not new:
        return TypeChange.WIDENING
    if not old:
        return TypeChange.NARROWING
    p1, s1 = old[0], old[1] if len(old) > 1 else 0
    p2, s2 = new[0], new[1] if len(new) > 1 else 0
    fits = p2 - s2 >= p1 - s1 and s2 >= s1
    return TypeChange.WIDENING if fits else TypeChange.NARROWING
