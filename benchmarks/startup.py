"""Mirror start-up per provider the machine has: time until a seeded mirror is ready.

For each of local, embedded and docker that can run here, ``start_mirror`` is entered and left
repeatedly: the time to ready covers starting the server, creating the template database,
loading ``schema/billig.sql``, seeding the default events and cloning the mirror database. The
first start of each provider is reported apart (``first_start_s``), since it may pay one-time
costs (copying the embedded binaries to a cache, a cold page cache), and so is tear-down.
Docker is measured only when an engine answers and a PostgreSQL image is present locally.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import replace

from benchmarks.measurement import MIN_REPEATS, Timing
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.errors import HarnessError, ProviderError
from mirror.provision.mirror import DEFAULT_EVENTS, Mirror, start_mirror
from mirror.provision.providers import ProviderOptions, docker_check, embedded_bindir, local_bindir

PROVIDERS = ("local", "embedded", "docker")
CASE = f"ready with schema + default seed ({DEFAULT_EVENTS} events)"
# The image .ci/docker-tests builds where no registry can be reached.
LOCAL_IMAGE = "billig-harness/postgres:15"


def available(options: ProviderOptions) -> dict[str, ProviderOptions | str]:
    """Per provider: the options to start it with, or why it cannot run here."""
    out: dict[str, ProviderOptions | str] = {}
    for provider in PROVIDERS:
        if provider in options.disabled:
            out[provider] = "disabled by BILLIG_MIRROR_DISABLE"
            continue
        try:
            if provider == "local":
                local_bindir(options.user)
            elif provider == "embedded":
                embedded_bindir(options.user)
            else:
                out[provider] = replace(options, image=_docker_image(options.image))
                continue
            out[provider] = options
        except HarnessError as exc:
            out[provider] = str(exc)
    return out


def _docker_image(preferred: str) -> str:
    last: HarnessError | None = None
    for image in dict.fromkeys((preferred, LOCAL_IMAGE)):
        try:
            docker_check(image)
            return image
        except HarnessError as exc:
            last = exc
    assert last is not None
    raise last


def run(settings: Settings) -> tuple[list[Result], dict[str, str]]:
    """Results per available provider, and why the others were skipped."""
    results: list[Result] = []
    skipped: dict[str, str] = {}
    for provider, found in available(ProviderOptions()).items():
        if isinstance(found, str):
            skipped[provider] = found
            continue
        try:
            results.append(_measure(provider, found, settings))
        except ProviderError as exc:
            if provider != "docker":
                raise
            # An engine shared with other jobs may stop between the check and the start.
            skipped[provider] = f"engine went away during the benchmark: {exc}"
    return results, skipped


def _server_version(mirror: Mirror) -> str:
    with contextlib.closing(mirror.server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        row = cur.fetchone()
    return str(row[0]).split()[0] if row else "?"


def _measure(provider: str, options: ProviderOptions, settings: Settings) -> Result:
    # A smoke run only proves that every provider starts: no warm-up start there.
    warmup = 0 if settings.smoke else 1
    ready: list[float] = []
    down: list[float] = []
    version = "?"
    while len(ready) < settings.repeats + warmup:
        with contextlib.ExitStack() as stack:
            start = time.perf_counter()
            mirror = stack.enter_context(start_mirror(provider, options=options))
            ready.append(time.perf_counter() - start)
            version = _server_version(mirror)
            stop = time.perf_counter()
        down.append(time.perf_counter() - stop)
        timed = ready[warmup:]
        if len(timed) >= MIN_REPEATS and sum(timed) > settings.budget_s:
            break
    return Result(
        benchmark="startup",
        case=CASE,
        size=None,
        approach=provider,
        timing=Timing(tuple(ready[warmup:])),
        extra={
            "first_start_s": round(ready[0], 4),
            "teardown_median_s": round(statistics.median(down[warmup:]), 4),
            "server_version": version,
            **({"image": options.image} if provider == "docker" else {}),
        },
    )
