"""A Billig that stops answering: the API answers 503 within a bound, never a hung request.

The server here is this test's own, frozen with SIGSTOP (every process of its cluster), so that
nothing on the server side can time out: only the client-side bound of the API's Billig
connections (examples.fastapi_site.deadline) can end the wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine

from examples.fastapi_site.api import create_app
from examples.fastapi_site.seed import seed_site
from mirror.errors import ProviderError
from mirror.provision.mirror import Mirror, start_mirror
from mirror.provision.providers import ProviderOptions
from mirror.provision.seed import EVENT_ID_BASE, reference_now

from .conftest import TestClient

EVENTS = 12
TIMEOUT_S = 1.0  # the API's Billig timeout in this test: statements, connecting, the pool
HUNG_AFTER_S = 120.0  # far beyond every bound: a request still running then is hung


@pytest.fixture
def own_mirror() -> Iterator[Mirror]:
    """A seeded mirror on a cluster of this test's own (local, else embedded binaries)."""
    disabled = ProviderOptions().disabled
    reasons = []
    for provider in ("local", "embedded"):
        if provider in disabled:
            continue
        stack = contextlib.ExitStack()
        try:
            mirror = stack.enter_context(start_mirror(provider, events=EVENTS))
        except ProviderError as exc:
            stack.close()
            reasons.append(f"{provider}: {exc}")
            continue
        with stack:
            yield mirror
        return
    pytest.skip("no cluster provider for a server of the test's own: " + "; ".join(reasons))


def _postmaster(mirror: Mirror) -> int:
    with contextlib.closing(mirror.server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SHOW data_directory")
        (data,) = cur.fetchone() or ("",)
    return int((Path(data) / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def frozen(mirror: Mirror) -> Iterator[None]:
    """Every process of the mirror's cluster stopped (SIGSTOP), continued afterwards.

    The postmaster first, so that it starts no new process while its children are stopped.
    """
    postmaster = psutil.Process(_postmaster(mirror))
    stopped = [postmaster]
    os.kill(postmaster.pid, signal.SIGSTOP)
    try:
        for child in postmaster.children(recursive=True):
            with contextlib.suppress(ProcessLookupError):  # a backend that just ended
                os.kill(child.pid, signal.SIGSTOP)
                stopped.append(child)
        yield
    finally:
        for process in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)


def _answers(client: TestClient, paths: list[str]) -> list[tuple[int, dict[str, object]]]:
    """Each path's status and body, or a failure if the requests are still running much later."""
    results: list[tuple[int, dict[str, object]]] = []

    def ask() -> None:
        for path in paths:
            response = client.get(path)
            results.append((response.status_code, response.json()))

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(HUNG_AFTER_S)
    assert not worker.is_alive(), f"a request hung: {len(results)} of {len(paths)} answered"
    return results


def test_a_frozen_billig_gives_503_and_the_api_recovers(own_mirror: Mirror, tmp_path: Path) -> None:
    now = reference_now() + (datetime.min.replace(hour=12) - datetime.min)
    site = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    engine = create_engine(site)
    try:
        seed_site(engine, range(EVENT_ID_BASE, EVENT_ID_BASE + EVENTS), seed=7, now=now)
    finally:
        engine.dispose()
    app = create_app(own_mirror.url, site, now=now, billig_timeout_s=TIMEOUT_S)
    detail = f"/billig/events/{EVENT_ID_BASE}"
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            # Connections in the pool first: the ones a frozen server leaves waiting forever.
            assert [status for status, _ in _answers(client, [detail, "/events"])] == [200, 200]
            with frozen(own_mirror):
                answers = _answers(client, [detail, "/billig/events", "/events", "/health"])
            unavailable = {"error": "unavailable", "message": "a database did not answer"}
            assert answers[:3] == [(503, {**unavailable, "reasons": {}})] * 3
            assert answers[3] == (
                503,
                {"status": "unavailable", "billig": "unreachable", "site": "ok"},
            )
            # Continued, the server answers again, and so does the API.
            assert _answers(client, [detail])[0][0] == 200
    finally:
        app.state.api.close()
