"""Our drift check against the same check built on the alternatives, 10 to 2,000 relations.

Each size gets a database with ``schema/billig.sql`` plus N synthetic relations (see
:mod:`benchmarks.synthetic`). Ours is :func:`mirror.drift.check.check_drift`, what ``billig drift``
runs, end to end: load the contract file and the policy, connect, introspect, compare, build the
report. An alternative is the same drift check with only the catalog read replaced: the same
contract reader, a fresh connection, the library's reflection, the conversion of what it returns
into a ``Catalog`` (:mod:`benchmarks.reflection`), and the same comparator.
Before anything is timed, each alternative's catalog must equal ours (apart from SELECT
privileges and unique constraints, which the comparator does not need) and give the same
findings, so every approach does the same job and the ratios measure only how the catalog is
read. Three cases:

(a) the contract is every relation of schema ``billig``, pinned from the database and then
mutated a little (dropped, retyped and re-nulled columns, a renamed, a removed and an invented
relation) so that the comparator has real drift to find, checked as ``billig drift --schema
billig`` (the whole schema in one read);
(b) the contract is the nine Billig relations, as ``schema.sql`` defines them, inside the big
database, checked as plain ``billig drift`` (only those relations, their namesakes and quoting
look-alikes);
(c) the catalog read alone, whole schema: our introspection against the bare reflection calls,
without converting anything, the least an alternative can do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import statistics
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg2
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from benchmarks import reflection, synthetic
from benchmarks.measurement import GcClock, StatementCounter, measure, profile
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.catalog.compare import compare_catalogs
from mirror.catalog.model import Catalog, Column, Kind, Relation, RelationKey
from mirror.drift.check import DriftCheck, check_drift, restrict_to_schemas
from mirror.provision.providers import Server
from mirror.provision.schema import load_schema
from mirror.sources.contract_file import load_contract, write_contract
from mirror.sources.introspect import introspect

SIZES = (10, 100, 1_000, 2_000)
SCHEMA = "billig"
CASE_ALL = "contract = all relations"
CASE_BILLIG = "contract = 9 Billig relations"
CASE_READ = "catalog read only, whole schema"
OURS = "ours: contract + introspect + compare"
OURS_READ = "ours: introspect"
SA_BULK = "SQLAlchemy get_multi_* (bulk)"
SA_PER_TABLE = "SQLAlchemy Inspector per table"
SCHEMAINSPECT = "schemainspect (migra)"
MUTATE_EVERY = 25  # one relation in 25 of the contract differs from the database


def run(server: Server, settings: Settings) -> list[Result]:
    results: list[Result] = []
    for size in settings.sizes(SIZES):
        with _database(server, f"bench_drift_{size}") as url:
            billig, generated = _build(server, url, size)
            live = introspect(url, schemas=[SCHEMA]).catalog
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
    url = server.create_database(name).sqlalchemy()
    try:
        yield url
    finally:
        server.drop_database(name)


def _build(server: Server, url: URL, size: int) -> tuple[Catalog, synthetic.SyntheticSchema]:
    """Load schema.sql and ``size`` synthetic relations; return schema.sql's own catalog."""
    assert url.database
    with contextlib.closing(server.connect(url.database)) as conn:
        load_schema(conn)
        billig = introspect(conn, schemas=[SCHEMA]).catalog
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
    largest = size == max(settings.sizes(SIZES))
    try:
        with engine.connect():
            pass  # the dialect's first-connect queries are not part of any measurement
        with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
            for case, contract in ((CASE_ALL, contract_all), (CASE_BILLIG, billig)):
                path = Path(tmp) / "columns.json"
                write_contract(path, contract)
                schemas = [SCHEMA] if case == CASE_ALL else None
                names = None if case == CASE_ALL else sorted(k.name for k in contract.relations)
                ours = partial(_ours, url, path, schemas, counter)
                check = ours()
                findings = len(check.findings)
                if case == CASE_ALL and not findings:
                    raise RuntimeError("the mutated contract gave the comparator nothing to find")
                alternatives = {
                    SA_BULK: partial(_drift_on, _bulk_catalog, engine, path, schemas, names),
                    SA_PER_TABLE: partial(
                        _drift_on, _per_table_catalog, engine, path, schemas, names
                    ),
                    SCHEMAINSPECT: partial(
                        _drift_on, _schemainspect_catalog, engine, path, schemas, names
                    ),
                }
                for approach, call in alternatives.items():
                    _same_job(approach, check, _catalog_of(approach, engine, names), call())
                extra: dict[str, object] = {
                    "database_relations": len(live),
                    "database_columns": columns,
                    "contract_relations": len(contract),
                    "findings": findings,
                }
                extra_ours: dict[str, object] = {**extra, "phases": _phases(ours)}
                if largest:
                    extra_ours["profile"] = profile(ours)
                results.append(_result(case, size, OURS, ours, counter, settings, extra_ours))
                for approach, call in alternatives.items():
                    results.append(_result(case, size, approach, call, counter, settings, extra))
            results += _measure_read(url, size, engine, counter, settings, len(live), columns)
    finally:
        engine.dispose()
    return results


