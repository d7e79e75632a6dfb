"""Model lines: what the site's models need for production's state, in the site's framework.

The site source writes each line (:meth:`~mirror.sources.site.SiteSource.model_field`,
``table_name``, and ``relation_kind`` where it has one); this module decides which findings
need one. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import Catalog, Relation, RelationKey, quote_ident
from mirror.drift.ddl import VIEW_KINDS, column_list
from mirror.drift.relation_map import FOLLOWED, NOT_DDL, production_keys
from mirror.sources.site import SiteModel, SiteSource


@dataclass(frozen=True, slots=True)
class ModelChange:
    """One change to a Billig model: a line of Python to put in (or a removal), and why."""

    model: str  # class name, e.g. "BilligPriceGroup"
    relation: RelationKey
    line: str
    why: str


# --------------------------------------------------------------------------- models (pure)


def _attribute_name(column: str) -> str:
    name = re.sub(r"\W", "_", column.lower())
    return name if name and not name[0].isdigit() else f"c_{name}"


def model_changes(
    expected: Catalog,
    actual: Catalog,
    findings: Iterable[Finding],
    site: SiteSource,
) -> list[ModelChange]:
    """What the site's models reading contracted relations need for production's state.

    The site source writes the lines in its framework. Renamed or moved relations get their
    new table name (and schema); a relation gone
    or a column gone is a removal; renamed, retyped, re-nulled or re-defaulted columns get
    their new field declaration (keeping the attribute name); new columns a line to add
    if the site needs them. Privileges and relation additions need no model change.
    """
    found = list(findings)
    mapping = production_keys(expected, actual, found)
    by_relation: dict[RelationKey, list[SiteModel]] = {}
    for model in site.models():
        by_relation.setdefault(model.relation, []).append(model)
    out: list[ModelChange] = []
    for f in found:
        key = f.key
        if key is None or key not in expected.relations or f.kind in NOT_DDL:
            continue
        target = mapping.get(key)
        rel = actual.relations.get(target) if target is not None else None
        for model in by_relation.get(key, ()):
            out += _model_change(site, f, model, key, target, rel)
    return list(dict.fromkeys(out))


def _model_change(
    site: SiteSource,
    f: Finding,
    model: SiteModel,
    key: RelationKey,
    target: RelationKey | None,
    rel: Relation | None,
) -> list[ModelChange]:
    readers = f"; read by {', '.join(f.impact)}" if f.impact else ""

    def change(line: str, why: str) -> ModelChange:
        return ModelChange(model.name, key, line, why)

    if f.kind in (FindingKind.RELATION_MISSING, FindingKind.SCHEMA_MISSING) or rel is None:
        return [change("remove the model (or stop reading it)", f"{key} is gone{readers}")]
    if f.kind in FOLLOWED and target is not None:
        return [change(line, f.message) for line in site.table_name(model, target)]
    if f.kind is FindingKind.RELATION_KIND_CHANGED:
        lines = site.relation_kind(model, rel) if hasattr(site, "relation_kind") else None
        if lines is None:  # a site without the capability: what to do, in words
            lines = [_kind_advice(rel)]
        return [change(line, f.message) for line in lines]
    if f.column is None:
        return []  # key changes: read-only models need no change
    if f.kind is FindingKind.COLUMN_MISSING:
        attribute = model.columns.get(f.column, (f.column, True))[0]
        return [change(f"remove {attribute} (column {quote_ident(f.column)})", f.message + readers)]
    name = f.actual if f.kind is FindingKind.COLUMN_RENAMED and f.actual else f.column
    column = rel.column(name)
    if column is None:
        return []
    attribute, model_nullable = model.columns.get(f.column, (_attribute_name(name), True))
    nullable = model_nullable if column.nullable is None else column.nullable
    line = site.model_field(
        attribute,
        column,
        nullable=nullable,
        primary_key=column.name in rel.primary_key,
        # Only a default that exists is one to declare: a removed default is not.
        server_default=f.kind is FindingKind.DEFAULT_CHANGED and column.default is not None,
    )
    if f.kind is FindingKind.COLUMN_ADDED:
        return [change(line, f"{f.message}; add it only if the site needs it")]
    return [change(line, f.message + readers)]


def _kind_advice(rel: Relation) -> str:
    if rel.kind in VIEW_KINDS:
        return "read it as before; a view has no primary key: keep the model's on unique columns"
    return (
        f"production's primary key is {column_list(rel.primary_key) if rel.primary_key else 'none'}"
    )
