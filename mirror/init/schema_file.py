"""The schema file a mirror is loaded from: found in the project, or written from a database.

:func:`find_schema_file` looks through the project's ``.sql`` files for the one that creates the
relations the site reads. :func:`schema_from_database` writes one from a live database's
catalog (production, typically): every relation of the given schemas with production's names,
columns, defaults, primary keys, unique and foreign keys, sequences behind ``nextval`` defaults,
and views with their own definitions, ordered so that the file loads. Reading is the drift
check's: one bounded, read-only session for the catalog, one for the view definitions.
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from mirror.catalog.model import Kind, RelationKey, quote_ident
from mirror.errors import UsageError
from mirror.init.detect import SKIPPED_FOLDERS

DEFAULT_SCHEMA_FILE = Path("schema") / "billig.sql"
_MAX_SCHEMA_BYTES = 64 * 1024 * 1024
_VIEWS = frozenset({Kind.VIEW, Kind.MATERIALIZED_VIEW})


def _sql_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*.sql")):
        parts = path.relative_to(root).parts[:-1]
        if any(p in SKIPPED_FOLDERS or p.startswith(".") for p in parts):
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_SCHEMA_BYTES:
            yield path


def _creates_schema(text: str, schema: str) -> bool:
    spelt = rf"(?:{re.escape(quote_ident(schema))}|\"{re.escape(schema)}\")"
    pattern = rf"CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?{spelt}(?![\w$])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def find_schema_file(
    root: Path, relations: Sequence[RelationKey], schemas: Sequence[str]
) -> Path | None:
    """The project's ``.sql`` file creating most of ``relations`` (without relations: one
    creating a schema of ``schemas``); None when no file does."""
    from mirror.provision.schema import created_relations

    best: tuple[int, int, Path] | None = None
    for path in _sql_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if relations:
            if not re.search(r"\bCREATE\b", text, re.IGNORECASE):
                continue  # no DDL: not worth parsing
            # Read by PostgreSQL's parser: quoting, a search_path set first, views included.
            created = created_relations(path, views=True) or frozenset()
            score = sum(key in created for key in relations)
        else:
            score = sum(
                re.search(
                    rf"CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?{re.escape(s)}\b", text, re.I
                )
                is not None
                for s in schemas
            )
        if score and (best is None or (-score, len(path.parts)) < best[:2]):
            best = (-score, len(path.parts), path)
    return best[2] if best else None


def schema_from_database(dsn: str, schemas: Sequence[str]) -> str:
    """The DDL of every relation of ``schemas`` in the database at ``dsn``, loadable as is.

    A schema that does not exist is a :class:`~mirror.errors.UsageError` (a typo never writes
    an empty file); unreachable or unreadable databases raise what the drift check raises.
    """
    from mirror.drift.suggest import read_view_definitions, relation_ddl
    from mirror.secrets import redact
    from mirror.sources.introspect import introspect

    catalog = introspect(dsn, schemas=list(schemas), namesakes=False).catalog
    missing = sorted(set(schemas) - catalog.schemas)
    if missing:
        raise UsageError(f"schema {missing[0]!r} does not exist in {redact(dsn)}")
    relations = {k: r for k, r in catalog.relations.items() if k.schema in schemas}
    views = read_view_definitions(dsn, [k for k, r in relations.items() if r.kind in _VIEWS])
    order = graphlib.TopologicalSorter(
        {
            key: sorted(
                {
                    fk.target
                    for fk in rel.foreign_keys
                    if fk.target in relations and fk.target != key
                }
                | {d for d in (views[key].depends_on if key in views else ()) if d in relations}
            )
            for key, rel in sorted(relations.items())
        }
    )
    try:
        ordered = list(order.static_order())
    except graphlib.CycleError as exc:
        cycle = " → ".join(str(k) for k in exc.args[1])
        raise UsageError(
            f"the relations of {', '.join(schemas)} refer to each other in a cycle ({cycle}); "
            "write the schema file by hand (pg_dump --schema-only)"
        ) from None
    parts = [
        f"-- Billig schema(s) {', '.join(schemas)} as {redact(dsn)} has them",
        "-- (written by billig init --schema-from; the mirror is loaded from this file).",
        "",
        *(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(s)};" for s in schemas),
        *_type_ddl(dsn, schemas),
    ]
    for key in ordered:
        ddl, _ = relation_ddl(relations[key], defined=relations, view=views.get(key))
        parts += ["", ddl]
    return "\n".join(parts) + "\n"


def _type_ddl(dsn: str, schemas: Sequence[str]) -> list[str]:
    """``CREATE TYPE … AS ENUM`` and ``CREATE DOMAIN`` for the enums and domains of
    ``schemas``, in the order production created them: the tables' columns use them."""
    from mirror.sources.read_session import Timeouts, read_session

    with read_session(dsn, Timeouts(), what="reading types") as session:
        rows = session.run("type_definitions", {"schemas": list(schemas)})
    out: list[str] = [""] if rows else []
    for schema, name, kind, labels, base, not_null, default, checks in rows:
        key = f"{quote_ident(schema)}.{quote_ident(name)}"
        if kind == "e":
            listed = ", ".join(_literal(label) for label in labels)
            out.append(f"CREATE TYPE {key} AS ENUM ({listed});")
            continue
        clauses = [f"CREATE DOMAIN {key} AS {base}"]
        if default is not None:
            clauses.append(f"DEFAULT {default}")
        if not_null:
            clauses.append("NOT NULL")
        clauses += list(checks)
        out.append("\n    ".join(clauses) + ";")
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
