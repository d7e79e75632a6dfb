"""The drift check built on SQLAlchemy reflection, as a process of its own.

``python -m benchmarks.alternative_drift {bulk,per-table} CONTRACT SCHEMA [--json FILE]`` does
what ``billig drift --contract CONTRACT --schema SCHEMA`` does for the database in
``$BILLIG_PROD_DSN``, with only the catalog read replaced: the same contract reader, SQLAlchemy's
bulk reflection or its Inspector table by table (:mod:`benchmarks.reflection`, converted to a
``Catalog``), the same comparator and the same text report on stdout. With ``--json`` the JSON
report also goes to FILE, so that the benchmark can check that the findings equal ours before it
times anything. Only what this path needs is imported: a user's tool built on SQLAlchemy
reflection would pay for the same imports.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks import reflection
from mirror.catalog.compare import compare_catalogs
from mirror.drift.check import restrict_to_schemas
from mirror.drift.policy import Policy
from mirror.report.render import Report, render
from mirror.sources.contract_file import load_contract

READERS = {"bulk": reflection.sqlalchemy_bulk, "per-table": reflection.sqlalchemy_per_table}


def main(args: list[str]) -> int:
    json_path = None
    if len(args) == 5 and args[3] == "--json":
        json_path = Path(args[4])
        args = args[:3]
    if len(args) != 3 or args[0] not in READERS:
        print(__doc__, file=sys.stderr)
        return 2
    reader, contract, schema = READERS[args[0]], Path(args[1]), args[2]
    started = time.perf_counter()
    expected = restrict_to_schemas(load_contract(contract), [schema])
    loaded = time.perf_counter()
    url = make_url(os.environ["BILLIG_PROD_DSN"]).set(drivername="postgresql+psycopg2")
    engine = create_engine(url, poolclass=NullPool)
    try:
        actual = reader(engine, schema, None).catalog()
    finally:
        engine.dispose()
    read = time.perf_counter()
    findings = compare_catalogs(expected, actual)
    done = time.perf_counter()
    report = Report.build(
        findings,
        policy=Policy(),
        checked=tuple(expected.relations),
        timings={
            "contract": loaded - started,
            "introspect": read - loaded,
            "compare": done - read,
            "total": done - started,
        },
        target=url.render_as_string(hide_password=True),
        contract=str(contract),
    )
    sys.stdout.write(render(report, "text"))
    if json_path is not None:
        json_path.write_text(render(report, "json"), encoding="utf-8")
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
