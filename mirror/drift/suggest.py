"""Fixing help: the ``schema/billig.sql`` and model changes that follow production's state.

After a drift check, :func:`updated_schema` rewrites the schema file for the contracted
relations as production has them now: a relation without a DDL-relevant finding keeps its
statement (and comment) verbatim, a changed one is regenerated from the live catalog (a rename
is followed to the relation production has, a table that became a view is written as that
view, a relation production has only as a misquoted look-alike keeps its contracted name), a
relation gone from production is removed, and every other statement of the file stays as it
was. Statements are ordered so that foreign key targets and the relations a
view reads come first, so the file loads. :func:`model_changes` lists the SQLAlchemy
``mapped_column`` lines (and renamed tables) the Billig models need for the same state. Both are
pure functions of the drift findings and catalogs; the only I/O here is reading view
definitions (read-only, bounded, like introspection) and writing the schema file atomically
with a unified diff.
"""

from __future__ import annotations

import difflib
import heapq
import re
import textwrap
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import Catalog, Kind, Relation, RelationKey, quote_ident
from mirror.drift.policy import parse_object
from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import UsageError
from mirror.files import write_atomic
from mirror.provision.schema import split_statements
from mirror.sources.read_session import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    Timeouts,
    read_session,
)
from mirror.sources.site import SiteModel, SiteSource

_VIEW_KINDS = frozenset({Kind.VIEW, Kind.MATERIALIZED_VIEW})
# Findings that say nothing about the DDL of a relation.
_NOT_DDL = frozenset({FindingKind.PRIVILEGE_MISSING, FindingKind.RELATION_ADDED})
_FOLLOWED = frozenset({FindingKind.RELATION_RENAMED, FindingKind.QUOTING_CONFUSION})
_MAX_IDENT_BYTES = 63
_WIDTH = 100


@dataclass(frozen=True, slots=True)
class ViewDefinition:
    """A view's SELECT (without the final semicolon) and the relations it reads."""

    key: RelationKey
    query: str
    depends_on: tuple[RelationKey, ...] = ()


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


@dataclass(frozen=True, slots=True)
class ModelChange:
    """One change to a Billig model: a line of Python to put in (or a removal), and why."""

    model: str  # class name, e.g. "BilligPriceGroup"
    relation: RelationKey
    line: str
    why: str


# --------------------------------------------------------------------------- relation mapping


def production_keys(
    expected: Catalog, actual: Catalog, findings: Iterable[Finding]
) -> dict[RelationKey, RelationKey | None]:
    """Each contracted relation → the production relation that now holds it (None: gone).

    A probable rename or a quoting confusion is followed to the relation it names.
    """
    followed: dict[RelationKey, RelationKey] = {}
    for f in findings:
        if f.kind in _FOLLOWED and f.key is not None and f.actual:
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


