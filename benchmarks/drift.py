"""Drift check against the alternatives, on synthetic databases of 10 to 2,000 relations.

Each size gets a database with ``schema/billig.sql`` plus N synthetic relations (see
:mod:`benchmarks.synthetic`). Two cases: (a) the contract is every relation of schema
``billig``, pinned from the database and then mutated a little (dropped, retyped and re-nulled
columns, a renamed, a removed and an invented relation) so that the comparator has real drift to
find; (b) the contract is the nine Billig relations, as ``schema.sql`` defines them, inside the
big database. Ours is measured end to end: load the contract file, connect, introspect, compare.
The alternatives only read the catalog, which is less work than ours, through a fresh
connection each time as ours does: SQLAlchemy 2's Inspector table by table, its bulk
``get_multi_*`` reflection, and migra's schemainspect.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import psycopg2
import psycopg2.extensions
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, Engine
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.pool import NullPool

from benchmarks import synthetic
from benchmarks.measurement import Laps, StatementCounter, Timing, measure, phases, profile
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.catalog import Catalog, Column, Kind, Relation, RelationKey
from mirror.compare import compare_catalogs
from mirror.contracts import load_contract, write_contract
from mirror.introspect import connect_params, introspect_catalog
from mirror.provision import Server
from mirror.schema import load_schema

SIZES = (10, 100, 1_000, 2_000)
SCHEMA = "billig"
CASE_ALL = "contract = all relations"
CASE_BILLIG = "contract = 9 Billig relations"
OURS = "ours: contract + introspect + compare"
SA_BULK = "SQLAlchemy get_multi_* (bulk)"
SA_PER_TABLE = "SQLAlchemy Inspector per table"
SCHEMAINSPECT = "schemainspect (migra)"
MUTATE_EVERY = 25  # one relation in 25 of the contract differs from the database


def run(server: Server, settings: Settings) -> list[Result]:
    results: list[Result] = []
    for size in settings.sizes(SIZES):
        with _database(server, f"bench_drift_{size}") as url:
            billig, generated = _build(server, url, size)
            live = introspect_catalog(url, schemas=[SCHEMA])
            expected = (len(billig) + generated.relations, _columns(billig) + generated.columns)
            if (len(live), _columns(live)) != expected:
                raise RuntimeError(
                    f"the database has {len(live)} relations and {_columns(live)} columns, "
                    f"expected {expected[0]} and {expected[1]}"
                )
            results += _measure_size(url, size, live, billig, settings)
    return results


@contextlib.contextmanager
def _database(server: Server, name: str) -> Iterator[URL]:
    server.drop_database(name)
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


def _build(server: Server, url: URL, size: int) -> tuple[Catalog, synthetic.SyntheticSchema]:
    """Load schema.sql and ``size`` synthetic relations; return schema.sql's own catalog."""
    assert url.database
    with contextlib.closing(server.connect(url.database)) as conn:
        load_schema(conn)
        billig = introspect_catalog(conn, schemas=[SCHEMA])
        generated = synthetic.generate(size)
        with conn.cursor() as cur:
            cur.execute(generated.ddl)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            # Production catalogs have statistics; give every approach the same planner.
            cur.execute("ANALYZE")
    return billig, generated


def _columns(catalog: Catalog) -> int:
    return sum(len(r.columns) for r in catalog)


def _measure_size(
    url: URL, size: int, live: Catalog, billig: Catalog, settings: Settings
) -> list[Result]:
    contract_all = mutate(live)
    columns = _columns(live)
    results: list[Result] = []
    counter = StatementCounter()
    engine = create_engine(url, poolclass=NullPool, connect_args=counter.connect_args())
    try:
        with engine.connect():
            pass  # the dialect's first-connect queries are not part of any measurement
        with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
            for case, contract in ((CASE_ALL, contract_all), (CASE_BILLIG, billig)):
                path = Path(tmp) / "columns.json"
                write_contract(path, contract)
                names = None if case == CASE_ALL else sorted(k.name for k in contract.relations)
                extra = {
                    "database_relations": len(live),
                    "database_columns": columns,
                    "contract_relations": len(contract),
                }
                findings = len(compare_catalogs(contract, _read(url, case, contract)))
                if case == CASE_ALL and not findings:
                    raise RuntimeError("the mutated contract gave the comparator nothing to find")
                extra_ours: dict[str, object] = {**extra, "findings": findings}
                approaches: list[tuple[str, Callable[[], object], bool]] = [
                    (OURS, partial(_ours, url, case, path, counter), True),
                    (SA_BULK, partial(_sqlalchemy_bulk, engine, names), False),
                    (SA_PER_TABLE, partial(_sqlalchemy_per_table, engine, names), False),
                    (SCHEMAINSPECT, partial(_schemainspect, engine), False),
                ]
                extra_ours["phases"] = phases(partial(_ours, url, case, path, counter))
                if size == max(settings.sizes(SIZES)):
                    extra_ours["profile"] = profile(approaches[0][1])
                for approach, call, is_ours in approaches:
                    timing = _timed(call, counter, settings)
                    results.append(
                        Result(
                            benchmark="drift",
                            case=case,
                            size=size,
                            approach=approach,
                            timing=timing,
                            statements=counter.count,
                            baseline=is_ours,
                            extra=extra_ours if is_ours else extra,
                        )
                    )
    finally:
        engine.dispose()
    return results


