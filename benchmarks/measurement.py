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

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    ``setup``/``teardown`` run around each call, untimed. The garbage collector is paused inside
    the timed region (and collected before it) so that a collection caused by one measurement
    does not land on the next.
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
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            samples.append(time.perf_counter() - start)
        finally:
            gc.enable()
            if teardown is not None:
                teardown()
        if budget_s is not None and len(samples) >= MIN_REPEATS and sum(samples) > budget_s:
            break
    return Timing(tuple(samples))


class StatementCounter:
    """Counts statements sent through cursors made by :meth:`cursor_factory`."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: list[str] = []
        self.keep_texts = False

    def reset(self) -> None:
        self.count = 0
        self.texts.clear()

    def _sent(self, query: object) -> None:
        self.count += 1
        if self.keep_texts:
            self.texts.append(query.decode() if isinstance(query, bytes) else str(query))

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


def counted(counter: StatementCounter, run: Callable[[], object]) -> int:
    """Statements ``run`` sends through ``counter``'s cursors (one extra, untimed call)."""
    counter.reset()
    run()
    return counter.count
