"""PostgreSQL builds compared for the embedded provider: start-up and the catalog we read.

``python -m benchmarks.servers BINDIR [BINDIR ...]`` starts a private cluster from each server
binary directory the way the ``local`` and ``embedded`` providers do (``initdb`` into an empty
directory, ``postgres`` on a private port, as the unprivileged user when run as root), and times
the way from the empty directory to the answer of a first query. It then loads
``schema/billig.sql`` into each server and introspects the ``billig`` schema: every build's
catalog must equal the first one's (the reference, PostgreSQL 15 as in production), or the exit
code is 1. Also printed: the server version and the size of the install tree (bin, lib, share).
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

from mirror.catalog.model import Catalog
from mirror.provision.providers import run_cluster
from mirror.provision.schema import load_schema
from mirror.sources.introspect import introspect

REPEATS = 5


def _size_mb(bindir: Path) -> float:
    root = bindir.parent
    total = sum(
        f.stat().st_size
        for part in ("bin", "lib", "share")
        for f in (root / part).rglob("*")
        if f.is_file() and not f.is_symlink()
    )
    return total / 1e6


def _first_query_s(bindir: Path) -> tuple[float, str]:
    started = time.perf_counter()
    with (
        run_cluster(bindir, "embedded") as server,
        contextlib.closing(server.connect()) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SHOW server_version")
        row = cur.fetchone()
        return time.perf_counter() - started, str(row[0] if row else "?").split()[0]


def _catalog(bindir: Path) -> Catalog:
    with run_cluster(bindir, "embedded") as server, contextlib.closing(server.connect()) as conn:
        load_schema(conn)
        return introspect(conn, schemas=["billig"]).catalog


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    reference: Catalog | None = None
    same = True
    print("| build | server | first start | median of the next | install tree | catalog |")
    print("|---|---|--:|--:|--:|---|")
    for arg in argv:
        bindir = Path(arg)
        timings, version = [], "?"
        for _ in range(REPEATS + 1):
            seconds, version = _first_query_s(bindir)
            timings.append(seconds)
        catalog = _catalog(bindir)
        if reference is None:
            reference, verdict = catalog, f"reference ({len(catalog)} relations)"
        else:
            equal = catalog == reference
            same = same and equal
            verdict = "equal" if equal else "DIFFERS"
        print(
            f"| {bindir} | {version} | {timings[0]:.2f} s | {statistics.median(timings[1:]):.2f} s"
            f" | {_size_mb(bindir):.0f} MB | {verdict} |"
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
