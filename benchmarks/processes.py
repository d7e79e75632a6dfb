"""What users wait for: whole processes, start-up included, side by side in one run.

Every approach is a fresh child process, timed from spawn to exit, so interpreter start-up and
imports count as they do for a user. Ratios are medians over the baseline of the same run:

- ``billig --help`` against ``python -c pass`` (target ≤ 2×);
- ``billig drift`` of the project's 9-relation contract against a bare process that imports
  psycopg2, connects and runs ``SELECT 1`` (target ≤ 2.5×);
- ``billig drift`` of a 2,000-relation contract against the floor, a process that ``json.load``\\ s
  the contract and runs two catalog queries (target ≤ 1.5×), and SQLAlchemy's bulk and per-table
  reflection of the same schema run as processes (targets: they take ≥ 2× and ≥ 20× ours).
"""

from __future__ import annotations

import compileall
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks import synthetic
from benchmarks.measurement import measure
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.dsn import Dsn
from mirror.provision.providers import Server
from mirror.provision.schema import load_schema
from mirror.sources.contract_file import write_contract
from mirror.sources.introspect import introspect

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = "processes"
LARGE = 2_000
# Targets of issue 12: (case, approach) → (bound, "max" when ours must stay below, "min" when the
# alternative must be at least that many times slower than ours).
TARGETS = {
    ("start-up", "billig --help"): (2.0, "max"),
    ("drift, project contract", "billig drift"): (2.5, "max"),
    ("drift, 2,000 relations", "billig drift"): (1.5, "max"),
    ("drift, 2,000 relations", "SQLAlchemy bulk reflection"): (2.0, "min"),
    ("drift, 2,000 relations", "SQLAlchemy per-table Inspector"): (20.0, "min"),
}

_BARE = "import sys, psycopg2; c = psycopg2.connect(sys.argv[1]); c.cursor().execute('select 1')"
_FLOOR = """
import json, sys, psycopg2
json.load(open(sys.argv[2]))
cur = psycopg2.connect(sys.argv[1]).cursor()
cur.execute(\"\"\"
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = 'billig' AND a.attnum > 0 AND NOT a.attisdropped
   AND c.relkind IN ('r', 'v', 'm', 'p', 'f')\"\"\")
cur.fetchall()
cur.execute(\"\"\"
SELECT con.conrelid::regclass::text, con.contype, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
 WHERE n.nspname = 'billig'\"\"\")
cur.fetchall()
"""
_BULK = """
import sys
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine.reflection import ObjectKind
insp = inspect(create_engine(sys.argv[1]))
insp.get_multi_columns(schema="billig", kind=ObjectKind.ANY)
insp.get_multi_pk_constraint(schema="billig")
insp.get_multi_foreign_keys(schema="billig")
"""
_PER_TABLE = """
import sys
from sqlalchemy import create_engine, inspect
insp = inspect(create_engine(sys.argv[1]))
for name in insp.get_table_names(schema="billig") + insp.get_view_names(schema="billig"):
    insp.get_columns(name, schema="billig")
    insp.get_pk_constraint(name, schema="billig")
    insp.get_foreign_keys(name, schema="billig")
"""


# As an installed package runs: from compiled bytecode (pip compiles a wheel when installing it;
# the test environments forbid writing bytecode, which would make every child compile the
# package's sources again).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(server: Server, settings: Settings) -> list[Result]:
    compileall.compile_dir(ROOT / "mirror", quiet=1)
    results = _startup(settings)
    with _database(server, "bench_processes_9") as dsn:
        _load(server, dsn, extra=0)
        results += _project_drift(dsn, settings)
    if not settings.smoke:
        with _database(server, "bench_processes_large") as dsn:
            _load(server, dsn, extra=LARGE)
            results += _large_drift(dsn, settings)
    return results


def _startup(settings: Settings) -> list[Result]:
    case = "start-up"
    return [
        _timed(case, None, "python -c pass", [sys.executable, "-c", "pass"], settings, True),
        _timed(case, None, "billig --help", [*_billig(), "--help"], settings),
    ]


