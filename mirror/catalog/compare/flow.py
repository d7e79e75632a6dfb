"""The order of comparing: schemas, relations explained (quoting confusions, renames, moves)
before anything is called missing, then each relation present on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from mirror.catalog.compare.impact import Context, judge, merge
from mirror.catalog.compare.relations import compare_relation, relation_added, relation_missing
from mirror.catalog.compare.renames import Explained, quoting_confusions, relation_renames
from mirror.catalog.findings import Finding, FindingKind, Severity, sort_findings
from mirror.catalog.model import Catalog, Relation, quote_ident


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
    ctx = Context(expected, actual, report_added)
    findings: list[Finding] = []
    findings += _compare_schemas(ctx)
    missing = [k for k in expected.relations if k not in actual.relations]
    unexplained = [
        k for k in actual.relations if k not in expected.relations and k.schema in expected.schemas
    ]
    confused = quoting_confusions(ctx, missing)
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
        relation_renames(ctx, missing, unexplained + moved)
        if missing and (unexplained or moved)
        else Explained([], {})
    )
    findings += renames.findings
    for key in missing:
        if key not in renames.explained:
            findings.append(relation_missing(ctx, expected.relations[key]))
    # Foreign keys that follow a renamed relation, or its look-alike, have not changed.
    ctx.renamed = {**confused.pairs, **renames.pairs}
    for key, rel in expected.relations.items():
        if key in actual.relations:
            findings += compare_relation(ctx, rel, actual.relations[key])
        elif key in confused.pairs:
            findings += _look_alike_differences(ctx, rel, actual.relations[confused.pairs[key]])
    if report_added:
        for key in unexplained:
            if key not in renames.used:
                findings.append(relation_added(actual.relations[key]))
    return sort_findings(findings)


# --------------------------------------------------------------------------- schemas


def _compare_schemas(ctx: Context) -> Iterator[Finding]:
    for schema in sorted(ctx.expected.schemas - ctx.actual.schemas):
        rels = [r for r in ctx.expected if r.key.schema == schema]
        reading = merge(ctx.relation(r) for r in rels)
        yield Finding(
            FindingKind.SCHEMA_MISSING,
            judge(Severity.BREAKING, reading),
            schema,
            None,
            None,
            "schema",
            None,
            f"schema {quote_ident(schema)} is missing ({len(rels)} contracted relations in it)",
            reading.readers,
        )


def _look_alike_differences(ctx: Context, exp: Relation, act: Relation) -> list[Finding]:
    """The contracted relation compared with its quoting look-alike, column by column.

    The confusion alone would hide what else changed: a reader that fixes its quoting still
    meets these. They are reported on the contracted relation (where readers and policies name
    them), each saying which relation it was compared with.
    """
    where = f"compared with the look-alike {act.key}"
    return [
        replace(f, evidence=f"{f.evidence}; {where}" if f.evidence else where)
        for f in compare_relation(ctx, exp, act)
    ]
