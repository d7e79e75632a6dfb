"""Fixing help: the ``schema/billig.sql`` and model changes that follow production's state.

After a drift check, :func:`~mirror.drift.schema_rewrite.updated_schema` rewrites the schema
file (:mod:`mirror.drift.ddl` writes each relation), and
:func:`~mirror.drift.model_lines.model_changes` lists the model lines the site needs, in its own
framework. This module renders both as the text of ``--suggest`` and ``--write-schema``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mirror.catalog.findings import Finding
from mirror.catalog.model import Catalog, Relation, RelationKey
from mirror.drift.ddl import (
    VIEW_KINDS,
    NamedConstraint,
    ViewDefinition,
    read_constraints,
    read_view_definitions,
    relation_ddl,
)
from mirror.drift.model_lines import ModelChange, model_changes
from mirror.drift.relation_map import production_keys, views_to_read
from mirror.drift.schema_rewrite import SchemaUpdate, schema_diff, updated_schema, write_schema
from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.sources.read_session import Timeouts

__all__ = [
    "ModelChange",
    "ProductionDetails",
    "SchemaUpdate",
    "ViewDefinition",
    "model_changes",
    "production_keys",
    "read_production",
    "read_view_definitions",
    "relation_ddl",
    "render_suggestions",
    "schema_diff",
    "updated_schema",
    "views_to_read",
    "write_schema",
]


@dataclass(frozen=True, slots=True)
class ProductionDetails:
    """What rewriting the schema file reads of production beyond the drift check's catalog."""

    views: Mapping[RelationKey, ViewDefinition]
    constraints: Mapping[RelationKey, tuple[NamedConstraint, ...]]
    extra: Catalog  # relations the contracted views read (at any depth) the check did not


def read_production(
    target: str | Dsn | SqlAlchemyUrl,
    expected: Catalog,
    actual: Catalog,
    findings: Iterable[Finding],
    bounds: Timeouts,
) -> ProductionDetails:
    """The definitions of the views the rewrite writes, the relations they read (so that a
    view is written as a view, over tables with rows), and production's named constraints of
    every relation it may write; read-only and bounded like the drift check."""
    from mirror.sources.introspect import introspect

    def definitions(keys: Iterable[RelationKey]) -> dict[RelationKey, ViewDefinition]:
        return read_view_definitions(
            target,
            keys,
            statement_timeout_ms=bounds.statement_ms,
            lock_timeout_ms=bounds.lock_ms,
            connect_timeout_s=bounds.connect_s,
        )

    views = definitions(views_to_read(expected, actual, findings))
    known = set(actual.relations)
    extra: dict[RelationKey, Relation] = {}
    pending = {d for v in views.values() for d in v.depends_on} - known
    while pending:
        read = introspect(target, relations=pending, namesakes=False, timeouts=bounds).catalog
        found = {k: r for k, r in read.relations.items() if k in pending}
        extra.update(found)
        known |= set(pending)
        more = definitions(k for k, r in found.items() if r.kind in VIEW_KINDS)
        views = {**views, **more}
        pending = {d for v in more.values() for d in v.depends_on} - known
    constraints = read_constraints(target, [*actual.relations, *extra], bounds)
    return ProductionDetails(views, constraints, Catalog.of(extra.values()))


def render_suggestions(
    update: SchemaUpdate | None,
    diff: str,
    changes: Sequence[ModelChange],
    *,
    schema_name: str = "schema/billig.sql",
    models_file: str = "the site's models",
    written: bool = False,
) -> str:
    """The text of ``--suggest`` (and of ``--write-schema``): the schema diff, notes, models."""
    lines = []
    if update is not None:
        if not diff:
            lines.append(f"{schema_name}: already production's state for the contracted relations")
        else:
            verb = "rewritten" if written else "suggested edit (apply with --write-schema)"
            lines.append(f"{schema_name}: {verb}")
            lines.append(diff.rstrip("\n"))
        for note in update.notes:
            lines.append(f"  note: {note}")
        lines.append("")
    if changes:
        lines.append(f"model fields ({models_file}):")
        current = None
        for c in changes:
            if (c.model, c.relation) != current:
                current = (c.model, c.relation)
                lines.append(f"  {c.model} ({c.relation}):")
            lines.append(f"      {c.line}")
            lines.append(f"          # {c.why}")
    else:
        lines.append("model fields: no change needed")
    return "\n".join(lines) + "\n"
