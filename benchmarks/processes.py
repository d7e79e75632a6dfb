"""Whole processes, as a user waits for them: start-up, imports, the check and the exit.

Each case runs its processes side by side in one run, against a floor: the least a process doing
that job has to do. Samples are taken in rounds, one process of each approach per round in a
rotating order, so that other work on the machine falls on every approach alike; the first round
is an untimed warm-up (it also writes the bytecode caches, which an installed package has).
Four cases:

- ``billig --help`` against ``python -c pass`` (the interpreter's own start-up, with the same
  site-packages), with ``python -c "import click"`` as the reference of what click alone costs;
- ``billig drift`` of the project's own contract (9 relations, with lineage and the project's
  drift policy, as configured in its ``pyproject.toml``) against a database of
  ``schema/billig.sql``, against a bare ``python -c "import psycopg2; connect; SELECT 1"``;
- ``billig drift --schema billig`` of a contract of every relation of a database of
  ``schema/billig.sql`` plus 2,000 generated relations (the mutated contract of
  :mod:`benchmarks.drift`, with real drift to report), against a floor process that
  ``json.loads`` the contract and runs two catalog queries (columns, constraints) without
  building anything; and the same drift check built on SQLAlchemy reflection, bulk and table by
  table, each a process of its own (:mod:`benchmarks.alternative_drift`). Before anything is
  timed, each alternative must report the same findings as ``billig drift``. For reference, the
  bare reflection calls as processes too, which do less than a drift check (no contract, no
  comparison, no report);
- the same ``billig drift --schema billig`` at 10,000 generated relations, against its floor
  (full runs only; the alternatives would take minutes): how the check grows with size.

The child processes get the environment of this one without ``PYTHONDONTWRITEBYTECODE`` (tox sets
it; without bytecode caches every process would compile the package again) and without the
``BILLIG_*`` settings of the calling shell; the database is given as ``$BILLIG_PROD_DSN``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import drift, synthetic
from benchmarks.measurement import MIN_REPEATS, Timing
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.dsn import Dsn
from mirror.provision.providers import Server
from mirror.provision.schema import load_schema
from mirror.sources.contract_file import write_contract
from mirror.sources.introspect import introspect

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "billig"
BIG_SIZE = 2_000
HUGE_SIZE = 10_000  # near-linear growth: at most 5.5× the time of BIG_SIZE
SMOKE_SIZE = 10  # a smoke run proves that every process runs, not how fast

CASE_HELP = "start-up: billig --help"
CASE_SMALL = "billig drift, the project's contract (9 relations) against a mirror"
CASE_BIG = "billig drift --schema billig, contract = all relations"

PASS = "floor: python -c pass"
CLICK = 'python -c "import click"'
HELP = "billig --help"
BARE = "floor: python, psycopg2 connect, SELECT 1"
OURS = "billig drift"
FLOOR = "floor: python, json.loads contract, 2 catalog queries"
SA_BULK = "drift on SQLAlchemy bulk reflection"
SA_PER_TABLE = "drift on SQLAlchemy per-table Inspector"
SA_BULK_READ = "SQLAlchemy bulk reflection alone"
SA_PER_TABLE_READ = "SQLAlchemy per-table Inspector alone"

FULL_ROUNDS = 15  # timed rounds of a full run; slow approaches stop at MIN_REPEATS
BUDGET_S = 20.0  # time one approach may spend on its samples before it stops early

BARE_SCRIPT = """
import os, psycopg2
conn = psycopg2.connect(os.environ["BILLIG_PROD_DSN"])
cur = conn.cursor()
cur.execute("SELECT 1")
cur.fetchone()
conn.close()
"""

# The least a drift check reads: every column and every key constraint of the schema, raw.
FLOOR_SCRIPT = """
import json, os, sys, psycopg2
with open(sys.argv[1], encoding="utf-8") as f:
    contract = json.loads(f.read())
