"""Columns through views: where each view column comes from and whether it can be NULL.

PostgreSQL reports every view column as nullable and keeps no origin for it. This module works
both out from the view definitions (``pg_get_viewdef``, parsed by PostgreSQL's own parser through
pglast) and the catalog of the relations they read: a column's *origin* is the base table column
it passes through unchanged (through joins, aliases, casts, subqueries and nested views), or an
expression; its *nullability* is what the view produces. A NOT NULL base column stays non-null
through an inner join and gains it from a filter that rejects NULL (``IS NOT NULL``, a strict
comparison); the nullable side of an outer join, ``CASE`` without a non-null ``ELSE`` and most
functions make it nullable; ``COALESCE``/``GREATEST``/``LEAST`` with a non-null argument are
non-null. What the analysis cannot follow (an unknown relation, a set-returning function, a
recursive query, a node it does not know) stays unknown, never guessed. Pure: no database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from mirror.catalog.model import Catalog, Column, Kind, Relation, RelationKey
from mirror.catalog.views.analysis import Analysis
from mirror.catalog.views.values import VIEW_KINDS, ViewColumn

__all__ = ["VIEW_KINDS", "ViewColumn", "derive_views", "with_view_columns", "with_view_sources"]


def derive_views(
    catalog: Catalog, definitions: Mapping[RelationKey, str]
) -> dict[RelationKey, tuple[ViewColumn, ...]]:
    """Origin and nullability of every column of every view of ``catalog`` with a definition.

    ``catalog`` must hold the relations the views read (tables with their nullability, nested
    views with their column names); a relation it lacks leaves what comes from it unknown.
    """
    analysis = Analysis(catalog, definitions)
    return {
        rel.key: analysis.view(rel.key)
        for rel in catalog
        if rel.kind in VIEW_KINDS and rel.key in definitions
    }


def with_view_columns(catalog: Catalog, definitions: Mapping[RelationKey, str]) -> Catalog:
    """``catalog`` with each analysed view column carrying its origin and derived nullability."""
    return _with_derived(catalog, derive_views(catalog, definitions))


def _with_derived(
    catalog: Catalog, derived: Mapping[RelationKey, tuple[ViewColumn, ...]]
) -> Catalog:
    if not derived:
        return catalog
    relations = {}
    for key, rel in catalog.relations.items():
        found = derived.get(key)
        if found is not None:
            columns = tuple(
                replace(col, nullable=d.nullable, origin=d.origin)
                for col, d in zip(rel.columns, found, strict=True)
            )
            rel = replace(rel, columns=columns)
        relations[key] = rel
    return Catalog(relations, catalog.schemas, catalog.lineage)


# --------------------------------------------------------------------------- live catalogs

# A row of ``view_sources.sql``: schema, name, relkind, definition (views), columns, NOT NULLs.
SourceRow = tuple[str, str, str, str | None, Sequence[str], Sequence[bool]]
_VIEW_RELKINDS = {"v": Kind.VIEW, "m": Kind.MATERIALIZED_VIEW}


def with_view_sources(catalog: Catalog, rows: Iterable[SourceRow]) -> Catalog:
    """``catalog`` with its views analysed from the rows of ``view_sources.sql``.

    The rows bring the definitions and the relations the views read, also those outside the
    catalog's scope; only the catalog's own relations are returned.
    """
    definitions: dict[RelationKey, str] = {}
    extra: list[Relation] = []
    for schema, name, relkind, definition, names, not_null in rows:
        key = RelationKey(schema, name)
        if definition is not None:
            definitions[key] = definition
        if catalog.get(key) is None:
            kind = _VIEW_RELKINDS.get(relkind, Kind.TABLE)
            nullable = [None if kind in VIEW_KINDS else not n for n in not_null]
            columns = tuple(Column(c, "", f) for c, f in zip(names, nullable, strict=True))
            extra.append(Relation(key, kind, columns))
    derived = derive_views(Catalog.of([*catalog, *extra]), definitions)
    return _with_derived(catalog, derived)
