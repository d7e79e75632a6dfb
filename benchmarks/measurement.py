"""Measuring one approach: wall-time medians over repeats, and the SQL statements it sends.

Statements are counted where they leave the client: a psycopg2 cursor class that counts every
``execute``/``executemany``/``copy_expert`` call, installed as the connection's
``cursor_factory``. Every approach measured here (our introspection, SQLAlchemy reflection,
schemainspect, the ORM) goes through psycopg2 cursors, so the count includes what a library
sends behind its public API (SQLAlchemy's enum and domain look-ups, for instance), not only
the calls we make. psycopg2 uses the simple query protocol, so one call is one statement on the
server; the implicit ``BEGIN`` and the closing ``ROLLBACK``/``COMMIT`` are not counted.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extensions

MIN_REPEATS = 3  # a median needs at least three samples


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-time samples of one measurement, in seconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    def as_json(self) -> dict[str, Any]:
        return {
            "median_s": round(self.median, 6),
            "min_s": round(self.best, 6),
            "max_s": round(max(self.samples), 6),
            "repeats": len(self.samples),
            "samples_s": [round(x, 6) for x in self.samples],
        }


def measure(
    run: Callable[[], object],
    repeats: int,
    *,
    budget_s: float | None = None,
    warmup: bool = True,
    setup: Callable[[], object] | None = None,
    teardown: Callable[[], object] | None = None,
) -> Timing:
    """Time ``run`` up to ``repeats`` times after one untimed warm-up call.

    With ``budget_s``, stop early once that much time is spent, but never before
    :data:`MIN_REPEATS` samples: slow alternatives keep a median without tripling the run.
    ``setup``/``teardown`` run around each call, untimed. Garbage is collected before each
    sample, so that one measurement's garbage does not land on the next, but the collector stays
    on inside the timed region: collections an approach triggers are part of its real cost.
    """
    if repeats < MIN_REPEATS:
        raise ValueError(f"repeats must be at least {MIN_REPEATS}")
    if warmup:
        if setup is not None:
            setup()
        try:
            run()
        finally:
            if teardown is not None:
                teardown()
    samples: list[float] = []
    while len(samples) < repeats:
        if setup is not None:
            setup()
        gc.collect()
        try:
            start = time.perf_counter()
            run()
            samples.append(time.perf_counter() - start)
        finally:
            if teardown is not None:
                teardown()
        if budget_s is not None and len(samples) >= MIN_REPEATS and sum(samples) > budget_s:
            break
    return Timing(tuple(samples))


class StatementCounter:
    """Counts statements sent through cursors made by :meth:`cursor_factory`."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def _sent(self, query: object) -> None:
        self.count += 1

    def cursor_factory(self) -> type[psycopg2.extensions.cursor]:
        """A cursor class bound to this counter, for ``psycopg2.connect(cursor_factory=…)``."""
        counter = self

        class CountingCursor(psycopg2.extensions.cursor):
            def execute(self, query: Any, vars: Any = None) -> None:
                counter._sent(query)
                super().execute(query, vars)

            def executemany(self, query: Any, vars_list: Any) -> None:
                # psycopg2 sends one statement per parameter set.
                params = list(vars_list)
                for _ in params:
                    counter._sent(query)
                super().executemany(query, params)

            def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
                counter._sent(sql)
                super().copy_expert(sql, file, size)

        return CountingCursor

    def connect_args(self) -> dict[str, Any]:
        """``create_engine(..., connect_args=…)`` so an engine's connections count here."""
        return {"cursor_factory": self.cursor_factory()}


def profile(run: Callable[[], object], top: int = 8) -> list[dict[str, Any]]:
    """Where one call of ``run`` spends its time: the ``top`` functions by own time.

    ``cursor.execute`` (psycopg2, in C) stands for the time spent waiting on the server.
    """
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    rows: list[dict[str, Any]] = []
    entries = stats.stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, tottime, cumtime, _) in entries.items():
        # Built-ins come as ("~", 0, "<method 'execute' of …>"); drop object addresses.
        label = re.sub(r" at 0x[0-9a-f]+", "", name)
        if line:
            label = f"{label} ({Path(filename).name}:{line})"
        rows.append(
            {
                "function": label,
                "calls": calls,
                "own_s": round(tottime, 4),
                "cumulative_s": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:top]


class GcClock:
    """Time the cyclic garbage collector spends while active (``with GcClock() as gc_time``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started: float | None = None

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1
            self._started = None

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._callback)


class Laps:
    """Named steps of a run: the wall time and the garbage-collection time of each.

    The run calls :meth:`lap` after each step; :func:`phases` runs it a few times and keeps the
    median per step, as ``<step>_s`` and ``<step>_gc_s``.
    """

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.collector = GcClock()
        self._last = 0.0
        self._last_gc = 0.0

    def start(self) -> None:
        self._last, self._last_gc = time.perf_counter(), self.collector.seconds

    def lap(self, step: str) -> None:
        now, spent = time.perf_counter(), self.collector.seconds
        self.samples.setdefault(f"{step}_s", []).append(now - self._last)
        self.samples.setdefault(f"{step}_gc_s", []).append(spent - self._last_gc)
        self._last, self._last_gc = now, spent


def phases(run: Callable[[Laps], object], repeats: int = MIN_REPEATS) -> dict[str, float]:
    """Median wall and GC time per step of ``run`` over ``repeats`` extra, untimed runs."""
    laps = Laps()
    for _ in range(repeats):
        gc.collect()
        with laps.collector:
            laps.start()
            run(laps)
    return {step: round(statistics.median(times), 4) for step, times in laps.samples.items()}