def _timed(call: Callable[[], object], counter: StatementCounter, settings: Settings) -> Timing:
    # The counter is reset before every sample, so after measure() it holds the last one's count.
    return measure(call, settings.repeats, budget_s=settings.budget_s, setup=counter.reset)


# --------------------------------------------------------------------------- the approaches


def _read(target: URL | psycopg2.extensions.connection, case: str, contract: Catalog) -> Catalog:
    # A contract of a whole schema reads the schema, so that additions and renames are seen;
    # a contract of a few relations reads exactly those (and their namesakes).
    if case == CASE_ALL:
        return introspect_catalog(target, schemas=sorted(contract.schemas))
    return introspect_catalog(target, relations=list(contract.relations))


def _ours(
    url: URL,
    case: str,
    contract_path: Path,
    counter: StatementCounter,
    laps: Laps | None = None,
) -> int:
    contract = load_contract(contract_path)
    if laps:
        laps.lap("load_contract")
    conn = psycopg2.connect(**connect_params(url, 10.0), cursor_factory=counter.cursor_factory())
    if laps:
        laps.lap("connect")
    try:
        live = _read(conn, case, contract)
    finally:
        conn.close()
    if laps:
        laps.lap("introspect")
    findings = compare_catalogs(contract, live)
    if laps:
        laps.lap("compare")
    return len(findings)


def _sqlalchemy_bulk(engine: Engine, names: list[str] | None) -> int:
    with engine.connect() as conn:
        insp = inspect(conn)
        kind = ObjectKind.ANY
        cols = insp.get_multi_columns(schema=SCHEMA, filter_names=names, kind=kind)
        pks = insp.get_multi_pk_constraint(schema=SCHEMA, filter_names=names, kind=kind)
        fks = insp.get_multi_foreign_keys(schema=SCHEMA, filter_names=names, kind=kind)
    return len(cols) + len(pks) + len(fks)


def _sqlalchemy_per_table(engine: Engine, names: list[str] | None) -> int:
    with engine.connect() as conn:
        insp = inspect(conn)
        if names is None:
            names = insp.get_table_names(schema=SCHEMA) + insp.get_view_names(schema=SCHEMA)
        n = 0
        for name in names:
            n += len(insp.get_columns(name, schema=SCHEMA))
            insp.get_pk_constraint(name, schema=SCHEMA)
            insp.get_foreign_keys(name, schema=SCHEMA)
    return n


def _schemainspect(engine: Engine) -> int:
    from schemainspect import get_inspector  # the bench extra

    with engine.connect() as conn:
        # schemainspect has no filter: it reads the whole database, then keeps one schema.
        inspected = get_inspector(conn, schema=SCHEMA)
    return len(inspected.relations)


# --------------------------------------------------------------------------- the contract


def mutate(catalog: Catalog) -> Catalog:
    """A contract that differs from ``catalog`` a little, everywhere, deterministically.

    Tables at positions 0, 5, 10 … modulo :data:`MUTATE_EVERY` lose their last column, get a
    wider type on one column, or a NOT NULL that the database does not have; one relation is
    renamed, one is left out, and one is invented.
    """
    rels = list(catalog)
    out: list[Relation] = []
    for i, rel in enumerate(rels):
        step = i % MUTATE_EVERY
        if rel.kind is Kind.TABLE and len(rel.columns) > 2:
            if step == 0:
                rel = _with_columns(rel, rel.columns[:-1])
            elif step == 5:
                rel = _with_columns(rel, _retyped(rel.columns))
            elif step == 10:
                rel = _with_columns(rel, _tightened(rel.columns))
        out.append(rel)
    if len(out) >= 3:
        renamed = out[1]
        key = RelationKey(renamed.key.schema, renamed.key.name + "_old")
        out[1] = dataclasses.replace(renamed, key=key, foreign_keys=())
        out.pop(2)  # left out of the contract: an added relation
    invented = Relation(
        key=RelationKey(_schema_of(catalog), "bench_invented"),
        kind=Kind.TABLE,
        columns=(Column("bench_invented", "integer", False),),
        primary_key=("bench_invented",),
    )
    out.append(invented)
    # Foreign keys into renamed or dropped relations would make the contract invalid.
    keys = {r.key for r in out}
    out = [
        dataclasses.replace(r, foreign_keys=tuple(fk for fk in r.foreign_keys if fk.target in keys))
        for r in out
    ]
    return Catalog.of(out, catalog.schemas)


def _schema_of(catalog: Catalog) -> str:
    return next(iter(catalog)).key.schema if len(catalog) else SCHEMA


def _with_columns(rel: Relation, columns: tuple[Column, ...]) -> Relation:
    names = {c.name for c in columns}
    return dataclasses.replace(
        rel,
        columns=columns,
        primary_key=rel.primary_key if set(rel.primary_key) <= names else (),
        foreign_keys=tuple(fk for fk in rel.foreign_keys if set(fk.columns) <= names),
        unique=tuple(u for u in rel.unique if set(u) <= names),
    )


_WIDER = {"integer": "bigint", "smallint": "integer", "character varying(140)": "text"}


def _retyped(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    for i, col in enumerate(columns):
        if col.type in _WIDER:
            changed = dataclasses.replace(col, type=_WIDER[col.type])
            return (*columns[:i], changed, *columns[i + 1 :])
    return columns


def _tightened(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    for i, col in enumerate(columns):
        if col.nullable:
            changed = dataclasses.replace(col, nullable=False)
            return (*columns[:i], changed, *columns[i + 1 :])
    return columns