def _as_the_file_names_it(
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
    named, found, look_alikes = _as_the_file_names_it(actual, list(findings))
    keys = production_keys(expected, named, found)
    return sorted(
        k
        for k in keys.values()
        if k is not None and k not in look_alikes and named.relations[k].kind in _VIEW_KINDS
    )


# --------------------------------------------------------------------------- DDL (pure)


def relation_ddl(
    rel: Relation,
    *,
    defined: Container[RelationKey],
    view: ViewDefinition | None = None,
    taken: set[str] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """``CREATE`` statement(s) for ``rel`` as production has it, and notes for a reviewer.

    ``defined`` is what the schema file defines: foreign keys to anything else are left out
    (named in a comment), and a view reading anything else becomes a stand-in with the same
    columns and no rows. ``taken`` collects constraint names so that generated ones stay unique.
    """
    if rel.kind in _VIEW_KINDS:
        return _view_ddl(rel, defined, view)
    return _table_ddl(rel, defined, set() if taken is None else taken)


def _table_ddl(
    rel: Relation, defined: Container[RelationKey], taken: set[str]
) -> tuple[str, tuple[str, ...]]:
    notes: list[str] = []
    comments: list[str] = []
    if rel.kind is not Kind.TABLE:
        what = rel.kind.value.replace("_", " ")
        comments.append(_comment(f"production: a {what}; written as a plain table."))
        notes.append(f"{rel.key} is a {what} in production; the file has it as a plain table")
    lines = []
    for col in rel.columns:
        line = f"{quote_ident(col.name)} {col.type}"
        if col.default is not None:
            line += f" DEFAULT {col.default}"
        if col.nullable is False:
            line += " NOT NULL"
        lines.append(line)
    if rel.primary_key:
        lines.append(_named(taken, f"{rel.key.name}_pkey", f"PRIMARY KEY {_cols(rel.primary_key)}"))
    for cols in rel.unique:
        name = f"{rel.key.name}_{'_'.join(cols)}_key"
        lines.append(_named(taken, name, f"UNIQUE {_cols(cols)}"))
    for fk in rel.foreign_keys:
        clause = (
            f"FOREIGN KEY {_cols(fk.columns)} REFERENCES {fk.target} {_cols(fk.target_columns)}"
        )
        if fk.target not in defined:
            comments.append(
                _comment(f"production also has {clause}; left out: {fk.target} is not here.")
            )
            notes.append(f"{rel.key}: foreign key to {fk.target} left out (not in the file)")
            continue
        name = f"{rel.key.name}_{'_'.join(fk.columns)}_fkey"
        lines.append(_named(taken, name, clause))
    sequences = [_sequence(c.default) for c in rel.columns if c.default]
    head = [f"CREATE SEQUENCE IF NOT EXISTS {s};" for s in dict.fromkeys(s for s in sequences if s)]
    body = ",\n".join(_wrap("    " + line) for line in lines)
    statement = f"CREATE TABLE {rel.key} (\n{body}\n);"
    return "\n".join([*comments, *head, statement]), tuple(notes)


def _comment(text: str) -> str:
    return "\n".join(textwrap.wrap(text, _WIDTH - 1, initial_indent="-- ", subsequent_indent="-- "))


def _named(taken: set[str], name: str, clause: str) -> str:
    # PostgreSQL's own default names, where they fit and are unique, keep diffs small.
    if len(name.encode()) > _MAX_IDENT_BYTES or name in taken:
        return clause
    taken.add(name)
    return f"CONSTRAINT {quote_ident(name)} {clause}"


def _wrap(line: str) -> str:
    if len(line) < _WIDTH or " REFERENCES " not in line:
        return line
    head, _, tail = line.partition(" REFERENCES ")
    return f"{head}\n        REFERENCES {tail}"


_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'::regclass\)$")


def _sequence(default: str | None) -> str | None:
    match = _NEXTVAL.match(default or "")
    return match[1].replace("''", "'") if match else None


def _cols(columns: Sequence[str]) -> str:
    return "(" + ", ".join(quote_ident(c) for c in columns) + ")"


def _view_ddl(
    rel: Relation, defined: Container[RelationKey], view: ViewDefinition | None
) -> tuple[str, tuple[str, ...]]:
    create = "CREATE MATERIALIZED VIEW" if rel.kind is Kind.MATERIALIZED_VIEW else "CREATE VIEW"
    outside = [] if view is None else [d for d in view.depends_on if d not in defined]
    if view is not None and not outside:
        query = view.query.rstrip().rstrip(";").rstrip()
        return f"{create} {rel.key} AS\n{query};", ()
    if view is None:
        why = "its definition was not read"
    else:
        why = f"it reads {', '.join(str(d) for d in outside)}, which this file does not define"
    columns = ",\n           ".join(f"NULL::{c.type} AS {quote_ident(c.name)}" for c in rel.columns)
    text = (
        _comment(f"production: {why}; a stand-in with production's columns and no rows.")
        + f"\n{create} {rel.key} AS\n    SELECT {columns}\n     WHERE false;"
    )
    return text, (f"{rel.key} is written as a stand-in view: {why}",)


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
    text = text.strip()
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


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
) -> SchemaUpdate:
    """The schema file ``source`` rewritten for production's state of the contracted relations.

    ``findings`` are the comparator's (before any policy: tolerating drift does not make the
    mirror faithful). Raises :class:`~mirror.errors.UsageError` when production has none of
    the contracted relations: rewriting would only empty the file. A relation production has
    only as a misquoted look-alike (``public."billig.event"`` for ``billig.event``) keeps its
    contracted name, with the look-alike's columns where they differ: the fix of a quoting
    confusion is on the reader's side, never a copy of the wrong name.
    """
    actual, found, look_alikes = _as_the_file_names_it(actual, list(findings))
    views = views or {}
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
    changed = {f.key for f in found if f.key is not None and f.kind not in _NOT_DDL}

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
        if (seq := _sequence(col.default)) is not None
    }
    units: list[_Unit] = []
    regenerated: list[RelationKey] = []
    taken: set[str] = set()
    schemas_created: set[str] = set()
    placed: set[RelationKey] = set()

    def generate(key: RelationKey, order: int, comment: str) -> None:
        target = targets[key]
        rel = actual.relations[target]
        text, why = relation_ddl(rel, defined=defined, view=views.get(target), taken=taken)
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
    wanted_schemas = {t.schema for t in targets.values()} - schemas_created - {"public"}
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
        if key is None or key not in expected.relations or f.kind in _NOT_DDL:
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
    if f.kind in _FOLLOWED and target is not None:
        return [change(line, f.message) for line in site.table_name(model, target)]
    if f.kind is FindingKind.RELATION_KIND_CHANGED:
        if rel.kind in _VIEW_KINDS:
            return [
                change(
                    '__mapper_args__ = {"primary_key": [...]}  # a view has no primary key',
                    f.message,
                )
            ]
        return [change(f"primary key in the database: {_cols(rel.primary_key)}", f.message)]
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
        server_default=f.kind is FindingKind.DEFAULT_CHANGED,
    )
    if f.kind is FindingKind.COLUMN_ADDED:
        return [change(line, f"{f.message}; add it only if the site needs it")]
    return [change(line, f.message + readers)]


# --------------------------------------------------------------------------- rendering


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


# --------------------------------------------------------------------------- reading views


def read_view_definitions(
    target: str | Dsn | SqlAlchemyUrl,
    keys: Iterable[RelationKey],
    *,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> dict[RelationKey, ViewDefinition]:
    """Definitions of the views ``keys``, read in the drift check's kind of session.

    The same read-only, bounded session as introspection (:func:`read_session`): deparsing a
    view takes a share lock on the relations it reads, so a table locked by another session
    makes it wait at most ``lock_timeout_ms``; every failure is exit 3, never the password.
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    bounds = Timeouts(statement_timeout_ms, lock_timeout_ms, connect_timeout_s)
    with read_session(target, bounds, what="reading view definitions") as session:
        rows = session.run(
            "view_definitions",
            {"rel_schemas": [k.schema for k in wanted], "rel_names": [k.name for k in wanted]},
        )
    return {
        RelationKey(schema, name): ViewDefinition(
            RelationKey(schema, name),
            query,
            tuple(RelationKey(s, n) for s, n in zip(dep_schemas, dep_names, strict=True)),
        )
        for schema, name, query, dep_schemas, dep_names in rows
    }
