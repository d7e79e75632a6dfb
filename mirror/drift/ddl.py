"""DDL of one relation as production has it, and the production details it needs.

:func:`relation_ddl` writes the ``CREATE`` statement(s) of a table or view from the live catalog;
:func:`read_view_definitions` reads what a view is (read-only, bounded, like introspection).
Pure apart from the reading at the end.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass

from mirror.catalog.model import Kind, Relation, RelationKey, quote_ident
from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.sources.read_session import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    Timeouts,
    read_session,
)

VIEW_KINDS = frozenset({Kind.VIEW, Kind.MATERIALIZED_VIEW})
_WIDTH = 100


@dataclass(frozen=True, slots=True)
class ViewDefinition:
    """A view's SELECT (without the final semicolon) and the relations it reads."""

    key: RelationKey
    query: str
    depends_on: tuple[RelationKey, ...] = ()


# --------------------------------------------------------------------------- DDL (pure)


@dataclass(frozen=True, slots=True)
class NamedConstraint:
    """A constraint as production has it: name, kind (``p``, ``u``, ``x``, ``c``, ``f``),
    definition as PostgreSQL prints it, and a foreign key's target."""

    name: str
    kind: str
    definition: str
    target: RelationKey | None = None


def relation_ddl(
    rel: Relation,
    *,
    defined: Container[RelationKey],
    view: ViewDefinition | None = None,
    constraints: Sequence[NamedConstraint] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """``CREATE`` statement(s) for ``rel`` as production has it, and notes for a reviewer.

    ``defined`` is what the schema file defines: foreign keys to anything else are left out
    (named in a comment), and a view reading anything else becomes a stand-in with the same
    columns and no rows. With production's ``constraints`` (:func:`read_constraints`) their
    names and clauses are kept as they are; without, the catalog's keys, unique and CHECK
    constraints are written unnamed, for PostgreSQL to name as it named production's.
    """
    if rel.kind in VIEW_KINDS:
        return _view_ddl(rel, defined, view)
    if constraints is None:
        constraints = _catalog_constraints(rel)
    return _table_ddl(rel, defined, constraints)


def _catalog_constraints(rel: Relation) -> list[NamedConstraint]:
    found = [NamedConstraint("", "p", f"PRIMARY KEY {column_list(rel.primary_key)}")]
    found = found if rel.primary_key else []
    found += [NamedConstraint("", "u", f"UNIQUE {column_list(cols)}") for cols in rel.unique]
    # A domain's check ("billig.email: CHECK (...)") is the domain's, written with the domain.
    found += [
        NamedConstraint("", "c", check.definition)
        for check in rel.checks
        if check.definition.startswith("CHECK")
    ]
    found += [
        NamedConstraint(
            "",
            "f",
            f"FOREIGN KEY {column_list(fk.columns)} REFERENCES {fk.target} "
            f"{column_list(fk.target_columns)}",
            fk.target,
        )
        for fk in rel.foreign_keys
    ]
    return found


def _table_ddl(
    rel: Relation, defined: Container[RelationKey], constraints: Sequence[NamedConstraint]
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
    for constraint in constraints:
        clause = constraint.definition
        if constraint.target is not None and constraint.target not in defined:
            comments.append(
                _comment(
                    f"production also has {clause}; left out: {constraint.target} is not here."
                )
            )
            notes.append(
                f"{rel.key}: foreign key to {constraint.target} left out (not in the file)"
            )
            continue
        named = f"CONSTRAINT {quote_ident(constraint.name)} " if constraint.name else ""
        lines.append(named + clause)
    sequences = [sequence_name(c.default) for c in rel.columns if c.default]
    head = [f"CREATE SEQUENCE IF NOT EXISTS {s};" for s in dict.fromkeys(s for s in sequences if s)]
    body = ",\n".join(_wrap("    " + line) for line in lines)
    statement = f"CREATE TABLE {rel.key} (\n{body}\n);"
    return "\n".join([*comments, *head, statement]), tuple(notes)


def _comment(text: str) -> str:
    return "\n".join(textwrap.wrap(text, _WIDTH - 1, initial_indent="-- ", subsequent_indent="-- "))


def _wrap(line: str) -> str:
    if len(line) < _WIDTH or " REFERENCES " not in line:
        return line
    head, _, tail = line.partition(" REFERENCES ")
    return f"{head}\n        REFERENCES {tail}"


_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'::regclass\)$")


def sequence_name(default: str | None) -> str | None:
    match = _NEXTVAL.match(default or "")
    return match[1].replace("''", "'") if match else None


def column_list(columns: Sequence[str]) -> str:
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


def read_constraints(
    target: str | Dsn | SqlAlchemyUrl, keys: Iterable[RelationKey], bounds: Timeouts
) -> dict[RelationKey, tuple[NamedConstraint, ...]]:
    """Production's constraints of the relations ``keys`` (names and clauses as it prints them),
    read like :func:`read_view_definitions`."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    with read_session(target, bounds, what="reading constraints") as session:
        rows = session.run(
            "constraint_definitions",
            {"rel_schemas": [k.schema for k in wanted], "rel_names": [k.name for k in wanted]},
        )
    out: dict[RelationKey, list[NamedConstraint]] = {key: [] for key in wanted}
    for schema, name, conname, kind, definition, target_schema, target_name in rows:
        to = RelationKey(target_schema, target_name) if kind == "f" and target_name else None
        out[RelationKey(schema, name)].append(NamedConstraint(conname, kind, definition, to))
    return {key: tuple(found) for key, found in out.items()}