conn = psycopg2.connect(os.environ["BILLIG_PROD_DSN"])
cur = conn.cursor()
cur.execute(
    "SELECT c.relname, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
    " a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid)"
    " FROM pg_catalog.pg_attribute AS a"
    " JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')"
    " AND a.attnum > 0 AND NOT a.attisdropped",
    (sys.argv[2],),
)
columns = cur.fetchall()
cur.execute(
    "SELECT con.conrelid, con.contype, con.conkey, con.confrelid, con.confkey"
    " FROM pg_catalog.pg_constraint AS con"
    " JOIN pg_catalog.pg_namespace AS n ON n.oid = con.connamespace"
    " WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'f')",
    (sys.argv[2],),
)
constraints = cur.fetchall()
conn.close()
print(len(contract["relations"]), len(columns), len(constraints))
"""


# Reflection alone, nothing done with what it returns: less work than a drift check (no contract,
# no comparison, no report), the least a SQLAlchemy-based check pays.
BULK_READ_SCRIPT = """
import os, sys
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.engine.reflection import ObjectKind
url = make_url(os.environ["BILLIG_PROD_DSN"]).set(drivername="postgresql+psycopg2")
insp = inspect(create_engine(url))
insp.get_view_names(schema=sys.argv[1])
insp.get_multi_columns(schema=sys.argv[1], kind=ObjectKind.ANY)
insp.get_multi_pk_constraint(schema=sys.argv[1], kind=ObjectKind.ANY)
insp.get_multi_foreign_keys(schema=sys.argv[1], kind=ObjectKind.ANY)
"""
PER_TABLE_READ_SCRIPT = """
import os, sys
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
url = make_url(os.environ["BILLIG_PROD_DSN"]).set(drivername="postgresql+psycopg2")
insp = inspect(create_engine(url))
schema = sys.argv[1]
for name in insp.get_table_names(schema=schema) + insp.get_view_names(schema=schema):
    insp.get_columns(name, schema=schema)
    insp.get_pk_constraint(name, schema=schema)
    insp.get_foreign_keys(name, schema=schema)
