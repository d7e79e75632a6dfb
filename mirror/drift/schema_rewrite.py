"""Rewriting the schema file for production's state of the contracted relations.

:func:`updated_schema` keeps a relation without a DDL-relevant finding verbatim (statement and
comment), regenerates a changed one from the live catalog (a rename is followed to the relation
production has, a table that became a view is written as that view, a relation production has
only as a misquoted look-alike keeps its contracted name), removes a relation gone from
production, and leaves every other statement as it was. Statements are ordered so that foreign
key targets and the relations a view reads come first, so the file loads. Pure, apart from
:func:`write_schema`, which writes atomically.
"""

from __future__ import annotations

import difflib
import heapq
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mirror.catalog.findings import Finding
from mirror.catalog.model import Catalog, Relation, RelationKey, quote_ident, split_qualified_name
from mirror.drift.ddl import (
    NamedConstraint,
    ViewDefinition,
    relation_ddl,
    sequence_name,
)
from mirror.drift.relation_map import NOT_DDL, as_the_file_names_it, production_keys
from mirror.errors import UsageError
from mirror.files import write_atomic
from mirror.provision.schema import split_statements


@dataclass(frozen=True, slots=True)
class SchemaUpdate:
    """The new text of the schema file and what the rewrite did.

    ``relations`` maps each contracted relation to the relation the file now defines for it:
    production's (followed through a rename), the contracted one where production has only a
    misquoted look-alike, or None (gone in production, removed from the file); ``regenerated``
    lists the relations written from the live catalog; ``notes`` say what a reviewer should
    know.
    """

    text: str
    relations: Mapping[RelationKey, RelationKey | None]
    regenerated: tuple[RelationKey, ...] = ()
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- the schema file


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CREATE_RELATION = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:UNLOGGED|TEMP|TEMPORARY)\s+)?"
    r"(?:TABLE|VIEW|MATERIALIZED\s+VIEW|FOREIGN\s+TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)",
    re.I,
)
_CREATE_SCHEMA = re.compile(
    rf"^CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_IDENT})", re.I
)


def _ident(text: str) -> str:
    (name,) = split_qualified_name(text.strip())  # one identifier, as PostgreSQL reads it
    return name


def _split_name(text: str) -> RelationKey:
    parts = re.findall(_IDENT, text)
    if len(parts) == 1:
        return RelationKey("public", _ident(parts[0]))
    return RelationKey(_ident(parts[0]), _ident(parts[1]))


@dataclass(slots=True)
class _Unit:
    """One statement of the new file, with the comment lines that precede it."""

    order: int
    text: str
    comment: str = ""
    provides: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


def _relation_tag(key: RelationKey) -> str:
    return f"relation {key}"


def _schema_tag(schema: str) -> str:
    return f"schema {quote_ident(schema)}"


