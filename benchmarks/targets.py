"""The performance targets, judged against the results of one run.

Each :class:`Verdict` says what the target is, what this run measured and whether it is met;
``met`` is None when the run did not measure it (a smoke run measures only the smallest sizes,
and the test-suite duration is measured by CI, not here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import check, drift, isolation, prefetch, processes, startup
from benchmarks.results import Result, growth, ratio

DRIFT_SIZE = 2_000
PREFETCH_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    what: str
    target: str
    measured: str
    met: bool | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _find(
    results: Sequence[Result], benchmark: str, case: str, size: int | None, approach: str
) -> Result | None:
    for r in results:
        if (r.benchmark, r.case, r.size, r.approach) == (benchmark, case, size, approach):
            return r
    return None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def judge(results: Sequence[Result]) -> list[Verdict]:
    return [
        _drift_small_contract(results),
        _drift_big_contract(results),
        _prefetch(results),
        *_startup(results),
        *_isolation(results),
        *_processes(results),
        *_check(results),
        Verdict(
            "full test suite on a 2-core machine",
            "≤ 5 min",
            "measured by CI (.ci/run prints each step's duration), not by the benchmark",
            None,
        ),
    ]


def _drift_small_contract(results: Sequence[Result]) -> Verdict:
    what = "drift check: contract of 9 relations in a database of 2,000 relations"
    target = "≤ 4 catalog statements at every database size, ≤ 0.3 s end to end"
    ours = [r for r in results if r.benchmark == "drift" and r.case == drift.CASE_BILLIG]
    ours = [r for r in ours if r.baseline]
    big = _find(results, "drift", drift.CASE_BILLIG, DRIFT_SIZE, drift.OURS)
    counts = sorted({r.statements for r in ours if r.statements is not None})
    if big is None:
        sizes = ", ".join(str(r.size) for r in ours)
        return Verdict(what, target, f"not at this size (measured: {sizes}); {counts=}", None)
    met = len(counts) == 1 and counts[0] <= 4 and big.timing.median <= 0.3
    sizes = ", ".join(f"{r.size:,}" for r in ours)
    measured = f"{counts} statements at sizes {sizes}; {_ms(big.timing.median)} median"
    return Verdict(what, target, measured, met)


def _drift_big_contract(results: Sequence[Result]) -> Verdict:
    what = "drift check: contract of 2,000 relations / 30,000 columns"
    target = "≤ 0.5 s; ≥ 3× SQLAlchemy bulk, ≥ 5× schemainspect, ≥ 30× per-table Inspector"
    ours = _find(results, "drift", drift.CASE_ALL, DRIFT_SIZE, drift.OURS)
    if ours is None:
        return Verdict(what, target, "not at this size", None)
    wanted = {drift.SA_BULK: 3.0, drift.SCHEMAINSPECT: 5.0, drift.SA_PER_TABLE: 30.0}
    parts = [_ms(ours.timing.median)]
    met = ours.timing.median <= 0.5
    for approach, minimum in wanted.items():
        other = _find(results, "drift", drift.CASE_ALL, DRIFT_SIZE, approach)
        r = ratio(other, results) if other else None
        if r is None:
            met = False
            parts.append(f"{approach}: not measured")
            continue
        met = met and r >= minimum
        if r >= 1:
            parts.append(f"{r:.1f}× faster than {approach}")
        else:
            parts.append(f"{1 / r:.1f}× slower than {approach}")
    return Verdict(what, target, "; ".join(parts), met)


def _prefetch(results: Sequence[Result]) -> Verdict:
    what = "prefetch + serialize 10,000 site events"
    target = "one query per level (≤ 4 in all), ≤ 1 s, 10× events → ≤ 12× time"
    ours = _find(results, "prefetch", prefetch.CASE, PREFETCH_SIZE, prefetch.OURS)
    if ours is None:
        return Verdict(what, target, "not at this size", None)
    g = growth(ours, results)
    met = (
        ours.statements is not None
        and ours.statements <= 4
        and ours.timing.median <= 1.0
        and g is not None
        and g <= 12
    )
    growth_text = f"{g:.1f}× per 10× events" if g is not None else "growth not measured"
    measured = f"{ours.statements} statements, {_ms(ours.timing.median)}, {growth_text}"
    return Verdict(what, target, measured, met)


def _startup(results: Sequence[Result]) -> list[Verdict]:
    out = []
    for provider in ("local", "embedded"):
        what = f"mirror up ({provider} provider)"
        found = _find(results, "startup", startup.CASE, None, provider)
        if found is None:
            out.append(Verdict(what, "≤ 3 s", "provider not available or not run", None))
            continue
        median = found.timing.median
        out.append(Verdict(what, "≤ 3 s", _ms(median), median <= 3.0))
    return out


def _isolation(results: Sequence[Result]) -> list[Verdict]:
    out = []
    for approach, limit in ((isolation.SAVEPOINT, 0.005), (isolation.CLONE, 0.100)):
        what = f"per-test isolation: {approach}"
        found = _find(results, "isolation", isolation.CASE, None, approach)
        target = f"≤ {limit * 1000:.0f} ms median"
        if found is None:
            out.append(Verdict(what, target, "not run", None))
            continue
        median = found.timing.median
        out.append(Verdict(what, target, _ms(median), median <= limit))
    return out


def _processes(results: Sequence[Result]) -> list[Verdict]:
    """Whole processes: each a ratio against its floor, or against ours, in the same run."""

    def median(case: str, approach: str, size: int | None = None) -> float | None:
        found = _find(results, "processes", case, size, approach)
        return found.timing.median if found is not None else None

    out = []
    for what, case, ours, floor, limit in (
        ("whole process: billig --help", processes.CASE_HELP, processes.HELP, processes.PASS, 2.0),
        (
            "whole process: billig drift, project's contract (9 relations)",
            processes.CASE_SMALL,
            processes.OURS,
            processes.BARE,
            2.5,
        ),
    ):
        target = f"≤ {limit:g}× {floor.removeprefix('floor: ')}"
        mine, least = median(case, ours), median(case, floor)
        if mine is None or least is None:
            out.append(Verdict(what, target, "not run", None))
            continue
        r = mine / least
        out.append(Verdict(what, target, f"{r:.2f}× ({_ms(mine)} vs {_ms(least)})", r <= limit))
    big = "whole process: billig drift, contract of 2,000 relations"
    mine = median(processes.CASE_BIG, processes.OURS, DRIFT_SIZE)
    least = median(processes.CASE_BIG, processes.FLOOR, DRIFT_SIZE)
    target = "≤ 2× the floor (json.loads + 2 catalog queries)"
    if mine is None or least is None:
        out.append(Verdict(big, target, "not at this size", None))
    else:
        r = mine / least
        out.append(Verdict(big, target, f"{r:.2f}× ({_ms(mine)} vs {_ms(least)})", r <= 2.0))
    huge = median(processes.CASE_BIG, processes.OURS, processes.HUGE_SIZE)
    what = "whole process: billig drift, contract of 10,000 relations"
    target = "≤ 5.5× the time at 2,000 relations"
    if mine is None or huge is None:
        out.append(Verdict(what, target, "not at this size", None))
    else:
        measured = f"{huge / mine:.2f}× ({_ms(huge)} vs {_ms(mine)})"
        huge_floor = median(processes.CASE_BIG, processes.FLOOR, processes.HUGE_SIZE)
        if huge_floor is not None:
            measured += f"; {huge / huge_floor:.2f}× its floor"
        out.append(Verdict(what, target, measured, huge / mine <= 5.5))
    for label, same_job, alone, limit in (
        ("SQLAlchemy bulk", processes.SA_BULK, processes.SA_BULK_READ, 2.0),
        ("per-table Inspector", processes.SA_PER_TABLE, processes.SA_PER_TABLE_READ, 20.0),
    ):
        what = f"{big}: the same check on {label} reflection, as a process"
        target = f"≥ {limit:g}× billig drift"
        other = median(processes.CASE_BIG, same_job, DRIFT_SIZE)
        if mine is None or other is None:
            out.append(Verdict(what, target, "not at this size", None))
            continue
        measured = f"{other / mine:.1f}× ({_ms(other)})"
        reading = median(processes.CASE_BIG, alone, DRIFT_SIZE)
        if reading is not None:
            measured += f"; the reflection alone, doing less: {reading / mine:.1f}×"
        out.append(Verdict(what, target, measured, other / mine >= limit))
    return out


def _check(results: Sequence[Result]) -> list[Verdict]:
    """``billig check`` cold and warm against its floor, per project, in the same run."""
    limits = {
        "examples/django_site": {check.WARM: 1.0, check.COLD: 2.0},
        "this repository (reference site)": {check.WARM: 1.5, check.COLD: 3.0},
    }
    out = []
    for project, wanted in limits.items():
        floor = _find(results, "check", project, None, check.FLOOR)
        for approach, limit in wanted.items():
            what = f"{approach}: {project}"
            target = f"≤ {limit:g}× the floor (initdb, start, psql -f schema.sql, stop)"
            ours = _find(results, "check", project, None, approach)
            if floor is None or ours is None:
                out.append(Verdict(what, target, "not run", None))
                continue
            r = ours.timing.median / floor.timing.median
            measured = f"{r:.2f}× ({_ms(ours.timing.median)} vs {_ms(floor.timing.median)})"
            out.append(Verdict(what, target, measured, r <= limit))
    first = _find(results, "check", check.PYTEST_CASE, None, check.PYTEST_FIRST)
    what = "pytest: the first test using the seeded mirror starts, warm cache"
    if first is None:
        out.append(Verdict(what, "≤ 0.5 s after pytest starts", "not run", None))
    else:
        median = first.timing.median
        measured = _ms(median)
        floor = _find(results, "check", check.PYTEST_CASE, None, check.PYTEST_FLOOR)
        if floor is not None:
            measured += f"; {_ms(median - floor.timing.median)} more than a test using no fixture"
        out.append(Verdict(what, "≤ 0.5 s after pytest starts", measured, median <= 0.5))
    return out
