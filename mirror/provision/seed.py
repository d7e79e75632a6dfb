"""Seeding a database: every base table of the loaded schema, Billig's scenarios where they fit.

The structure comes from the database's catalog (:mod:`mirror.provision.seed_tables`), never
from this repository's layout. Tables are written in foreign-key order; a foreign key in a cycle
(or to its own table) that may be NULL is written NULL first and set once its target has rows.
A table that plays a Billig role (by name, ``billig.event`` or ``public."billig.event_lim_web"``,
or by its columns: ``event_name``, ``sale_from``/``sale_to``, ``num``/``num_sold`` …) gets the
scenario records of :mod:`mirror.provision.scenarios`: each column takes the value of the same
name from its record or the records it belongs to (``hidden`` on a ticket group is its event's),
and its foreign keys point at the rows of those records. Every other column, and every other
table, gets deterministic values made from its type (:mod:`mirror.provision.values`); identity,
generated and defaulted columns are left to the server; rows the server refuses are retried with
other values (:mod:`mirror.provision.row_writer`); a column whose readers allow only some
values takes those in turn (:mod:`mirror.provision.allowed_values`). Materialized views are
refreshed over the seeded rows. What cannot be filled is one located warning.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import psycopg2

from mirror.catalog.model import RelationKey
from mirror.errors import DatabaseError, SchemaLoadError
from mirror.provision.allowed_values import AllowedValues, apply_allowed
from mirror.provision.filling import fill_tables
from mirror.provision.roles import role_of
from mirror.provision.scenarios import EVENT_ID_BASE, SCENARIOS, SeedData, generate, reference_now
from mirror.provision.schema import created_relations
from mirror.provision.seed_report import SeedResult, SeedWarning, server_message
from mirror.provision.seed_tables import read_seed_schema

__all__ = [
    "EVENT_ID_BASE",
    "SCENARIOS",
    "SeedData",
    "SeedResult",
    "SeedWarning",
    "generate",
    "load",
    "reference_now",
    "role_of",
    "seed_billig",
    "seed_scope",
]


def seed_billig(
    conn: psycopg2.extensions.connection,
    *,
    events: int,
    seed: int,
    now: datetime | None = None,
    only: Collection[RelationKey] | None = None,
    allowed: AllowedValues | None = None,
) -> SeedResult:
    """Generate Billig's records and fill the database's tables (``only`` these, if given), a
    column whose readers allow only some values (``allowed``) with those."""
    allowed = allowed.on_tables(conn) if allowed else None
    return load(conn, generate(events, seed, now), only=only, allowed=allowed)


def seed_scope(conn: psycopg2.extensions.connection, schema_file: Path) -> frozenset[RelationKey]:
    """The tables to fill in a database that may hold others: those the schema file creates,
    and every table in schema ``billig`` or named ``billig.<name>`` (a dev schema's layout)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class AS c"
            " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p')"
            " AND (n.nspname = 'billig' OR c.relname LIKE 'billig.%%')"
        )
        found = {RelationKey(*row) for row in cur.fetchall()}
    conn.rollback()
    return frozenset(found | (created_relations(schema_file) or set()))


def load(
    conn: psycopg2.extensions.connection,
    data: SeedData,
    *,
    only: Collection[RelationKey] | None = None,
    allowed: AllowedValues | None = None,
) -> SeedResult:
    """Fill every base table of the database (or ``only`` those) in one transaction.

    Raises :class:`~mirror.errors.SchemaLoadError` when there is no table to fill,
    :class:`~mirror.errors.UsageError` when the database was seeded already and
    :class:`~mirror.errors.DatabaseError` when the connection is lost (nothing stays written).
    """
    conn.rollback()
    autocommit = conn.autocommit
    conn.autocommit = False  # one transaction, a savepoint per table
    try:
        with conn.cursor() as cur:
            schema, unfit = apply_allowed(read_seed_schema(cur), allowed or AllowedValues())
            result = fill_tables(cur, schema, data, only)
            stale = _refresh_materialized_views(cur, {k.schema for k in only or ()})
        conn.commit()
    except psycopg2.Error as exc:
        if conn.closed:  # the server went away; the transaction, and every row, went with it
            raise DatabaseError(
                f"seeding failed, the connection was lost: {server_message(exc)}"
            ) from None
        conn.rollback()
        raise SchemaLoadError(f"seeding failed: {server_message(exc)}") from None
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    finally:
        if not conn.closed:
            conn.autocommit = autocommit
    if stale or unfit:
        result = SeedResult(result.counts, (*unfit, *result.warnings, *stale))
    return result


def _refresh_materialized_views(
    cur: psycopg2.extensions.cursor, schemas: Collection[str]
) -> list[SeedWarning]:
    """Refresh the materialized views (of ``schemas``; all without) over the seeded rows, in
    the order they were created (one over another comes after it); one that fails is left as
    it was, with a warning."""
    cur.execute(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class AS c"
        " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'm' AND (cardinality(%s::text[]) = 0 OR n.nspname = ANY(%s))"
        " ORDER BY c.oid",
        (sorted(schemas), sorted(schemas)),
    )
    warnings = []
    for key in [RelationKey(*row) for row in cur.fetchall()]:
        cur.execute("SAVEPOINT refresh")
        try:
            cur.execute(f"REFRESH MATERIALIZED VIEW {key}")
        except psycopg2.Error as exc:
            if cur.connection.closed:
                raise
            cur.execute("ROLLBACK TO SAVEPOINT refresh")
            warnings.append(
                SeedWarning(str(key), None, None, f"not refreshed: {server_message(exc)}")
            )
        cur.execute("RELEASE SAVEPOINT refresh")
    return warnings