def updated_schema(
    source: str,
    expected: Catalog,
    actual: Catalog,
    findings: Iterable[Finding],
    views: Mapping[RelationKey, ViewDefinition] | None = None,
    *,
    constraints: Mapping[RelationKey, Sequence[NamedConstraint]] | None = None,
    extra: Catalog | None = None,
) -> SchemaUpdate:
    """The schema file ``source`` rewritten for production's state of the contracted relations.

    ``findings`` are the comparator's (before any policy: tolerating drift does not make the
    mirror faithful). Raises :class:`~mirror.errors.UsageError` when production has none of
    the contracted relations: rewriting would only empty the file. A relation production has
    only as a misquoted look-alike (``public."billig.event"`` for ``billig.event``) keeps its
    contracted name, with the look-alike's columns where they differ: the fix of a quoting
    confusion is on the reader's side, never a copy of the wrong name.

    ``views``, ``constraints`` and ``extra`` are what :func:`read_production` reads: view
    definitions, production's named constraints, and the relations the contracted views read
    that the file lacks (written too, so that a view is a view, with rows under it).
    """
    actual, found, look_alikes = as_the_file_names_it(actual, list(findings))
    views = views or {}
    constraints = constraints or {}
    notes: list[str] = [
        f"{key}: production has only the look-alike {found_as} (a dotted name quoted as one "
        f"identifier); the file keeps the name {key}"
        for key, found_as in sorted(look_alikes.items())
    ]
    mapping = production_keys(expected, actual, found)
    if expected.relations and all(v is None for v in mapping.values()):
        raise UsageError(
            "production has none of the contracted relations; not rewriting the schema file"
        )
    targets = {k: v for k, v in mapping.items() if v is not None}
    moved = {v for k, v in targets.items() if v != k}
    changed = {f.key for f in found if f.key is not None and f.kind not in NOT_DDL}

    # A file written by an earlier run already names a renamed relation by its new name.
    contracted_as = {v: k for k, v in targets.items() if v != k and v not in expected.relations}

    def contracted(text: str) -> RelationKey | None:
        key = _relation_of(text)
        return contracted_as.get(key, key) if key is not None else None

    header, statements, trailer = _parse(source)
    defined: set[RelationKey] = set(targets.values())
    for _, text in statements:
        key = contracted(text)
        if key is not None and key not in expected.relations:
            defined.add(key)  # a relation the file defines beyond the contract: kept as is
    extra_relations = extra.relations if extra is not None else {}
    added = sorted(k for k in extra_relations if k not in defined)
    defined.update(added)

    def deps(rel: Relation) -> set[RelationKey]:
        out = {fk.target for fk in rel.foreign_keys}
        view = views.get(rel.key)
        return out | set(view.depends_on if view else ())

    def verbatim(key: RelationKey) -> bool:
        target = targets.get(key)
        if target != key or key in changed:
            return False
        return all(d in defined and d not in moved for d in deps(actual.relations[key]))

    # Sequences that regenerated tables create themselves (serial columns): an earlier run's
    # statements for them are replaced, not repeated.
    sequences = {
        seq
        for key, target in targets.items()
        if not verbatim(key)
        for col in actual.relations[target].columns
        if (seq := sequence_name(col.default)) is not None
    }
    units: list[_Unit] = []
    regenerated: list[RelationKey] = []
    schemas_created: set[str] = set()
    placed: set[RelationKey] = set()

    def generate(key: RelationKey, order: int, comment: str) -> None:
        target = targets[key]
        emit(actual.relations[target], order, comment)

    def emit(rel: Relation, order: int, comment: str) -> None:
        target = rel.key
        text, why = relation_ddl(
            rel, defined=defined, view=views.get(target), constraints=constraints.get(target)
        )
        notes.extend(why)
        regenerated.append(target)
        # The comments generated with the statement replace their copies from an earlier run.
        generated = set(text.splitlines())
        kept = "\n".join(line for line in comment.splitlines() if line not in generated)
        units.append(_relation_unit(order, text, kept, target, deps(rel) & defined))

    for order, (comment, text) in enumerate(statements):
        key = contracted(text)
        schema = _schema_of(text)
        if _sequence_of(text) in sequences:
            continue
        if schema is not None:
            schemas_created.add(schema)
            units.append(_Unit(order, text, comment, (_schema_tag(schema),)))
        elif key is None:
            units.append(_Unit(order, text, comment))
        elif key not in expected.relations:
            units.append(_relation_unit(order, text, comment, key, set()))
        elif key in placed:
            continue  # a second CREATE of the same relation: the first one is rewritten
        elif targets.get(key) is None:
            placed.add(key)
            notes.append(f"{key} is gone in production: its statement was removed")
        elif verbatim(key):
            placed.add(key)
            units.append(_relation_unit(order, text, comment, key, deps(actual.relations[key])))
        else:
            placed.add(key)
            generate(key, order, comment)
    for key in expected.relations:
        if key not in placed and key in targets:
            generate(key, len(statements) + len(units), "")
        elif key not in placed:
            notes.append(f"{key} is gone in production (and was not in the file)")
    for key in added:
        emit(extra_relations[key], len(statements) + len(units), "")
        notes.append(f"{key} added: a view of the contract reads it")
    wanted = [*targets.values(), *added]
    wanted_schemas = {t.schema for t in wanted} - schemas_created - {"public"}
    for schema in sorted(wanted_schemas):
        units.append(
            _Unit(
                -1,
                f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)};",
                "",
                (_schema_tag(schema),),
            )
        )
    body = "\n\n".join((u.comment + "\n" if u.comment else "") + u.text for u in _ordered(units))
    text = header + body + "\n" + trailer
    return SchemaUpdate(
        text=text,
        relations=dict(mapping),
        regenerated=tuple(regenerated),
        notes=tuple(dict.fromkeys(notes)),
    )


