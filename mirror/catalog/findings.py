"""Findings: what the comparator says about two catalogs, as plain sortable values.

A :class:`Finding` is data, not text: a kind, a severity judged by the impact on us as readers,
the object it concerns as a (schema, relation, column) triple, expected and actual values, one
readable message and the readers (models, serializer fields, endpoints) it affects. Rendering
findings is :mod:`mirror.report`; tolerating some is :mod:`mirror.drift.policy`. The exit code of
a run is a function of its findings alone (:func:`exit_code`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from mirror.catalog.model import RelationKey, quote_ident
from mirror.errors import EXIT_DRIFT, EXIT_OK, UsageError


class Severity(IntEnum):
    """How badly a finding hurts us as readers; ordered, so ``>=`` means "at least as bad"."""

    INFO = 1
    WARNING = 2
    BREAKING = 3

    def __str__(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise UsageError(f"unknown severity {text!r} (expected one of: {names})") from None


class FindingKind(StrEnum):
    """Every kind of finding; the definition order is the sort order within one object."""

    SCHEMA_MISSING = "schema_missing"
    QUOTING_CONFUSION = "quoting_confusion"
    RELATION_MISSING = "relation_missing"
    RELATION_RENAMED = "relation_renamed"
    RELATION_KIND_CHANGED = "relation_kind_changed"
    RELATION_ADDED = "relation_added"
    PRIVILEGE_MISSING = "privilege_missing"
    PRIMARY_KEY_CHANGED = "primary_key_changed"
    FOREIGN_KEY_CHANGED = "foreign_key_changed"
    CHECK_CHANGED = "check_changed"
    COLUMN_MISSING = "column_missing"
    COLUMN_RENAMED = "column_renamed"
    COLUMN_ADDED = "column_added"
    TYPE_CHANGED = "type_changed"
    ENUM_LABELS_CHANGED = "enum_labels_changed"
    NULLABILITY_CHANGED = "nullability_changed"
    DEFAULT_CHANGED = "default_changed"
    ORIGIN_CHANGED = "origin_changed"
    # Production's rows against the site's assumptions (drift --data): counts, never values.
    DATA_NULLS = "data_nulls"
    DATA_OUTSIDE_LABELS = "data_outside_labels"
    DATA_OUTSIDE_CHOICES = "data_outside_choices"
    DATA_ASSERTION = "data_assertion"


_KIND_ORDER = {kind: i for i, kind in enumerate(FindingKind)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between an expected catalog (the contract) and an actual one.

    ``relation`` is None for schema-level findings, ``column`` None for relation-level ones.
    ``change`` refines the kind where it has variants (``widening``/``narrowing``/
    ``incompatible`` for types, ``loosened``/``tightened`` for nullability, ``added``/
    ``removed``/``changed`` for keys and defaults). ``evidence`` explains a probable rename or a
    quoting confusion.
    """

    kind: FindingKind
    severity: Severity
    schema: str
    relation: str | None
    column: str | None
    expected: str | None
    actual: str | None
    message: str
    impact: tuple[str, ...] = ()
    change: str | None = None
    evidence: str | None = None

    @property
    def key(self) -> RelationKey | None:
        return None if self.relation is None else RelationKey(self.schema, self.relation)

    @property
    def parts(self) -> tuple[str, ...]:
        """The object as identifier parts: (schema,), (schema, relation) or all three."""
        out: tuple[str, ...] = (self.schema,)
        if self.relation is not None:
            out += (self.relation,)
            if self.column is not None:
                out += (self.column,)
        return out

    @property
    def object(self) -> str:
        """The object in SQL spelling, e.g. ``billig.event.event_note`` or ``public."a.b"``."""
        return ".".join(quote_ident(p) for p in self.parts)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.schema,
            self.relation or "",
            self.column or "",
            _KIND_ORDER[self.kind],
            -self.severity,
            self.expected or "",
            self.actual or "",
            self.message,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.label,
            "schema": self.schema,
            "relation": self.relation,
            "column": self.column,
            "object": self.object,
            "expected": self.expected,
            "actual": self.actual,
            "change": self.change,
            "message": self.message,
            "impact": list(self.impact),
            "evidence": self.evidence,
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in their one deterministic order: by object, then kind."""
    return sorted(findings, key=Finding.sort_key)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity label; every severity is present, most severe first."""
    out = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for finding in findings:
        out[finding.severity.label] += 1
    return out


def exit_code(findings: Iterable[Finding], fail_on: Severity = Severity.BREAKING) -> int:
    """1 when any finding is at or above ``fail_on``, else 0 (errors have their own codes)."""
    return EXIT_DRIFT if any(f.severity >= fail_on for f in findings) else EXIT_OK