def _project_drift(dsn: Dsn, settings: Settings) -> list[Result]:
    case = "drift, project contract"
    contract = ROOT / "contracts" / "columns.json"
    bare = [sys.executable, "-c", _BARE, dsn.url()]
    ours = [*_billig(), "drift", "--dsn", dsn.url(), "--contract", str(contract)]
    return [
        _timed(case, 9, "python: import psycopg2, connect, SELECT 1", bare, settings, True),
        _timed(case, 9, "billig drift", ours, settings, codes=(0, 1)),
    ]


def _large_drift(dsn: Dsn, settings: Settings) -> list[Result]:
    case = "drift, 2,000 relations"
    size = LARGE + 9
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        contract = Path(tmp) / "columns.json"
        write_contract(contract, introspect(dsn, schemas=["billig"]).catalog)
        url = dsn.sqlalchemy().render_as_string(hide_password=False)
        floor = [sys.executable, "-c", _FLOOR, dsn.url(), str(contract)]
        ours = [*_billig(), "drift", "--dsn", dsn.url(), "--contract", str(contract)]
        return [
            _timed(case, size, "floor: json.load + two catalog queries", floor, settings, True),
            _timed(case, size, "billig drift", ours, settings, codes=(0, 1)),
            _timed(
                case,
                size,
                "SQLAlchemy bulk reflection",
                [sys.executable, "-c", _BULK, url],
                settings,
            ),
            _timed(
                case,
                size,
                "SQLAlchemy per-table Inspector",
                [sys.executable, "-c", _PER_TABLE, url],
                settings,
                repeats=3,
            ),
        ]


def _billig() -> list[str]:
    return [sys.executable, "-m", "mirror.cli"]


def _timed(
    case: str,
    size: int | None,
    approach: str,
    command: Sequence[str],
    settings: Settings,
    baseline: bool = False,
    *,
    codes: tuple[int, ...] = (0,),
    repeats: int | None = None,
) -> Result:
    def once() -> None:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=_ENV
        )
        if done.returncode not in codes:
            raise RuntimeError(f"{approach}: exit {done.returncode}: {done.stderr.strip()[-400:]}")

    timing = measure(once, repeats or settings.repeats, budget_s=settings.budget_s)
    target = TARGETS.get((case, approach))
    extra = {"target": f"{'≤' if target[1] == 'max' else '≥'} {target[0]}×"} if target else {}
    return Result(BENCHMARK, case, size, approach, timing, baseline=baseline, extra=extra)


@contextlib.contextmanager
def _database(server: Server, name: str) -> Iterator[Dsn]:
    server.drop_database(name)
    dsn = server.create_database(name)
    try:
        yield dsn
    finally:
        server.drop_database(name)


def _load(server: Server, dsn: Dsn, *, extra: int) -> None:
    """schema.sql, plus ``extra`` synthetic relations in the billig schema."""
    assert dsn.database
    with contextlib.closing(server.connect(dsn.database)) as conn:
        load_schema(conn, ROOT / "schema" / "billig.sql")
        if extra:
            with conn.cursor() as cur:
                cur.execute(synthetic.generate(extra).ddl)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE")


def ratios(results: Sequence[Result]) -> list[dict[str, object]]:
    """Each targeted approach's ratio (ours over baseline, or alternative over ours)."""
    by_key = {(r.case, r.approach): r for r in results if r.benchmark == BENCHMARK}
    out: list[dict[str, object]] = []
    for (case, approach), (bound, kind) in TARGETS.items():
        result = by_key.get((case, approach))
        if result is None:
            continue
        if kind == "max":
            base = next(r for r in results if r.baseline and r.group == result.group)
            value = result.timing.median / base.timing.median
            met = value <= bound
        else:
            ours = by_key[(case, "billig drift")]
            value = result.timing.median / ours.timing.median
            met = value >= bound
        out.append({"case": case, "approach": approach, "ratio": round(value, 2), "met": met})
    return out
