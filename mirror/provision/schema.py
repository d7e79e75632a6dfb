"""Loading ``schema/billig.sql`` (or any DDL file, ``pg_dump --schema-only`` output included).

The file is read only when it is a regular file of bounded size, split into statements by
PostgreSQL's own scanner (pglast) and run in one transaction: a failing statement is reported
with its file, line and the server's message, and nothing of the file stays behind. What a dump
carries beyond the structure is left out: psql meta-commands (``\\restrict KEY``), ownership and
privileges (roles are the server's, not the schema's). Session settings the file makes (``SET``,
``set_config``) last only while it loads. A file that manages its own transactions is refused, as
it could commit half a schema; a single ``BEGIN`` … ``COMMIT`` around the whole file is accepted.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.errors
from pglast import ast, enums, parse_sql
from pglast.parser import ParseError, scan, split

from mirror.catalog.model import RelationKey
from mirror.errors import DatabaseError, SchemaLoadError

# A schema of tens of thousands of relations is a few MiB; anything far larger is not DDL.
MAX_SCHEMA_BYTES = 64 * 1024 * 1024


def schema_file() -> Path:
    """The configured schema file (``[tool.billig] schema``, default ``schema/billig.sql``)."""
    from mirror.config import load_config

    path = load_config().schema
    if not path.exists():
        raise SchemaLoadError(
            f"{path}: schema file not found (set [tool.billig] schema in pyproject.toml)"
        )
    return path


def read_schema(path: Path) -> str:
    """The text of a schema file: a regular file of at most :data:`MAX_SCHEMA_BYTES`, UTF-8.

    A FIFO, a device or a symlink loop is refused rather than read (it could hang or never end).
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SchemaLoadError(f"{path}: cannot read the schema file ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SchemaLoadError(f"{path}: not a regular file; a schema is read from a file")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_SCHEMA_BYTES + 1)
    if len(data) > MAX_SCHEMA_BYTES:
        raise SchemaLoadError(
            f"{path}: larger than {MAX_SCHEMA_BYTES // (1024 * 1024)} MiB; not a schema file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaLoadError(f"{path}: not UTF-8 text (byte {exc.start})") from None


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    line: int  # 1-based line of the statement's first token


def split_statements(source: str, name: str = "schema") -> Iterator[Statement]:
    """The SQL statements of ``source`` as PostgreSQL's scanner splits them, meta-commands out.

    Raises :class:`SchemaLoadError` located as ``name:LINE`` when the scanner cannot go on.
    """
    source = _without_meta_commands(source)
    try:
        parts = split(source, with_parser=False, only_slices=True)
    except ParseError as exc:
        at = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        line = source.count("\n", 0, max(at, 0)) + 1
        raise SchemaLoadError(f"{name}:{line}: {exc.args[0]}") from None
    for part in parts:
        start = part.start + _first_token(source[part])
        # The text runs to its semicolon, so that statements can be written back as they were.
        end = part.stop + len(source[part.stop :]) - len(source[part.stop :].lstrip())
        end = end + 1 if source.startswith(";", end) else part.stop
        yield Statement(source[start:end], source.count("\n", 0, start) + 1)


def _without_meta_commands(source: str) -> str:
    """``source`` with each psql meta-command (a line starting with a backslash) blanked.

    A meta-command runs to the end of its line and its argument need not be SQL (``\\restrict
    8bGx…`` does not scan), so every such line is blanked first; the lines that then fall inside
    a string or comment were data and are put back. Newlines stay, so lines still count right.
    """
    lines = source.splitlines(keepends=True)
    meta = [i for i, line in enumerate(lines) if line.lstrip().startswith("\\")]
    if not meta:
        return source
    kept = list(lines)
    for i in meta:
        body = lines[i].rstrip("\r\n")
        kept[i] = " " * len(body) + lines[i][len(body) :]
    text = "".join(kept)
    try:
        spans = [(t.start, t.end) for t in scan(text) if t.end > t.start]
    except ParseError:
        return text  # the statements report it, located
    starts = list(itertools.accumulate((len(line) for line in kept), initial=0))
    for i in meta:
        if any(first < starts[i] <= last for first, last in spans):
            kept[i] = lines[i]
    return "".join(kept)


def _first_token(text: str) -> int:
    """Offset of the first token of ``text`` that is not a comment."""
    try:
        for token in scan(text):
            if token.name not in ("C_COMMENT", "SQL_COMMENT"):
                return int(token.start)
    except ParseError:
        pass
    return len(text) - len(text.lstrip())


def _kind(text: str) -> str | None:
    """What a statement is where it matters: begin, commit, transaction, setting or skip."""
    try:
        parsed = parse_sql(text)
    except ParseError:
        return None  # the server reports it, located
    if len(parsed) != 1:
        return None
    node = parsed[0].stmt
    if isinstance(node, ast.TransactionStmt):
        kind = enums.TransactionStmtKind
        if node.kind in (kind.TRANS_STMT_BEGIN, kind.TRANS_STMT_START):
            return "begin"
        return "commit" if node.kind == kind.TRANS_STMT_COMMIT else "transaction"
    if isinstance(node, ast.VariableSetStmt):
        return "setting"
    if isinstance(
        node,
        ast.AlterOwnerStmt | ast.GrantStmt | ast.GrantRoleStmt | ast.AlterDefaultPrivilegesStmt,
    ):
        return "skip"
    if isinstance(node, ast.AlterTableStmt) and all(
        isinstance(cmd, ast.AlterTableCmd) and cmd.subtype == enums.AlterTableType.AT_ChangeOwner
        for cmd in node.cmds or ()
    ):
        return "skip"
    return None


def created_relations(path: Path, *, views: bool = False) -> frozenset[RelationKey] | None:
    """The tables (and with ``views``, the views and materialized views) a schema file creates;
    an unqualified name lands in the first schema of the ``search_path`` the file sets before it
    (``SET search_path = billig``, ``set_config('search_path', …)``), else ``public``. None if
    the file is unreadable."""
    try:
        statements = list(split_statements(read_schema(path), path.name))
    except SchemaLoadError:
        return None
    created = set()
    current = "public"
    for stmt in statements:
        try:
            parsed = parse_sql(stmt.text)
        except ParseError:
            continue
        for raw in parsed:
            node = raw.stmt
            current = _search_schema(node) or current
            relation = None
            if isinstance(node, ast.CreateStmt):
                relation = node.relation
            elif views and isinstance(node, ast.ViewStmt):
                relation = node.view
            elif views and isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
                relation = node.into.rel
            if relation is not None and relation.relname:
                created.add(RelationKey(relation.schemaname or current, relation.relname))
    return frozenset(created)


def _search_schema(node: object) -> str | None:
    """The first schema of the ``search_path`` that statement ``node`` sets, if it sets one."""
    if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "search_path":
        if node.kind == enums.VariableSetKind.VAR_RESET:
            return "public"
        # The scanner has already folded (or kept, when quoted) each name's case.
        args = [a for a in node.args or () if isinstance(a, ast.A_Const)]
        names = [getattr(a.val, "sval", None) for a in args]
        return next((n for n in names if n and n != "$user"), None)
    if not isinstance(node, ast.SelectStmt):
        return None
    for target in node.targetList or ():  # SELECT pg_catalog.set_config('search_path', …)
        call = target.val if isinstance(target, ast.ResTarget) else None
        if not isinstance(call, ast.FuncCall):
            continue
        if getattr((call.funcname or (None,))[-1], "sval", None) != "set_config":
            continue
        name, value = (*(call.args or ()), None, None)[:2]
        if not (isinstance(name, ast.A_Const) and isinstance(value, ast.A_Const)):
            continue
        if getattr(name.val, "sval", None) != "search_path":
            continue
        # A list of names as SQL spells them: quoted ones keep their case.
        for part in str(getattr(value.val, "sval", "")).split(","):
            part = part.strip()
            if part and part != "$user":
                return part[1:-1].replace('""', '"') if part.startswith('"') else part.lower()
    return None


def _runnable(path: Path, statements: list[Statement]) -> list[tuple[Statement, str | None]]:
    """The statements to run: ownership and privileges out, one enclosing BEGIN/COMMIT out.

    Raises :class:`SchemaLoadError` for any other transaction control.
    """
    kinds = [_kind(stmt.text) for stmt in statements]
    if len(kinds) >= 2 and kinds[0] == "begin" and kinds[-1] == "commit":
        kinds[0] = kinds[-1] = "skip"
    for stmt, kind in zip(statements, kinds, strict=True):
        if kind in ("begin", "commit", "transaction"):
            first = stmt.text.splitlines()[0][:80]
            raise SchemaLoadError(
                f"{path.name}:{stmt.line}: `{first}` manages a transaction; the schema is loaded "
                "in one transaction so that a failure leaves nothing behind (remove it)"
            )
    return [(stmt, kind) for stmt, kind in zip(statements, kinds, strict=True) if kind != "skip"]


def load_schema(conn: psycopg2.extensions.connection, path: Path | None = None) -> int:
    """Run every statement of ``path`` in one transaction; return how many ran."""
    path = path or schema_file()
    statements = list(split_statements(read_schema(path), path.name))
    if not statements:
        raise SchemaLoadError(f"{path}: contains no SQL statement")
    runnable = _runnable(path, statements)
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT name, setting FROM pg_catalog.pg_settings")
        settings = dict(cur.fetchall())
        for stmt, kind in runnable:
            try:
                if kind == "setting":
                    _set(cur, stmt.text)
                else:
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
        # A dump's SET lines (search_path '' above all) must not outlive the load.
        cur.execute("SELECT name, setting FROM pg_catalog.pg_settings")
        changed = [name for name, value in cur.fetchall() if settings.get(name) != value]
    conn.commit()
    if changed:
        with conn.cursor() as cur:
            for name in changed:
                try:
                    cur.execute(
                        "SELECT pg_catalog.set_config(%s, %s, false)", (name, settings[name])
                    )
                except psycopg2.Error:
                    conn.rollback()  # a setting that cannot be set back (none of a dump's)
                else:
                    conn.commit()
    return len(runnable)


def _set(cur: psycopg2.extensions.cursor, text: str) -> None:
    """A dump's ``SET``: one for a parameter this server does not know (a dump of a newer
    PostgreSQL sets ``transaction_timeout``) is left out, as psql would go on past it."""
    cur.execute("SAVEPOINT billig_setting")
    try:
        cur.execute(text)
    except psycopg2.errors.UndefinedObject:
        cur.execute("ROLLBACK TO SAVEPOINT billig_setting")
    cur.execute("RELEASE SAVEPOINT billig_setting")
