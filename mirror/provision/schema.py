"""Loading ``schema/billig.sql`` (or any DDL file) into a database, statement by statement.

The file runs in one transaction; a failing statement is reported with its file, line and the
server's message, and nothing of the file stays behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from mirror.errors import DatabaseError, SchemaLoadError


def schema_file() -> Path:
    """The configured schema file (``[tool.billig] schema``, default ``schema/billig.sql``)."""
    from mirror.config import load_config

    path = load_config().schema
    if not path.is_file():
        raise SchemaLoadError(
            f"{path}: schema file not found (set [tool.billig] schema in pyproject.toml)"
        )
    return path


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    line: int  # 1-based line of the statement's first character


_DOLLAR = re.compile(r"\$[A-Za-z_0-9]*\$")


def split_statements(source: str) -> Iterator[Statement]:
    """Split SQL on top-level semicolons, respecting quotes, dollar quotes and comments."""
    i, n, start, line, start_line = 0, len(source), 0, 1, 1
    seen_code = False
    while i < n:
        ch = source[i]
        if ch == "\n":
            line += 1
        if ch == "-" and source.startswith("--", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += source.count("\n", i, end)
            i = end
            continue
        if not seen_code and not ch.isspace():
            seen_code, start, start_line = True, i, line
        if ch in "'\"":
            end = i + 1
            while end < n:
                if source[end] == ch:
                    if source.startswith(ch * 2, end):
                        end += 2
                        continue
                    break
                end += 1
            line += source.count("\n", i, end)
            i = end + 1
            continue
        if ch == "$":
            match = _DOLLAR.match(source, i)
            if match:
                end = source.find(match.group(), match.end())
                end = n if end < 0 else end + len(match.group())
                line += source.count("\n", i, end)
                i = end
                continue
        if ch == ";":
            if seen_code:
                yield Statement(source[start : i + 1].strip(), start_line)
            seen_code = False
        i += 1
    if seen_code and source[start:].strip():
        yield Statement(source[start:].strip(), start_line)


def load_schema(conn: psycopg2.extensions.connection, path: Path | None = None) -> int:
    """Run every statement of ``path`` in one transaction; return how many ran."""
    path = path or schema_file()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaLoadError(f"{path}: cannot read ({exc})") from None
    statements = list(split_statements(source))
    if not statements:
        raise SchemaLoadError(f"{path}: contains no SQL statement")
    conn.rollback()
    with conn.cursor() as cur:
        for stmt in statements:
            try:
                cur.execute(stmt.text)
            except psycopg2.Error as exc:
                first = stmt.text.splitlines()[0][:80]
                message = (exc.pgerror or str(exc) or type(exc).__name__).strip().splitlines()[0]
                if conn.closed:  # the server went away: not the file's fault (exit 3)
                    raise DatabaseError(
                        f"{path.name}:{stmt.line}: connection lost while loading the schema: "
                        f"{message}"
                    ) from None
                conn.rollback()
                raise SchemaLoadError(
                    f"{path.name}:{stmt.line}: statement `{first}` failed: {message}"
                ) from None
    conn.commit()
    return len(statements)