def _relation_unit(
    order: int, text: str, comment: str, key: RelationKey, needs: Iterable[RelationKey]
) -> _Unit:
    tags = tuple(_relation_tag(d) for d in sorted(needs) if d != key)
    return _Unit(order, text, comment, (_relation_tag(key),), (_schema_tag(key.schema), *tags))


def _parse(source: str) -> tuple[str, list[tuple[str, str]], str]:
    """Header (everything before the first statement), statements with their comments, trailer."""
    statements: list[tuple[str, str]] = []
    cursor = 0
    header = ""
    for index, stmt in enumerate(split_statements(source)):
        start = source.find(stmt.text, cursor)
        if start < 0:  # cannot happen: statements are exact slices of the source
            raise UsageError(f"cannot locate the statement on line {stmt.line}")
        between = source[cursor:start]
        if index == 0:
            header = between
            comment = ""
        else:
            comment = "\n".join(
                line.rstrip() for line in between.strip("\n").splitlines() if line.strip()
            )
        statements.append((comment, stmt.text))
        cursor = start + len(stmt.text)
    trailer_lines = [line for line in source[cursor:].strip("\n").splitlines() if line.strip()]
    trailer = "\n".join(trailer_lines) + "\n" if trailer_lines else ""
    if trailer:
        trailer = "\n" + trailer
    return header, statements, trailer


def _relation_of(text: str) -> RelationKey | None:
    match = _CREATE_RELATION.match(text)
    return _split_name(match["name"]) if match else None


_CREATE_SEQUENCE = re.compile(
    r"^CREATE\s+SEQUENCE\s+IF\s+NOT\s+EXISTS\s+(?P<name>.+?)\s*;$", re.I | re.S
)


def _sequence_of(text: str) -> str | None:
    match = _CREATE_SEQUENCE.match(text)
    return match["name"] if match else None


def _schema_of(text: str) -> str | None:
    match = _CREATE_SCHEMA.match(text)
    return _ident(match["name"]) if match else None


def _ordered(units: list[_Unit]) -> Iterator[_Unit]:
    """Units in file order, except that what a unit needs comes before it (stable)."""
    providers: dict[str, int] = {}
    for i, unit in enumerate(units):
        for tag in unit.provides:
            providers.setdefault(tag, i)
    waiting = {
        i: {providers[t] for t in u.needs if t in providers and providers[t] != i}
        for i, u in enumerate(units)
    }
    blocked: dict[int, list[int]] = {}
    for i, needs in waiting.items():
        for j in needs:
            blocked.setdefault(j, []).append(i)
    ready = [(u.order, i) for i, u in enumerate(units) if not waiting[i]]
    heapq.heapify(ready)
    done: set[int] = set()
    while ready:
        _, i = heapq.heappop(ready)
        done.add(i)
        yield units[i]
        for j in blocked.get(i, ()):
            waiting[j].discard(i)
            if not waiting[j]:
                heapq.heappush(ready, (units[j].order, j))
    # A dependency cycle (cannot load anyway): keep the rest in file order rather than drop it.
    yield from sorted((u for i, u in enumerate(units) if i not in done), key=lambda u: u.order)


def schema_diff(old: str, new: str, name: str) -> str:
    """Unified diff of the schema file, empty when nothing changes."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{name} (now)",
            tofile=f"{name} (production)",
        )
    )


def write_schema(path: Path, update: SchemaUpdate) -> str:
    """Write the update to ``path`` atomically (only if it changes); return the diff."""
    old = path.read_text(encoding="utf-8")
    diff = schema_diff(old, update.text, path.name)
    if diff:
        write_atomic(path, update.text)
    return diff
