"""Per-test isolation: savepoint rollback against a template clone and re-running schema.sql.

Each sample is one whole test's worth of isolation, set-up and tear-down, around the same tiny
test body (insert a purchase, commit, read it back): what the plugin's ``billig_session``
(a session in a rolled-back transaction, commits become savepoint releases) and
``billig_database`` (``CREATE DATABASE … TEMPLATE`` of the seeded template, dropped afterwards)
fixtures do, against creating an empty database and running ``schema/billig.sql`` into it —
without and with the default seed, which is what a test needs to see the data a clone has.
"""

from __future__ import annotations

import contextlib
import secrets
import statistics
import time
from collections.abc import Callable
from functools import partial

import psycopg2.extensions
from psycopg2 import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from benchmarks.measurement import measure
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.provision.mirror import DEFAULT_EVENTS, DEFAULT_SEED, Mirror, build_template
from mirror.provision.providers import Server
from mirror.provision.schema import load_schema
from mirror.provision.seed import seed_billig

CASE = f"one test (billig.sql, {DEFAULT_EVENTS} seeded events)"
SAVEPOINT = "savepoint rollback"
CLONE = "template clone"
CLONE_FILE_COPY = "template clone, STRATEGY FILE_COPY"
SCHEMA = "schema.sql into an empty database"
SCHEMA_SEED = "schema.sql + default seed"
TEMPLATE = "bench_iso_template"
MIRROR_DB = "bench_iso"
REPEATS = 40  # these are fast; more samples make steadier medians
SMOKE_REPEATS = 5

_INSERT = "INSERT INTO billig.purchase (purchase, owner_email) VALUES (%(p)s, 'b@example.org')"
_READ = "SELECT 1 FROM billig.purchase WHERE purchase = %(p)s"
_PURCHASE = 900_001  # above every seeded purchase id


def run(server: Server, settings: Settings) -> list[Result]:
    for name in (MIRROR_DB, TEMPLATE):
        server.drop_database(name)
    build_template(server, events=DEFAULT_EVENTS, seed=DEFAULT_SEED, name=TEMPLATE)
    try:
        dsn = server.create_database(MIRROR_DB, template=TEMPLATE)
        mirror = Mirror(server=server, dsn=dsn, template=TEMPLATE)
        engine = create_engine(dsn.sqlalchemy(), pool_size=2)
        try:
            return _measure(mirror, engine, settings)
        finally:
            engine.dispose()
    finally:
        server.drop_database(MIRROR_DB)
        server.drop_database(TEMPLATE)


def _measure(mirror: Mirror, engine: Engine, settings: Settings) -> list[Result]:
    repeats = SMOKE_REPEATS if settings.smoke else REPEATS
    approaches: list[tuple[str, Callable[[list[float]], object]]] = [
        (SAVEPOINT, lambda setups: _savepoint(engine, setups)),
        (CLONE, lambda setups: _clone(mirror, setups)),
        (CLONE_FILE_COPY, lambda setups: _clone(mirror, setups, strategy="FILE_COPY")),
        (SCHEMA, lambda setups: _schema(mirror.server, setups, seed=False)),
        (SCHEMA_SEED, lambda setups: _schema(mirror.server, setups, seed=True)),
    ]
    with contextlib.closing(mirror.server.connect()) as conn:
        if conn.server_version < 150000:  # STRATEGY is new in PostgreSQL 15
            approaches = [a for a in approaches if a[0] != CLONE_FILE_COPY]
    results: list[Result] = []
    for approach, call in approaches:
        setups: list[float] = []
        timing = measure(partial(call, setups), repeats, budget_s=settings.budget_s)
        setup_median = statistics.median(setups[-len(timing.samples) :])  # not the warm-up's
        results.append(
            Result(
                benchmark="isolation",
                case=CASE,
                size=None,
                approach=approach,
                timing=timing,
                baseline=approach == SAVEPOINT,
                extra={"setup_median_s": round(setup_median, 6)},
            )
        )
    return results


def _savepoint(engine: Engine, setups: list[float]) -> None:
    start = time.perf_counter()
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        setups.append(time.perf_counter() - start)
        try:
            session.execute(text(_INSERT.replace("%(p)s", ":p")), {"p": _PURCHASE})
            session.commit()  # inside the outer transaction: a savepoint release
            session.execute(text(_READ.replace("%(p)s", ":p")), {"p": _PURCHASE}).all()
        finally:
            session.close()
            outer.rollback()


def _clone(mirror: Mirror, setups: list[float], strategy: str | None = None) -> None:
    start = time.perf_counter()
    if strategy is None:
        url = mirror.clone()  # what the billig_database fixture does
    else:
        # PostgreSQL 15's default strategy (WAL_LOG) writes the copy through the WAL; FILE_COPY
        # copies files and checkpoints instead, which can be cheaper for small templates.
        name = f"bench_iso_{secrets.token_hex(4)}"
        with contextlib.closing(mirror.server.connect()) as admin:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY {}").format(
                        sql.Identifier(name), sql.Identifier(mirror.template), sql.SQL(strategy)
                    )
                )
        url = mirror.server.url_for(name)
    try:
        assert url.database
        with contextlib.closing(mirror.server.connect(url.database)) as conn:
            setups.append(time.perf_counter() - start)
            _test(conn)
    finally:
        mirror.drop(url)


def _schema(server: Server, setups: list[float], *, seed: bool) -> None:
    start = time.perf_counter()
    name = f"bench_iso_{secrets.token_hex(4)}"
    server.create_database(name)
    try:
        with contextlib.closing(server.connect(name)) as conn:
            load_schema(conn)
            if seed:
                seed_billig(conn, events=DEFAULT_EVENTS, seed=DEFAULT_SEED)
            setups.append(time.perf_counter() - start)
            _test(conn)
    finally:
        server.drop_database(name)


def _test(conn: psycopg2.extensions.connection) -> None:
    with conn.cursor() as cur:
        cur.execute(_INSERT, {"p": _PURCHASE})
        conn.commit()
        cur.execute(_READ, {"p": _PURCHASE})
        cur.fetchall()
