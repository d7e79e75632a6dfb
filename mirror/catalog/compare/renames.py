"""What explains a missing relation or column: quoting confusions, probable renames and moves.

A relation counts as renamed (or moved) when most of its columns reappear, same name and
type, in exactly one unexplained relation; a column when a new column of its type sits at its
place among the surviving ones. A tie names neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mirror.catalog.compare.impact import Context, column_finding, judge, kind_name
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Column, ColumnRef, Relation, RelationKey, quote_ident

RENAME_THRESHOLD = 0.8


def confusable_keys(key: RelationKey, schemas: Iterable[str] = ("public",)) -> list[RelationKey]:
    """Relations that could be mistaken for ``key`` by dotted-name quoting.

    ``billig.event`` ↔ ``"billig.event"`` in each of ``schemas`` (where an unqualified, quoted
    name lands), and ``public."billig.event"`` ↔ ``billig.event``. Introspection callers pass
    these along with the contracted relations so the comparator can name the confusion.
    """
    out = [RelationKey(s, f"{key.schema}.{key.name}") for s in schemas]
    out += split_dotted(key.name)
    return sorted(set(out) - {key})


def split_dotted(name: str) -> list[RelationKey]:
    parts = name.split(".")
    return [
        RelationKey(".".join(parts[:i]), ".".join(parts[i:]))
        for i in range(1, len(parts))
        if all(parts[:i]) and all(parts[i:])
    ]


# --------------------------------------------------------------------------- relation renames


@dataclass(frozen=True, slots=True)
class Explained:
    findings: list[Finding]
    pairs: dict[RelationKey, RelationKey]  # expected key → the actual key that explains it

    @property
    def explained(self) -> set[RelationKey]:
        return set(self.pairs)

    @property
    def used(self) -> set[RelationKey]:
        return set(self.pairs.values())


def quoting_confusions(ctx: Context, missing: list[RelationKey]) -> Explained:
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
            for k in split_dotted(key.name)
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
                judge(Severity.BREAKING, reading),
                key.schema,
                key.name,
                None,
                str(key),
                str(found),
                f"{describe(key)} is missing but {describe(found)} exists: these are "
                "different relations; a dotted name quoted as one identifier targets the "
                "wrong one",
                reading.readers,
                evidence=f"expected {key} (schema {quote_ident(key.schema)}, relation "
                f"{quote_ident(key.name)}), found {found} (schema {quote_ident(found.schema)}, "
                f"relation {quote_ident(found.name)})",
            )
        )
        pairs[key] = found
    return Explained(findings, pairs)


def describe(key: RelationKey) -> str:
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


def relation_renames(
    ctx: Context, missing: list[RelationKey], candidates: list[RelationKey]
) -> Explained:
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
    return Explained(findings, pairs)


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


def _relation_renamed(ctx: Context, exp: Relation, act: Relation, match: _Match) -> Finding:
    reading = ctx.relation(exp)
    have = {(c.name, c.type) for c in act.columns}
    lost = [c.name for c in exp.columns if (c.name, c.type) not in have]
    evidence = f"{match.matched} of {len(exp.columns)} expected columns match by name and type"
    if lost:
        evidence += f" (not matching: {', '.join(quote_ident(n) for n in lost)})"
    if act.kind != exp.kind:
        evidence += f"; now a {kind_name(act.kind)}, was a {kind_name(exp.kind)}"
    verb = "moved to" if act.key.name == exp.key.name else "renamed to"
    return Finding(
        FindingKind.RELATION_RENAMED,
        judge(Severity.BREAKING, reading),
        exp.key.schema,
        exp.key.name,
        None,
        str(exp.key),
        str(act.key),
        f"{kind_name(exp.kind)} {exp.key} is missing; probably {verb} {act.key}",
        reading.readers,
        evidence=evidence,
    )


def column_renames(exp: Relation, act: Relation) -> dict[str, str]:
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


def column_renamed(ctx: Context, key: RelationKey, col: Column, new_name: str) -> Finding:
    reading = ctx.column(key, col.name)
    return column_finding(
        FindingKind.COLUMN_RENAMED,
        judge(Severity.BREAKING, reading),
        key,
        col.name,
        col.name,
        new_name,
        f"column {ColumnRef(*key, col.name)} is missing; probably renamed to "
        f"{quote_ident(new_name)}",
        reading,
        evidence=f"same type {col.type} and same position among the surviving columns",
    )
