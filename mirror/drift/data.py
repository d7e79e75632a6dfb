"""Production's data against the site's assumptions (``billig drift --data``, opt-in).

The catalog says what a column may hold; the rows say what it does. For the contracted columns
the site reads, this asks production, in counts only, where an assumption of the site's code is
broken: NULLs in a column a reader declares non-null while the catalog does not promise NOT NULL
(a nullable column, a view column whose nullability is unknown or derived nullable), values
outside the enum labels the contract pins or outside the choices its readers allow (pinned in
the contract's lineage), and rows breaking the assertions the site declares or the CHECKs the
contract pins that production no longer enforces. One aggregate
statement per relation, in the drift check's kind of session (read-only, the same timeouts); a
relation is read at most :data:`SAMPLE_ROWS` rows, a larger table sampled (``TABLESAMPLE
SYSTEM``). No row value is ever fetched: only ``count(*)`` results leave the server, so no value
can reach any report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg2.errors

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import (
    Catalog,
    Column,
    ColumnRef,
    Kind,
    RelationKey,
    Usage,
    quote_ident,
)
from mirror.drift.assertions import ASSERTIONS_FILE, Assertion, pinned_checks
from mirror.errors import ContractError, HarnessError, IntrospectionError
from mirror.sources.read_session import Target, Timeouts, read_session

SAMPLE_ROWS = 100_000  # rows read per relation at most
_NUMERIC = re.compile(r"(smallint|integer|bigint|real|double precision|numeric(\(.*\))?)")
_SAMPLED_KINDS = frozenset({Kind.TABLE, Kind.PARTITIONED_TABLE, Kind.MATERIALIZED_VIEW})
_SIZES = """
SELECT n.nspname::text, c.relname::text, c.reltuples::float8
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE (n.nspname, c.relname) IN (
       SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[]))
"""


@dataclass(frozen=True, slots=True)
class Probe:
    """One question to one relation's rows: how many violate ``condition``.

    ``condition`` is SQL built from quoted identifiers only; values (labels) are parameters.
    """

    kind: FindingKind
    column: str | None  # None: a condition over several columns (a declared assertion)
    columns: tuple[str, ...]
    condition: str
    params: Mapping[str, Any]
    usage: Usage
    what: str  # the broken assumption, e.g. "NULL", "outside the pinned labels"


@dataclass(frozen=True, slots=True)
class DataCheck:
    """The data findings and the statements sent (names, as introspection records them)."""

    findings: tuple[Finding, ...]
    statements: tuple[str, ...]


def plan_probes(
    expected: Catalog, actual: Catalog, assertions: Iterable[Assertion] = ()
) -> dict[RelationKey, list[Probe]]:
    """The probes for the contracted columns the site reads that exist in production, and for
    the site's declared ``assertions``."""
    plan: dict[RelationKey, list[Probe]] = {}
    assertions = [*assertions, *pinned_checks(expected, actual)]
    for rel in expected:
        live = actual.get(rel.key)
        if live is None:
            continue
        for col in rel.columns:
            now = live.column(col.name)
            ref = ColumnRef(*rel.key, col.name)
            usage = expected.usage(ref)
            if now is None or now.selectable is False or (usage is not None and not usage.read):
                continue
            usage = usage or Usage()
            probes = plan.setdefault(rel.key, [])
            name = _ident(col.name)
            if usage.requires_not_null and now.nullable is not False:
                probes.append(
                    Probe(
                        FindingKind.DATA_NULLS,
                        col.name,
                        (col.name,),
                        f"{name} IS NULL",
                        {},
                        usage,
                        "NULL",
                    )
                )
            if col.labels is not None and not col.type.endswith("[]"):
                param = f"labels_{len(probes)}"
                probes.append(
                    Probe(
                        FindingKind.DATA_OUTSIDE_LABELS,
                        col.name,
                        (col.name,),
                        f"{name}::text <> ALL (%({param})s::text[])",
                        {param: list(col.labels)},
                        usage,
                        "outside the enum labels the contract pins",
                    )
                )
            if usage.choices is not None and not now.type.endswith("[]"):
                # Typed as production has it now, so that the comparison always parses.
                probes.append(_choices_probe(now, usage, f"choices_{len(probes)}"))
    for assertion in assertions:
        if actual.get(assertion.relation) is None:
            continue  # a missing relation is a catalog finding already
        usages = [expected.usage(ColumnRef(*assertion.relation, c)) for c in assertion.columns]
        readers = sorted({r for u in usages if u is not None for r in u.readers})
        read = any(u is None or u.read for u in usages)
        plan.setdefault(assertion.relation, []).append(
            Probe(
                FindingKind.DATA_ASSERTION,
                None,
                assertion.columns,
                f"NOT ({assertion.sql.replace('%', '%%')})",
                {},
                # What the assertion protects: the readers of its columns; read means breaking.
                Usage(fields=tuple(readers)) if read else Usage(models=tuple(readers)),
                f"that violates {assertion.check}",
            )
        )
    return {key: probes for key, probes in plan.items() if probes}


def _choices_probe(col: Column, usage: Usage, param: str) -> Probe:
    """Rows whose value is none of the readers' choices. Integer choices over a numeric
    column compare as numbers (``1.00`` is the choice ``1``); anything else compares as
    PostgreSQL prints the value, which is what Django reads from a text column."""
    choices = usage.choices or ()
    name = _ident(col.name)
    numeric = _NUMERIC.fullmatch(col.base_type or col.type) is not None
    if numeric and all(isinstance(v, int) for v in choices):
        condition, values = f"{name} <> ALL (%({param})s::numeric[])", list(choices)
    else:
        condition, values = f"{name}::text <> ALL (%({param})s::text[])", [str(v) for v in choices]
    return Probe(
        FindingKind.DATA_OUTSIDE_CHOICES,
        col.name,
        (col.name,),
        condition,
        {param: values},
        usage,
        f"outside the {len(choices)} choice(s) its readers allow",
    )


