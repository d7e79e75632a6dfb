"""Reading a live PostgreSQL catalog into a ``Catalog``, fast and read-only.

Whatever the size of the database, introspection sends the same four statements, each kept in
``mirror/sql/<name>.sql``: ``session`` opens a read-only, repeatable-read transaction with
statement, lock and idle timeouts and a fixed ``search_path``; ``schemas`` finds which of the
asked schemas exist; ``relations`` reads relations and columns (canonical types, nullability,
defaults, the login's SELECT privilege per column); ``constraints`` reads primary keys, unique
constraints and foreign keys of exactly those relations. The scope is passed as arrays of
(schema, name) pairs or schema names, so a 9-relation contract against a 2,000-relation database
reads only those 9 (plus their *namesakes*: same-named relations in other schemas and dotted
single-identifier names such as ``public."billig.event"``, which let the comparator report a
moved relation or quoting confusion instead of a plain "missing"). Turning rows into a
``Catalog`` is a pure function (:func:`assemble`); nothing here writes to the database.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from mirror.catalog.model import (
    KINDS_WITH_NULLABILITY,
    Catalog,
    Column,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
    quote_ident,
)
from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import DatabaseUnreachable, IntrospectionError, UsageError
from mirror.progress import step
from mirror.secrets import scrub

DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
DEFAULT_LOCK_TIMEOUT_MS = 2_000
DEFAULT_IDLE_TIMEOUT_MS = 30_000
DEFAULT_CONNECT_TIMEOUT_S = 10.0
APPLICATION_NAME = "billig-harness introspect"
# The client's bounds on top of the server's (see Bounds): the grace after statement_timeout
# for an answer, and TCP keepalives (seconds; count of unanswered probes).
ANSWER_GRACE_S = 3.0
KEEPALIVE_IDLE_S = 5
KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3

# The statements introspection sends, in order; their count never depends on the database.
STATEMENTS = ("session", "relations", "columns", "constraints")
# Relations proven readable per statement (see introspect's ``readable``).
PROBE_BATCH = 50

_KINDS = {
    "r": Kind.TABLE,
    "v": Kind.VIEW,
    "m": Kind.MATERIALIZED_VIEW,
    "p": Kind.PARTITIONED_TABLE,
    "f": Kind.FOREIGN_TABLE,
}

Connection = psycopg2.extensions.connection
Target = str | Dsn | SqlAlchemyUrl | Connection


@dataclass(frozen=True, slots=True)
class Introspection:
    """A catalog read, with what it took: the statements sent (names of the .sql files).

    ``unreadable`` maps each relation asked to be proven readable that the login cannot read
    (``SELECT`` of its columns fails) to the server's reason.
    """

    catalog: Catalog
    statements: tuple[str, ...]
    seconds: float
    unreadable: Mapping[RelationKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scope:
    """What to read: asked relations, whole schemas, or (neither given) every user schema."""

    relations: tuple[RelationKey, ...] = ()
    schemas: tuple[str, ...] = ()
    everything: bool = False
    namesakes: bool = True
    # Schemas whose existence is asked without reading their relations.
    expected_schemas: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        relations: Iterable[RelationKey | tuple[str, str]] | None = None,
        schemas: Iterable[str] | None = None,
        *,
        namesakes: bool = True,
        expected_schemas: Iterable[str] = (),
    ) -> Scope:
        asked = list(relations or ())
        for rel in asked:
            if isinstance(rel, str) or len(rel) != 2:
                raise UsageError(f"relations are (schema, name) pairs, not {rel!r}")
        if isinstance(schemas, str):
            raise UsageError(f"schemas is a list of schema names, not the string {schemas!r}")
        rels = tuple(dict.fromkeys(RelationKey(*r) for r in asked))
        names = tuple(dict.fromkeys(schemas or ()))
        if isinstance(expected_schemas, str):
            raise UsageError(f"expected_schemas is a list of names, not {expected_schemas!r}")
        expected = tuple(dict.fromkeys(expected_schemas))
        return cls(rels, names, relations is None and schemas is None, namesakes, expected)

    def params(self) -> dict[str, Any]:
        """Query parameters shared by the scope-dependent statements."""
        asked_schemas = dict.fromkeys(self.schemas)
        asked_schemas.update(dict.fromkeys(k.schema for k in self.relations))
        asked_schemas.update(dict.fromkeys(self.expected_schemas))
        return {
            "rel_schemas": [k.schema for k in self.relations],
            "rel_names": [k.name for k in self.relations],
            "whole_schemas": list(self.schemas),
            "schemas": list(asked_schemas),
            "everything": self.everything,
            "namesakes": self.namesakes,
        }


def introspect(
    target: Target,
    *,
    relations: Iterable[RelationKey | tuple[str, str]] | None = None,
    schemas: Iterable[str] | None = None,
    namesakes: bool = True,
    expected_schemas: Iterable[str] = (),
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    readable: Mapping[RelationKey, Sequence[str]] | None = None,
) -> Introspection:
    """Read the catalog of ``target`` (a DSN, a SQLAlchemy URL or an open psycopg2 connection)
    in one read-only transaction with a fixed set of statements.

    ``relations`` and ``schemas`` limit what is read (their union); with neither, every
    non-system schema is read. ``Catalog.schemas`` holds the asked schemas that exist, so a
    missing schema is visible.

    A connection passed in must not be inside a transaction; it is left open, in its original
    autocommit mode, with the introspection transaction rolled back. A DSN or URL gets its own
    connection (``default_transaction_read_only`` on, ``connect_timeout_s``), closed afterwards.
    ``Catalog.schemas`` also says which of ``expected_schemas`` exist (their relations are not
    read unless asked): a contract may pin a schema with no relation in it. Every statement must
    be answered within ``statement_timeout_ms`` plus :data:`ANSWER_GRACE_S`, or the connection is
    given up (see :class:`Bounds`).

    ``readable`` names relations (and their columns) to prove readable in the same transaction:
    privileges in the catalog can look right while reading fails (a view whose owner lost
    SELECT on a base table). Each of them that exists is read with ``SELECT columns … LIMIT 0``,
    :data:`PROBE_BATCH` relations per statement, so the count grows with ``readable`` only;
    those the login cannot read are in :attr:`Introspection.unreadable`. The probe takes the
    share locks any read takes, so a table locked exclusively makes it wait ``lock_timeout_ms``.

    Raises :class:`~mirror.errors.DatabaseUnreachable` when no connection can be made (refused,
    DNS, wrong password, TLS required, connect timeout), :class:`~mirror.errors.IntrospectionError`
    when the catalog cannot be read completely (timeout, lost connection, missing privilege) and
    :class:`~mirror.errors.UsageError` for a malformed DSN or bad arguments. Messages are one line
    and never contain the password.
    """
    bounds = Bounds(statement_timeout_ms, lock_timeout_ms, idle_timeout_ms, connect_timeout_s)
    scope = Scope.of(relations, schemas, namesakes=namesakes, expected_schemas=expected_schemas)
    started = time.perf_counter()
    with read_session(target, bounds) as session:
        catalog = _read(session, scope)
        unreadable = _unreadable(session, catalog, readable or {})
    return Introspection(catalog, tuple(session.sent), time.perf_counter() - started, unreadable)


# --------------------------------------------------------------------------- pure core

ScopeRow = tuple[
    Sequence[str] | None,  # asked schemas that exist
    Sequence[int] | None,  # relation oids
    Sequence[str] | None,  # their schemas
    Sequence[str] | None,  # their names
    Sequence[str] | None,  # their relkinds
    Sequence[bool] | None,  # whether the login has USAGE on their schema
]
ColumnRow = tuple[int, int, str, str, bool, str | None, bool | None]
ConstraintRow = tuple[
    int, str, Sequence[int], int, str | None, str | None, Sequence[int] | None, Sequence[str] | None
]


def assemble(
    scope_row: ScopeRow,
    column_rows: Iterable[ColumnRow],
    constraint_rows: Iterable[ConstraintRow],
) -> Catalog:
    """Build the Catalog from the rows of ``relations.sql``, ``columns.sql``, ``constraints.sql``.

    Column and constraint rows refer to relations by oid and to columns by number; columns
    are put in column-number order. View and materialized view columns get ``nullable=None``:
    the catalog calls them all nullable, which means "unknown", not "nullable". A column is
    ``selectable`` when the login may use the schema and SELECT the column.
    """
    schemas, oids, nsps, names, kinds, usable = scope_row
    heads = {
        oid: (RelationKey(nsp, name), _KINDS[kind], use)
        for oid, nsp, name, kind, use in zip(
            oids or (), nsps or (), names or (), kinds or (), usable or (), strict=True
        )
    }
    columns: dict[int, list[Column]] = {}
    column_names: dict[int, dict[int, str]] = {}  # column number → name, per relation
    # Sorted by (relation, column number), which is unique: columns come out in table order.
    for oid, number, name, type_, not_null, default, privilege in sorted(column_rows):
        _, kind, use = heads[oid]
        nullable = not not_null if kind in KINDS_WITH_NULLABILITY else None
        column = Column(name, normalize_type(type_), nullable, default, bool(use and privilege))
        columns.setdefault(oid, []).append(column)
        column_names.setdefault(oid, {})[number] = name

    primary: dict[int, tuple[str, ...]] = {}
    unique: dict[int, list[tuple[str, ...]]] = {}
    foreign: dict[int, list[ForeignKey]] = {}
    for row in constraint_rows:
        oid, contype, key, target_oid, target_nsp, target_name, target_key, target_cols = row
        key_names = tuple(column_names[oid][number] for number in key)
        if contype == "p":
            primary[oid] = key_names
        elif contype == "u":
            unique.setdefault(oid, []).append(key_names)
        elif contype == "f" and target_nsp is not None and target_name is not None:
            head = heads.get(target_oid)
            if head is not None:  # target in scope: named from what we read
                target = head[0]
                target_cols = [column_names[target_oid][number] for number in target_key or ()]
            else:
                target = RelationKey(target_nsp, target_name)
            fk = ForeignKey(key_names, target, tuple(target_cols or ()))
            foreign.setdefault(oid, []).append(fk)
    return Catalog.of(
        (
            Relation(
                key=key,
                kind=kind,
                columns=tuple(columns.get(oid, ())),
                primary_key=primary.get(oid, ()),
                foreign_keys=tuple(foreign.get(oid, ())),
                unique=tuple(unique.get(oid, ())),
            )
            for oid, (key, kind, _) in heads.items()
        ),
        schemas=schemas or (),
    )


@cache
def statement_sql(name: str) -> str:
    """The text of ``mirror/sql/<name>.sql``."""
    return (
        resources.files("mirror.sources").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    )


# --------------------------------------------------------------------------- edges


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long one read may take: the session's server-side timeouts and the client's own.

    The server cancels a statement after ``statement_timeout_ms`` and a lock wait after
    ``lock_timeout_ms``, but only a server that still answers does. So the client gives every
    statement :attr:`answer_s` (the statement timeout plus :data:`ANSWER_GRACE_S`) to be answered
    and then abandons the connection; TCP keepalives and ``tcp_user_timeout`` make the kernel
    notice a peer that is gone. A frozen backend or a network partition is then exit 3 within
    the configured timeouts plus a few seconds, never a hang.
    """

    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        for name in ("statement_timeout_ms", "lock_timeout_ms", "idle_timeout_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise UsageError(f"{name} must be a positive number of milliseconds, not {value!r}")
        limit = self.connect_timeout_s
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0:
            raise UsageError(f"connect_timeout_s must be positive, not {limit!r}")

    @property
    def answer_s(self) -> float:
        """Seconds the client waits for the answer to one statement before giving up."""
        return self.statement_timeout_ms / 1000 + ANSWER_GRACE_S

    def session_args(self) -> dict[str, int]:
        """The parameters of ``session.sql``."""
        return {
            "statement_timeout_ms": self.statement_timeout_ms,
            "lock_timeout_ms": self.lock_timeout_ms,
            "idle_timeout_ms": self.idle_timeout_ms,
        }


class ReadSession:
    """One read-only, repeatable-read transaction with bounded waits, already opened.

    :meth:`run` sends one statement of ``sql/`` (or generated SQL) and returns its rows; every
    statement must be answered within the bounds' :attr:`Bounds.answer_s`, or the connection is
    shut down under it. :meth:`failure` words a driver error as the one-line error of the read.
    """

    def __init__(
        self, conn: Connection, bounds: Bounds, what: str, where: str, secret: str | None
    ) -> None:
        self.conn = conn
        self.bounds = bounds
        self.what = what
        self.where = where
        self.secret = secret
        self.sent: list[str] = []
        self.abandoned = False

    def run(self, name: str, args: Mapping[str, Any] | None = None, *, sql: str = "") -> list[Any]:
        """Rows of statement ``name`` (the text of ``sql/<name>.sql`` unless ``sql`` is given)."""
        self.sent.append(name)
        with self.conn.cursor() as cur, _answered_within(self):
            values = None if args is None else _literal_arrays(dict(args))
            cur.execute(sql or statement_sql(name), values)
            return cur.fetchall() if cur.description is not None else []

    def failure(self, exc: psycopg2.Error) -> IntrospectionError:
        detail = _one_line(exc, self.secret)
        bounds = self.bounds
        if self.abandoned:
            why = (
                f"the server did not answer within {bounds.answer_s:g} s (statement_timeout "
                f"{bounds.statement_timeout_ms} ms plus {ANSWER_GRACE_S:g} s), so the connection "
                "was given up"
            )
            return IntrospectionError(f"{self.what} of {self.where} failed, {why}")
        if isinstance(exc, psycopg2.errors.LockNotAvailable):
            why = f"waited longer than lock_timeout ({bounds.lock_timeout_ms} ms) for a lock"
        elif isinstance(exc, psycopg2.errors.QueryCanceled):
            limit = bounds.statement_timeout_ms
            why = f"a statement was cancelled (statement_timeout is {limit} ms)"
        elif isinstance(exc, psycopg2.errors.InsufficientPrivilege):
            why = "the login lacks a privilege"
        elif isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
            why = "the connection was lost"
        else:
            why = "a catalog statement failed"
        return IntrospectionError(f"{self.what} of {self.where} failed, {why}: {detail}")


@contextlib.contextmanager
def read_session(
    target: Target, bounds: Bounds | None = None, *, what: str = "reading the catalog"
) -> Iterator[ReadSession]:
    """A :class:`ReadSession` on ``target``, rolled back (and its own connection closed) after.

    Every driver error inside becomes an :class:`~mirror.errors.IntrospectionError` (exit 3)
    naming ``what``; connecting fails as :class:`~mirror.errors.DatabaseUnreachable`.
    """
    bounds = bounds or Bounds()
    with _connection(target, bounds) as (conn, secret):
        session = ReadSession(conn, bounds, what, _where(conn), secret)
        try:
            session.run("session", bounds.session_args())
            yield session
        except psycopg2.Error as exc:
            raise session.failure(exc) from None
        finally:
            # Read-only anyway; rolling back also ends the transaction of a borrowed connection.
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()


def _read(session: ReadSession, scope: Scope) -> Catalog:
    params = scope.params()
    with step("reading the catalog: relations") as update:
        (scope_row,) = session.run("relations", params)
        oids = {"oids": list(scope_row[1] or ())}
        update(f"reading the catalog: columns of {len(oids['oids']):,} relations")
        column_rows = session.run("columns", oids)
        update(f"reading the catalog: constraints of {len(oids['oids']):,} relations")
        constraint_rows = session.run("constraints", oids)
        update(f"reading the catalog: {len(column_rows):,} columns read, assembling")
        return assemble(scope_row, column_rows, constraint_rows)


def _unreadable(
    session: ReadSession, catalog: Catalog, readable: Mapping[RelationKey, Sequence[str]]
) -> dict[RelationKey, str]:
    """The relations of ``readable`` a SELECT of their columns fails on, with the reason.

    Each batch runs inside a savepoint rolled back at once, which also releases its locks: a
    large contract never holds more than one batch's locks. Only when a batch is refused are
    its relations read one by one, to name which.
    """
    probes = []
    for key, wanted in readable.items():
        relation = catalog.relations.get(key)
        if relation is None:
            continue
        names = set(wanted)
        columns = [c.name for c in relation.columns if c.name in names and c.selectable]
        if columns:
            cols = ", ".join(map(quote_ident, columns))
            probes.append((key, f"SELECT {cols} FROM {key} LIMIT 0"))
    out: dict[RelationKey, str] = {}
    for start in range(0, len(probes), PROBE_BATCH):
        batch = probes[start : start + PROBE_BATCH]
        union = " UNION ALL ".join(f"SELECT 1 FROM ({q}) AS r{i}" for i, (_, q) in enumerate(batch))
        if _probe(session, "readable", union) is None:
            continue
        for key, query in batch:
            reason = _probe(session, "readable one", query)
            if reason is not None:
                out[key] = reason
    return out


def _probe(session: ReadSession, name: str, sql: str) -> str | None:
    """None when ``sql`` may run; the server's reason when a privilege is missing."""
    try:
        session.run(name, sql=f"SAVEPOINT readable; {sql}; ROLLBACK TO SAVEPOINT readable")
    except psycopg2.errors.InsufficientPrivilege as exc:
        session.run("rollback to savepoint", sql="ROLLBACK TO SAVEPOINT readable")
        return _one_line(exc, session.secret)
    return None


class _Severer:
    """Shuts a session's socket down when its statement is not answered in time.

    A frozen backend keeps its TCP connection open (the kernel still acknowledges), so neither
    keepalives nor the server's own timeouts end the wait; shutting the socket down makes the
    blocked read return at once. The lock keeps it from touching a connection that moved on.
    """

    def __init__(self, session: ReadSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._done = False

    def sever(self) -> None:
        with self._lock:
            if self._done:
                return
            self._session.abandoned = True
            with contextlib.suppress(OSError, psycopg2.Error):
                fd = self._session.conn.fileno()
                with socket.socket(fileno=os.dup(fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self._lock:
            self._done = True


@contextlib.contextmanager
def _answered_within(session: ReadSession) -> Iterator[None]:
    severer = _Severer(session)
    timer = threading.Timer(session.bounds.answer_s, severer.sever)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        severer.finish()
        timer.cancel()


def _literal_arrays(args: dict[str, Any]) -> dict[str, Any]:
    """Lists as PostgreSQL array literals (``'{"a","b"}'``), one constant each.

    psycopg2 sends a list as ``ARRAY['a', 'b', …]``, an expression the server parses and plans
    element by element: with 2,000 relations in scope that was a quarter of a statement's time.
    Every element is quoted, so any name (quotes, backslashes, commas, braces) survives.
    """
    return {key: _array(value) if isinstance(value, list) else value for key, value in args.items()}


def _array(values: list[Any]) -> str:
    # Every element quoted, quotes and backslashes escaped: any name survives.
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


@contextlib.contextmanager
def _connection(target: Target, bounds: Bounds) -> Iterator[tuple[Connection, str | None]]:
    """An idle connection in transaction mode, and the password to scrub from messages."""
    if isinstance(target, Connection):
        yield from _borrowed(target)
        return
    dsn = _dsn_of(target)
    params = connect_params(dsn, bounds.connect_timeout_s, bounds)
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {dsn.where}: {_one_line(exc, dsn.password)}"
        ) from None
    try:
        yield conn, dsn.password
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.close()


def _dsn_of(target: object) -> Dsn:
    if isinstance(target, str | Dsn) or hasattr(target, "render_as_string"):
        return Dsn.of(target)
    raise UsageError(f"cannot introspect a {type(target).__name__}: give a DSN or URL")


def _borrowed(conn: Connection) -> Iterator[tuple[Connection, str | None]]:
    if conn.closed:
        raise IntrospectionError("cannot introspect: the connection is closed")
    status = conn.info.transaction_status
    if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        raise UsageError(
            "cannot introspect on a connection inside a transaction: commit or roll back first"
        )
    secret = conn.info.password or None
    autocommit = conn.autocommit
    conn.autocommit = False  # the session statement needs a transaction to apply to
    try:
        yield conn, secret
    finally:
        if not conn.closed:
            with contextlib.suppress(psycopg2.Error):
                conn.autocommit = autocommit


def connect_params(
    target: str | Dsn | SqlAlchemyUrl, connect_timeout_s: float, bounds: Bounds | None = None
) -> dict[str, Any]:
    """psycopg2 keyword arguments for a DSN or URL: read-only by default, bounded connect.

    With ``bounds``, also the client-side bounds of a read (keepalives, ``tcp_user_timeout``).
    """
    params: dict[str, Any] = Dsn.of(target).params()
    options = params.get("options", "")
    params["options"] = f"{options} -c default_transaction_read_only=on".strip()
    # libpq takes whole seconds (and treats 1 as 2); never round a short timeout down to 0.
    params["connect_timeout"] = max(1, math.ceil(connect_timeout_s))
    params.setdefault("application_name", APPLICATION_NAME)
    params.setdefault("client_encoding", "UTF8")
    if bounds is not None:
        params.update(client_bounds(bounds.answer_s))
    return params


def client_bounds(answer_s: float) -> dict[str, int]:
    """libpq settings that make the kernel give up on a peer that is gone (TCP only).

    Keepalives probe an idle connection; ``tcp_user_timeout`` ends one whose data stays
    unacknowledged for ``answer_s`` (a network partition in the middle of a statement).
    """
    return {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_S,
        "keepalives_interval": KEEPALIVE_INTERVAL_S,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": math.ceil(answer_s * 1000),
    }


def _one_line(exc: BaseException, secret: str | None) -> str:
    # The server's primary message, without the statement excerpt psycopg2 appends.
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc)
    return scrub(" ".join(text.split()) or type(exc).__name__, secret)


def _where(conn: Connection) -> str:
    info = conn.info
    return Dsn.from_params(
        {"user": info.user, "host": info.host, "port": info.port, "dbname": info.dbname}
    ).where
