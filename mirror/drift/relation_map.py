"""Which production relation holds each contracted relation now: renames followed, misquoted
look-alikes (``public."billig.event"`` for ``billig.event``) recognised. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import Catalog, RelationKey
from mirror.drift.ddl import VIEW_KINDS
from mirror.drift.policy import parse_object

# Findings that say nothing about the DDL of a relation.
NOT_DDL = frozenset({FindingKind.PRIVILEGE_MISSING, FindingKind.RELATION_ADDED})
FOLLOWED = frozenset({FindingKind.RELATION_RENAMED, FindingKind.QUOTING_CONFUSION})


def production_keys(
    expected: Catalog, actual: Catalog, findings: Iterable[Finding]
) -> dict[RelationKey, RelationKey | None]:
    """Each contracted relation → the production relation that now holds it (None: gone).

    A probable rename or a quoting confusion is followed to the relation it names.
    """
    followed: dict[RelationKey, RelationKey] = {}
    for f in findings:
        if f.kind in FOLLOWED and f.key is not None and f.actual:
            target = _key_of(f.actual)
            if target is not None and target in actual.relations:
                followed[f.key] = target
    out: dict[RelationKey, RelationKey | None] = {}
    for key in expected.relations:
        out[key] = key if key in actual.relations else followed.get(key)
    return out


def _key_of(text: str) -> RelationKey | None:
    try:
        parts = parse_object(text)
    except ValueError:
        return None
    if len(parts) != 2 or parts[0] is None or parts[1] is None:
        return None
    return RelationKey(parts[0], parts[1])


def misquoted_look_alikes(
    actual: Catalog, findings: Iterable[Finding]
) -> dict[RelationKey, RelationKey]:
    """Contracted relation → the misquoted look-alike production has instead of it.

    Only quoting confusions where production's name is the wrong one: a dotted single
    identifier (``public."billig.event"``) standing for the schema-qualified relation the
    contract names (``billig.event``). The schema file never copies such a name.
    """
    out: dict[RelationKey, RelationKey] = {}
    for f in findings:
        if f.kind is FindingKind.QUOTING_CONFUSION and f.key is not None and f.actual:
            found = _key_of(f.actual)
            if (
                found is not None
                and found in actual.relations
                and found.name == f"{f.key.schema}.{f.key.name}"
            ):
                out[f.key] = found
    return out


def _named_as_contracted(
    actual: Catalog, look_alikes: Mapping[RelationKey, RelationKey]
) -> Catalog:
    """Production with each misquoted look-alike under its contracted name, and foreign keys
    to it following (the view definitions that read it still name it: they are not used)."""
    back = {found: key for key, found in look_alikes.items()}
    relations = []
    for rel in actual:
        fks = tuple(replace(fk, target=back.get(fk.target, fk.target)) for fk in rel.foreign_keys)
        if rel.key in back or fks != rel.foreign_keys:
            rel = replace(rel, key=back.get(rel.key, rel.key), foreign_keys=fks)
        relations.append(rel)
    return Catalog.of(relations, actual.schemas | {k.schema for k in look_alikes})


def as_the_file_names_it(
    actual: Catalog, findings: list[Finding]
) -> tuple[Catalog, list[Finding], dict[RelationKey, RelationKey]]:
    """Production and findings as the schema file sees them: misquoted look-alikes under their
    contracted names, their confusion no reason by itself to rewrite a statement (the column
    differences the comparator found in them still are)."""
    look_alikes = misquoted_look_alikes(actual, findings)
    if not look_alikes:
        return actual, findings, look_alikes
    kept = [
        f
        for f in findings
        if not (f.kind is FindingKind.QUOTING_CONFUSION and f.key in look_alikes)
    ]
    return _named_as_contracted(actual, look_alikes), kept, look_alikes


def views_to_read(
    expected: Catalog, actual: Catalog, findings: Iterable[Finding]
) -> list[RelationKey]:
    """Production views whose definitions a schema update needs."""
    named, found, look_alikes = as_the_file_names_it(actual, list(findings))
    keys = production_keys(expected, named, found)
    return sorted(
        k
        for k in keys.values()
        if k is not None and k not in look_alikes and named.relations[k].kind in VIEW_KINDS
    )
