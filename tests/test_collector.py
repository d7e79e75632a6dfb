"""The garbage collector pause around building large catalogs: main thread only, state restored,
no pass over what was built when it resumes, and a program's own frozen objects left frozen."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from mirror.sources.collector import collector_paused


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Generations of the collections that start while the test runs."""
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_on_again_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_worker_thread_leaves_the_collector_alone() -> None:
    seen: list[bool] = []

    def work() -> None:
        with collector_paused():
            seen.append(gc.isenabled())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [True]
    assert gc.isenabled()


def test_what_was_built_is_not_examined_again_when_the_collector_resumes(
    collections: list[int],
) -> None:
    gc.collect()
    with collector_paused():
        built = [[i] for i in range(20_000)]  # far more than a young generation holds
        collections.clear()  # none can start in here
    more = [[i] for i in range(100)]  # a few allocations after resuming
    assert collections == []  # no young-generation pass over the 20,000 lists
    assert len(built) + len(more) == 20_100


def test_a_programs_own_frozen_objects_stay_frozen() -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector_paused():
            built = [[i] for i in range(1_000)]
        assert gc.get_freeze_count() == frozen
        assert len(built) == 1_000
    finally:
        gc.unfreeze()