"""


@dataclass(frozen=True, slots=True)
class Command:
    """One approach: a process to start, where, and the exit codes that mean it did its job."""

    argv: tuple[str, ...]
    cwd: Path
    codes: frozenset[int] = frozenset({0})
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], object] | None = None  # run before each sample, untimed


def run(server: Server, settings: Settings) -> list[Result]:
    python = sys.executable
    results = measure_processes(
        CASE_HELP,
        None,
        {
            PASS: Command((python, "-c", "pass"), ROOT),
            CLICK: Command((python, "-c", "import click"), ROOT),
            HELP: Command((*billig_command(), "--help"), ROOT),
        },
        settings,
    )
    with _database(server, "bench_processes_9") as dsn:
        _load(server, dsn, extra=0)
        env = {"BILLIG_PROD_DSN": dsn.url()}
        results += measure_processes(
            CASE_SMALL,
            None,
            {
                BARE: Command((python, "-c", BARE_SCRIPT), ROOT, env=env),
                # The project's own configuration: contracts/columns.json and its drift policy.
                OURS: Command((*billig_command(), "drift"), ROOT, frozenset({0, 1}), env),
            },
            settings,
        )
        results = _with_phases(results, CASE_SMALL, env, settings)
    size = SMOKE_SIZE if settings.smoke else BIG_SIZE
    with (
        _database(server, f"bench_processes_{size}") as dsn,
        tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp,
    ):
        _load(server, dsn, extra=size)
        live = introspect(dsn, schemas=[SCHEMA]).catalog
        contract = Path(tmp) / "columns.json"
        write_contract(contract, drift.mutate(live))
        env = {"BILLIG_PROD_DSN": dsn.url()}
        found = frozenset({0, 1})  # drift found (the contract is mutated) or not
        alternative = (python, "-m", "benchmarks.alternative_drift")
        commands = {
            FLOOR: Command((python, "-c", FLOOR_SCRIPT, str(contract), SCHEMA), Path(tmp), env=env),
            OURS: Command(
                (*billig_command(), "drift", "--contract", str(contract), "--schema", SCHEMA),
                Path(tmp),
                found,
                env,
            ),
            SA_BULK: Command((*alternative, "bulk", str(contract), SCHEMA), ROOT, found, env),
            SA_PER_TABLE: Command(
                (*alternative, "per-table", str(contract), SCHEMA), ROOT, found, env
            ),
            SA_BULK_READ: Command((python, "-c", BULK_READ_SCRIPT, SCHEMA), ROOT, env=env),
            SA_PER_TABLE_READ: Command(
                (python, "-c", PER_TABLE_READ_SCRIPT, SCHEMA), ROOT, env=env
            ),
        }
        findings = _same_findings(commands, Path(tmp))
        extra: dict[str, object] = {
            "database_relations": len(live),
            "database_columns": sum(len(r.columns) for r in live),
            "contract_bytes": contract.stat().st_size,
            "findings": findings,
        }
        results += measure_processes(CASE_BIG, size, commands, settings, extra)
        results = _with_phases(results, CASE_BIG, env, settings, commands[OURS])
    if not settings.smoke:
        results += _huge(server, settings)
    return results


def _huge(server: Server, settings: Settings) -> list[Result]:
    """The same check at 10,000 relations: ours and the floor (the alternatives take minutes)."""
    python = sys.executable
    with (
        _database(server, f"bench_processes_{HUGE_SIZE}") as dsn,
        tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp,
    ):
        _load(server, dsn, extra=HUGE_SIZE)
        live = introspect(dsn, schemas=[SCHEMA]).catalog
        contract = Path(tmp) / "columns.json"
        write_contract(contract, drift.mutate(live))
        env = {"BILLIG_PROD_DSN": dsn.url()}
        commands = {
            FLOOR: Command((python, "-c", FLOOR_SCRIPT, str(contract), SCHEMA), Path(tmp), env=env),
            OURS: Command(
                (*billig_command(), "drift", "--contract", str(contract), "--schema", SCHEMA),
                Path(tmp),
                frozenset({0, 1}),
                env,
            ),
        }
        extra: dict[str, object] = {
            "database_relations": len(live),
            "database_columns": sum(len(r.columns) for r in live),
            "contract_bytes": contract.stat().st_size,
        }
        results = measure_processes(CASE_BIG, HUGE_SIZE, commands, settings, extra)
        return _with_phases(results, CASE_BIG, env, settings, commands[OURS])


def billig_command() -> tuple[str, ...]:
    """The ``billig`` console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("billig")
    return (str(script),) if script.is_file() else (sys.executable, "-m", "mirror.cli")


@contextlib.contextmanager
def _database(server: Server, name: str) -> Iterator[Dsn]:
    server.drop_database(name)
    dsn = server.create_database(name)
    try:
        yield dsn
    finally:
        server.drop_database(name)


def _load(server: Server, dsn: Dsn, *, extra: int) -> None:
    """schema.sql, plus ``extra`` synthetic relations in the billig schema, analysed."""
    assert dsn.database
    with contextlib.closing(server.connect(dsn.database)) as conn:
        load_schema(conn, ROOT / "schema" / "billig.sql")
        if extra:
            with conn.cursor() as cur:
                cur.execute(synthetic.generate(extra).ddl)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            # Production catalogs have statistics; give every approach the same planner.
            cur.execute("ANALYZE")


def environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment for a child: bytecode caches on, no BILLIG_* of the shell."""
    drop = ("PYTHONDONTWRITEBYTECODE", "GITHUB_STEP_SUMMARY")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("BILLIG_")}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def _with_phases(
    results: list[Result],
    case: str,
    env: dict[str, str],
    settings: Settings,
    command: Command | None = None,
) -> list[Result]:
    """Ours with the median of its own step timings (the JSON report's) over a few more runs.

    What the process takes beyond ``total`` is start-up, imports, rendering and exit.
    """
    ours = next(r for r in results if r.case == case and r.approach == OURS)
    if settings.smoke:
        return results  # informative only; a smoke run proves that the processes run
    command = command or Command((*billig_command(), "drift"), ROOT, frozenset({0, 1}), env)
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-proc-phases-") as tmp:
        path = Path(tmp) / "report.json"
        for _ in range(MIN_REPEATS):
            _start(OURS, command, "--output", f"json:{path}")
            timings = json.loads(path.read_text(encoding="utf-8"))["timings"]
            for step, seconds in timings.items():
                samples.setdefault(f"{step}_s", []).append(seconds)
    phases = {step: round(statistics.median(times), 4) for step, times in samples.items()}
    phases["outside_check_s"] = round(ours.timing.median - phases.get("total_s", 0.0), 4)
    extra = {**ours.extra, "phases": phases}
    return [dataclasses.replace(r, extra=extra) if r is ours else r for r in results]


def _start(name: str, command: Command, *extra_args: str) -> float:
    """Run ``command`` to its end; its wall time, or an error if it did not do its job."""
    env = environment(command.env)
    if command.prepare is not None:
        command.prepare()
    start = time.perf_counter()
    proc = subprocess.run(
        (*command.argv, *extra_args),
        cwd=command.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode not in command.codes:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{name}: exit {proc.returncode}: {last}")
    return seconds


def _same_findings(commands: dict[str, Command], tmp: Path) -> int:
    """Refuse to time an alternative whose findings differ from those of ``billig drift``."""
    reports: dict[str, list[object]] = {}
    for name in (OURS, SA_BULK, SA_PER_TABLE):
        path = tmp / f"report-{len(reports)}.json"
        flag = ("--output", f"json:{path}") if name == OURS else ("--json", str(path))
        _start(name, commands[name], *flag)
        reports[name] = json.loads(path.read_text(encoding="utf-8"))["findings"]
    ours = reports[OURS]
    if not ours:
        raise RuntimeError("the mutated contract gave the comparator nothing to find")
    for name, findings in reports.items():
        if findings != ours:
            raise RuntimeError(
                f"{name}: {len(findings)} findings, billig drift {len(ours)}: not the same job"
            )
    return len(ours)


def measure_processes(
    case: str,
    size: int | None,
    commands: dict[str, Command],
    settings: Settings,
    extra: dict[str, object] | None = None,
    benchmark: str = "processes",
) -> list[Result]:
    """Samples of every command in rounds (one each, rotating order) after a warm-up round."""
    rounds = settings.repeats if settings.smoke else max(settings.repeats, FULL_ROUNDS)
    budget = settings.budget_s if settings.smoke else BUDGET_S
    names = list(commands)
    for name in names:  # warm-up: bytecode caches, page cache, the server's catalog caches
        _start(name, commands[name])
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in rotated(names, i):
            taken = samples[name]
            if len(taken) >= MIN_REPEATS and sum(taken) > budget:
                continue  # slow: a median of what it has, without tripling the run
            taken.append(_start(name, commands[name]))
    baseline = names[0]
    return [
        Result(
            benchmark=benchmark,
            case=case,
            size=size,
            approach=name,
            timing=Timing(tuple(samples[name])),
            baseline=name == baseline,
            extra={**(extra or {}), "command": _shown(commands[name])},
        )
        for name in names
    ]


def rotated(names: Sequence[str], i: int) -> list[str]:
    """``names`` starting at the ``i``-th: round ``i``'s order."""
    k = i % len(names)
    return [*names[k:], *names[:k]]


def _shown(command: Command) -> str:
    """The command as a user would type it: no interpreter path, no script body, no paths."""
    argv = list(command.argv)
    if argv[0] == sys.executable:
        argv[0] = "python"
    elif Path(argv[0]).name == "billig":
        argv[0] = "billig"
    if "-c" in argv:
        script = argv[argv.index("-c") + 1]
        argv = [*argv[: argv.index("-c") + 1], shlex.quote(script) if "\n" not in script else "…"]
    return " ".join(Path(a).name if a.startswith("/") else a for a in argv)