def _measure_read(
    url: URL,
    size: int,
    engine: Engine,
    counter: StatementCounter,
    settings: Settings,
    relations: int,
    columns: int,
) -> list[Result]:
    """Case (c): the catalog read alone, ours against the bare reflection calls."""
    extra: dict[str, object] = {"database_relations": relations, "database_columns": columns}
    approaches: dict[str, Callable[[], object]] = {
        OURS_READ: partial(_introspect, url, counter),
        SA_BULK: partial(reflection.sqlalchemy_bulk, engine, SCHEMA, None),
        SA_PER_TABLE: partial(reflection.sqlalchemy_per_table, engine, SCHEMA, None),
        SCHEMAINSPECT: partial(reflection.schemainspect_read, engine, SCHEMA),
    }
    return [
        _result(CASE_READ, size, approach, call, counter, settings, extra)
        for approach, call in approaches.items()
    ]


def _result(
    case: str,
    size: int,
    approach: str,
    call: Callable[[], object],
    counter: StatementCounter,
    settings: Settings,
    extra: dict[str, object],
) -> Result:
    # The counter is reset before every sample, so after measure() it holds the last one's count.
    timing = measure(call, settings.repeats, budget_s=settings.budget_s, setup=counter.reset)
    return Result(
        benchmark="drift",
        case=case,
        size=size,
        approach=approach,
        timing=timing,
        statements=counter.count,
        baseline=approach in (OURS, OURS_READ),
        extra=extra,
    )


def _phases(ours: Callable[[], DriftCheck], repeats: int = 3) -> dict[str, float]:
    """Median seconds of each step of ours (its report's own timings) and of its GC time."""
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        gc.collect()
        with GcClock() as collector:
            check = ours()
        for step, seconds in check.report.timings.items():
            samples.setdefault(f"{step}_s", []).append(seconds)
        samples.setdefault("gc_s", []).append(collector.seconds)
    return {step: round(statistics.median(times), 4) for step, times in samples.items()}


# --------------------------------------------------------------------------- the approaches


@contextlib.contextmanager
def _counted(counter: StatementCounter) -> Iterator[None]:
    """Every psycopg2 connection made inside counts its statements (ours connects by URL)."""
    connect = psycopg2.connect

    def counting_connect(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", counter.cursor_factory())
        return connect(*args, **kwargs)

    with mock.patch.object(psycopg2, "connect", counting_connect):
        yield


def _ours(
    url: URL, contract_path: Path, schemas: list[str] | None, counter: StatementCounter
) -> DriftCheck:
    with _counted(counter):
        return check_drift(url, contract=contract_path, schemas=schemas)


def _introspect(url: URL, counter: StatementCounter) -> Catalog:
    with _counted(counter):
        return introspect(url, schemas=[SCHEMA]).catalog


def _drift_on(
    read: Callable[[Engine, list[str] | None], Catalog],
    engine: Engine,
    contract_path: Path,
    schemas: list[str] | None,
    names: list[str] | None,
) -> list[Any]:
    """The drift check of :func:`_ours` with the catalog read by ``read`` instead."""
    expected = load_contract(contract_path)
    if schemas:
        expected = restrict_to_schemas(expected, schemas)
    return compare_catalogs(expected, read(engine, names))


def _bulk_catalog(engine: Engine, names: list[str] | None) -> Catalog:
    return reflection.sqlalchemy_bulk(engine, SCHEMA, names).catalog()


def _per_table_catalog(engine: Engine, names: list[str] | None) -> Catalog:
    return reflection.sqlalchemy_per_table(engine, SCHEMA, names).catalog()


def _schemainspect_catalog(engine: Engine, names: list[str] | None) -> Catalog:
    # schemainspect has no filter: it reads the whole database, then we keep what is asked.
    return reflection.schemainspect_catalog(
        reflection.schemainspect_read(engine, SCHEMA), SCHEMA, names
    )


def _same_job(approach: str, ours: DriftCheck, catalog: Catalog, findings: list[Any]) -> None:
    """Refuse to time an alternative whose catalog or findings differ from ours."""
    # Relations only: ours also reports which asked schemas exist (public, for the quoting
    # look-alikes of plain `billig drift`), which no finding here depends on.
    if catalog.relations != reflection.comparable(ours.actual).relations:
        raise RuntimeError(f"{approach} reads another catalog than ours: not the same job")
    if findings != list(ours.findings):
        raise RuntimeError(
            f"{approach}: {len(findings)} findings, ours {len(ours.findings)}: not the same job"
        )


def _catalog_of(approach: str, engine: Engine, names: list[str] | None) -> Catalog:
    reader = {
        SA_BULK: _bulk_catalog,
        SA_PER_TABLE: _per_table_catalog,
        SCHEMAINSPECT: _schemainspect_catalog,
    }[approach]
    return reader(engine, names)


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
