"""How a change affects us as readers: the reading context every comparator judges with.

Severity is judged by the impact on us as readers, using the lineage the *expected* catalog
carries; an expected catalog without lineage (a pinned snapshot) counts every column as read and
declared non-null. What nothing of ours reads is capped at a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Catalog, ColumnRef, Kind, Relation, RelationKey


@dataclass(frozen=True, slots=True)
class Reading:
    """Whether and how our code reads a column (or a relation), from the expected lineage."""

    read: bool
    requires_not_null: bool
    readers: tuple[str, ...]


class Context:
    def __init__(self, expected: Catalog, actual: Catalog, report_added: bool) -> None:
        self.expected = expected
        self.actual = actual
        self.report_added = report_added
        # Probable renames, expected key → actual key: foreign keys that follow a renamed
        # relation are not changed.
        self.renamed: dict[RelationKey, RelationKey] = {}

    def column(self, key: RelationKey, column: str) -> Reading:
        usage = self.expected.usage(ColumnRef(key.schema, key.name, column))
        if usage is None:  # no lineage: the contract promised every pinned column
            return Reading(True, True, ())
        return Reading(
            usage.read or usage.requires_not_null,
            usage.requires_not_null,
            tuple(dict.fromkeys(usage.readers)),
        )

    def relation(self, rel: Relation) -> Reading:
        if not rel.columns:  # nothing pinned: read only if the contract promised everything
            return Reading(self.expected.lineage is None, False, ())
        return merge(self.column(rel.key, c.name) for c in rel.columns)

    def columns(self, key: RelationKey, names: Iterable[str]) -> Reading:
        return merge(self.column(key, n) for n in names)


def merge(readings: Iterable[Reading]) -> Reading:
    read = not_null = False
    readers: set[str] = set()
    for r in readings:
        read |= r.read
        not_null |= r.requires_not_null
        readers.update(r.readers)
    return Reading(read, not_null, tuple(sorted(readers)))


def judge(severity: Severity, reading: Reading) -> Severity:
    """Cap at warning what nothing of ours reads."""
    return severity if reading.read else min(severity, Severity.WARNING)


NULL = "NULL"
NOT_NULL = "NOT NULL"
NONE = "(none)"


def kind_name(kind: Kind) -> str:
    return kind.value.replace("_", " ")


def column_finding(
    kind: FindingKind,
    severity: Severity,
    key: RelationKey,
    column: str,
    expected: str | None,
    actual: str | None,
    message: str,
    reading: Reading,
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