def probe_statement(key: RelationKey, kind: Kind, probes: list[Probe], reltuples: float) -> str:
    """One bounded aggregate over ``key``: the row count and one count per probe."""
    columns = ", ".join(dict.fromkeys(_ident(c) for p in probes for c in p.columns))
    sample = ""
    if kind in _SAMPLED_KINDS and reltuples > SAMPLE_ROWS:
        # Twice the share needed, so that a sample rarely falls short of SAMPLE_ROWS.
        sample = f" TABLESAMPLE SYSTEM ({min(100.0, 200.0 * SAMPLE_ROWS / reltuples):.6f})"
    counts = ", ".join(f"count(*) FILTER (WHERE {p.condition})" for p in probes)
    return (
        f"SELECT count(*), {counts} FROM "
        f"(SELECT {columns} FROM {str(key).replace('%', '%%')}{sample} LIMIT {SAMPLE_ROWS}) "
        "AS sampled"
    )


def _ident(name: str) -> str:
    # Quoted, and % doubled: the statement goes through the driver's parameter formatting.
    return quote_ident(name).replace("%", "%%")


def check_data(
    target: Target,
    bounds: Timeouts,
    expected: Catalog,
    actual: Catalog,
    assertions: Iterable[Assertion] = (),
) -> DataCheck:
    """Ask production's rows the probes of :func:`plan_probes`; findings carry counts only."""
    plan = plan_probes(expected, actual, assertions)
    if not plan:
        return DataCheck((), ())
    findings: list[Finding] = []
    with read_session(target, bounds, what="reading production's data") as session:
        keys = list(plan)
        sizes = {
            RelationKey(s, n): t
            for s, n, t in session.run(
                "data sizes",
                {"schemas": [k.schema for k in keys], "names": [k.name for k in keys]},
                sql=_SIZES,
            )
        }
        for key, probes in plan.items():
            relation = actual.get(key)
            assert relation is not None
            params: dict[str, Any] = {}
            for probe in probes:
                params.update(probe.params)
            sql = probe_statement(key, relation.kind, probes, sizes.get(key, 0.0))
            try:
                (row,) = session.run("data", params, sql=sql)
            except psycopg2.errors.DataError as exc:
                raise _data_error(key, probes, exc) from None
            total, *violations = row
            sampled = relation.kind in _SAMPLED_KINDS and sizes.get(key, 0.0) > SAMPLE_ROWS
            sampled = sampled or total >= SAMPLE_ROWS
            findings += [
                _finding(key, probe, count, total, sampled)
                for probe, count in zip(probes, violations, strict=True)
                if count
            ]
        statements = tuple(session.sent)
    return DataCheck(tuple(findings), statements)


def _data_error(key: RelationKey, probes: list[Probe], exc: psycopg2.Error) -> HarnessError:
    """A data exception (SQLSTATE 22xxx: a division by zero, a value out of range) raised by a
    row: its server message may quote the row, so only its kind is told. Only a declared
    assertion computes anything, so it is the assertion's error where there is one."""
    what = f"{type(exc).__name__}, SQLSTATE {exc.pgcode}; the server's message is not shown"
    checks = [p.what.removeprefix("that violates ") for p in probes if p.column is None]
    if checks:
        declared = [c for c in checks if not c.startswith("the pinned CHECK")]
        return ContractError(
            f"{ASSERTIONS_FILE + ': ' if declared else ''}an assertion on {key} fails on one "
            f"of its rows ({what}): {'; '.join(checks)}"
        )
    return IntrospectionError(f"reading production's data failed on a row of {key} ({what})")


def _finding(key: RelationKey, probe: Probe, count: int, total: int, sampled: bool) -> Finding:
    usage = probe.usage
    rows = f"{count:,} of {total:,} rows" + (" (a sample)" if sampled else "")
    if probe.column is None:
        return Finding(
            probe.kind,
            Severity.BREAKING if usage.fields else Severity.WARNING,
            key.schema,
            key.name,
            None,
            f"no row {probe.what}",
            rows,
            f"relation {key}: {rows} {probe.what}, which protects{_readers(usage.readers, ' ')}",
            usage.readers,
        )
    ref = ColumnRef(*key, probe.column)
    # Breaking when code depends on it: a reader declares the value non-null, or the value
    # reaches serializer output or an endpoint; a model alone reading it is a warning.
    depends = usage.requires_not_null if probe.kind is FindingKind.DATA_NULLS else False
    depends = depends or bool(usage.fields or usage.endpoints)
    readers = _readers(usage.readers)
    return Finding(
        probe.kind,
        Severity.BREAKING if depends else Severity.WARNING,
        key.schema,
        key.name,
        probe.column,
        "no NULL" if probe.kind is FindingKind.DATA_NULLS else f"no value {probe.what}",
        rows,
        f"column {ref}: {rows} hold a value {probe.what}"
        if probe.kind is not FindingKind.DATA_NULLS
        else f"column {ref}: {rows} are NULL, read as non-null{readers}",
        usage.readers,
    )


def _readers(readers: Iterable[str], lead: str = " by ") -> str:
    names = list(readers)
    if not names:
        return "" if lead == " by " else " no reader"
    return f"{lead}{', '.join(names[:3])}{' …' if len(names) > 3 else ''}"
