"""The one comparator: two :class:`~mirror.catalog.model.Catalog` values in, sorted findings out.

``compare_catalogs(expected, actual)`` serves every check: the nightly drift (contract against
production), ``schema.sql`` against the contract, and the models against the contract (with
``report_added=False``, "subset" semantics). It is pure: small functions, one per object kind,
each returning :class:`~mirror.catalog.findings.Finding` values, one module per concept:
:mod:`.flow` (the order of comparing), :mod:`.impact` (severity from the readers' lineage),
:mod:`.renames` (probable renames, moves and quoting confusions, recognised before anything is
called missing), :mod:`.relations`, :mod:`.keys`, :mod:`.checks` (CHECK constraints),
:mod:`.columns` and :mod:`.types` (type changes, enum labels, domain base types). Whether a
model can read what the contract pins builds on it: :mod:`mirror.catalog.reads`.
"""

from __future__ import annotations

from mirror.catalog.compare.flow import compare_catalogs
from mirror.catalog.compare.renames import RENAME_THRESHOLD, confusable_keys
from mirror.catalog.compare.types import TypeChange, classify_type_change

__all__ = [
    "RENAME_THRESHOLD",
    "TypeChange",
    "classify_type_change",
    "compare_catalogs",
    "confusable_keys",
]
