"""The mirror cache against real servers: reuse, never stale, concurrent starts, bound, clear."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from mirror.catalog.model import ColumnRef
from mirror.provision.allowed_values import AllowedValues
from mirror.provision.cache import ClusterCache
from mirror.provision.mirror import Mirror, start_mirror
from mirror.provision.providers import ProviderOptions

# The cache serves the cluster providers; docker is left out so that auto picks one of them.
OPTIONS = {"disabled": frozenset({"docker"})}
NOW = datetime(2026, 3, 1)
# Billig's schema, as a project would have it: the seed knows its tables and varies their rows.
SCHEMA = (Path(__file__).parent.parent / "schema" / "billig.sql").read_text()
EVENTS = "SELECT * FROM billig.event ORDER BY 1"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own, used through ``XDG_CACHE_HOME``."""
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("BILLIG_CACHE", raising=False)
    monkeypatch.delenv("BILLIG_CACHE_MAX_MB", raising=False)
    return home


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "schema.sql"
    path.write_text(SCHEMA)
    return path


@contextlib.contextmanager
def mirror_of(schema: Path, cache: bool = True, **seed: object) -> Iterator[Mirror]:
    options = ProviderOptions(cache=cache, **OPTIONS)  # type: ignore[arg-type]
    seed = {"now": NOW, **seed}
    with start_mirror(options=options, schema_path=schema, **seed) as mirror:  # type: ignore[arg-type]
        yield mirror


def rows(mirror: Mirror, query: str) -> list[tuple[object, ...]]:
    with contextlib.closing(mirror.server.connect(mirror.dsn.database)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()


def stored(home: Path) -> list[Path]:
    return [p for p in ClusterCache.default().root.iterdir() if not p.name.startswith(".")]


def stored_bytes(home: Path) -> int:
    return sum(e[1] for e in ClusterCache.default().entries())


def test_a_second_start_comes_from_the_cache_with_the_same_data(cache_home, schema) -> None:
    with mirror_of(schema) as first:
        assert first.origin == "built"
        built = rows(first, EVENTS)
    with mirror_of(schema) as second:
        assert second.origin == "cache"
        assert rows(second, EVENTS) == built
        # A mirror from the cache is a running server like any other: it takes writes and clones.
        rows(second, "CREATE TABLE billig.scratch AS SELECT 1 AS id; SELECT 1")
        clone = second.clone()
        second.drop(clone)
    assert built, "the seed wrote events"
    assert cache_home.is_dir() and stored(cache_home)


def test_what_a_run_writes_never_reaches_the_cache(cache_home, schema) -> None:
    with mirror_of(schema) as first:
        rows(first, "TRUNCATE billig.event CASCADE; CREATE TABLE billig.scratch (id int); SELECT 1")
        rows(first, "CREATE ROLE billig_scratch; SELECT 1")
        # Straight into the template as well: the stored cluster was taken before the run.
        first.server.drop_database(first.template)
    with mirror_of(schema) as second:
        assert second.origin == "cache"
        assert rows(second, "SELECT count(*) FROM billig.event")[0][0] > 0
        assert rows(second, "SELECT to_regclass('billig.scratch') IS NULL") == [(True,)]
        assert rows(second, "SELECT count(*) FROM pg_roles WHERE rolname = 'billig_scratch'") == [
            (0,)
        ]
        assert second.clone()


def test_a_schema_edit_builds_anew(cache_home, schema) -> None:
    with mirror_of(schema) as first:
        assert first.origin == "built"
    schema.write_text(SCHEMA + "CREATE TABLE billig.venue (id integer PRIMARY KEY);\n")
    with mirror_of(schema) as edited:
        assert edited.origin == "built"
        assert rows(edited, "SELECT to_regclass('billig.venue') IS NOT NULL") == [(True,)]
    schema.write_text(SCHEMA)
    with mirror_of(schema) as again:
        assert again.origin == "cache"
        assert rows(again, "SELECT to_regclass('billig.venue') IS NULL") == [(True,)]


@pytest.mark.parametrize("change", [{"events": 7}, {"seed": 2}, {"now": datetime(2026, 4, 1)}])
def test_a_seed_change_builds_anew(cache_home, schema, change) -> None:
    with mirror_of(schema) as first:
        before = rows(first, EVENTS)
    with mirror_of(schema, **change) as changed:
        assert changed.origin == "built"
        assert rows(changed, EVENTS) != before


def test_cache_off_neither_reads_nor_writes_it(cache_home, schema, monkeypatch) -> None:
    with mirror_of(schema, cache=False) as mirror:
        assert mirror.origin == ""
    assert not cache_home.exists()
    monkeypatch.setenv("BILLIG_CACHE", "0")
    assert ProviderOptions().cache is False
    with start_mirror(options=ProviderOptions(**OPTIONS), schema_path=schema, now=NOW) as m:  # type: ignore[arg-type]
        assert m.origin == ""
    assert not cache_home.exists()


def test_the_cache_stays_within_its_bound(cache_home, schema, monkeypatch) -> None:
    with mirror_of(schema):
        pass
    one_schema = stored_bytes(cache_home)  # the initialized and the seeded cluster
    bound = one_schema + one_schema // 4  # room for one schema's clusters, not two
    monkeypatch.setenv("BILLIG_CACHE_MAX_MB", str(bound / 1024**2))
    schema.write_text(SCHEMA + "CREATE TABLE billig.venue (id integer PRIMARY KEY);\n")
    with mirror_of(schema) as edited:
        assert edited.origin == "built"
    assert 0 < stored_bytes(cache_home) <= bound
    with mirror_of(schema) as again:  # the newest entry is the one kept
        assert again.origin == "cache"
    monkeypatch.setenv("BILLIG_CACHE_MAX_MB", "0")
    with mirror_of(schema) as unbounded_none:
        assert unbounded_none.origin == "cache"  # read before the bound applies to a store
    schema.write_text(SCHEMA + "-- another schema\n")
    with mirror_of(schema) as nothing_kept:
        assert nothing_kept.origin == "built"
        assert rows(nothing_kept, "SELECT count(*) FROM billig.event")[0][0] > 0
    assert stored_bytes(cache_home) == 0


def test_clear_removes_every_entry_except_one_in_use(cache_home, schema) -> None:
    with mirror_of(schema):
        pass
    cache = ClusterCache.default()
    keys = [key for _, _, key in cache.entries()]
    assert len(keys) == 2
    with cache.open(keys[0]) as entry:
        assert entry is not None
        removed, freed, busy = cache.clear()
        assert (removed, busy) == (1, 1) and freed > 0
        assert entry.data.is_dir(), "an entry being copied stays until it is released"
    assert cache.clear()[0] == 1
    assert cache.entries() == []


SUMMARY = "SELECT count(*), md5(string_agg(e::text, ',' ORDER BY e::text)) FROM billig.event e"
CONCURRENT = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    from pathlib import Path
    from mirror.provision.mirror import start_mirror
    from mirror.provision.providers import ProviderOptions

    options = ProviderOptions(disabled=frozenset({"docker"}))
    schema, now = Path(sys.argv[1]), datetime(2026, 3, 1)
    with start_mirror(options=options, schema_path=schema, now=now) as m:
        with m.server.connect(m.dsn.database) as conn, conn.cursor() as cur:
            cur.execute(sys.argv[2])
            print(json.dumps([m.origin, *cur.fetchone()]))
    """
)


def test_several_processes_starting_at_once_all_get_a_correct_mirror(cache_home, schema) -> None:
    with mirror_of(schema) as reference:
        expected = list(rows(reference, SUMMARY)[0])
    ClusterCache.default().clear()
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    for round_ in ("cold", "warm"):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CONCURRENT, str(schema), SUMMARY],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(4)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        assert all(result[1:] == expected for result in results), results
        if round_ == "warm":
            assert all(result[0] == "cache" for result in results)
        assert len(stored(cache_home)) == 2  # one initialized, one seeded: the first store won
        leftovers = [p for p in ClusterCache.default().root.iterdir() if p.name.startswith(".s")]
        assert leftovers == []


def test_a_cache_folder_others_may_write_is_not_used(cache_home, schema) -> None:
    root = ClusterCache.default().root
    root.mkdir(parents=True)
    root.chmod(0o777)
    assert ClusterCache.default().usable() is not None
    with mirror_of(schema) as mirror:
        assert mirror.origin == ""
        assert rows(mirror, "SELECT count(*) > 0 FROM billig.event") == [(True,)]
    assert list(root.iterdir()) == []


def test_a_schema_edited_while_it_loads_is_not_stored(cache_home, schema) -> None:
    slow = "SELECT pg_sleep(1.5);\n" + SCHEMA
    schema.write_text(slow)
    with mirror_of(schema) as warm_up:  # the initialized cluster is stored; time the load
        assert warm_up.origin == "built"
    ClusterCache.default().remove(max(ClusterCache.default().entries())[2])  # the seeded one
    editor = threading.Timer(0.8, lambda: schema.write_text(slow + "-- edited\n"))
    editor.start()
    try:
        with mirror_of(schema) as mirror:
            assert mirror.origin == "built"
    finally:
        editor.join()
    schema.write_text(slow)
    with mirror_of(schema) as again:
        assert again.origin == "built", "the run that saw the edit stored nothing"


def test_a_changed_choice_builds_anew(cache_home, schema) -> None:
    venue = ColumnRef("billig", "event", "event_location")
    venues = "SELECT DISTINCT event_location FROM billig.event WHERE event_location IS NOT NULL"
    choices = AllowedValues({venue: ("hall", "tent")})
    with mirror_of(schema, allowed=choices) as first:
        assert first.origin == "built"
        assert set(rows(first, venues)) == {("hall",), ("tent",)}
    with mirror_of(schema, allowed=AllowedValues({venue: ("hall", "tent")})) as same:
        assert same.origin == "cache"
    with mirror_of(schema, allowed=AllowedValues({venue: ("hall", "yard")})) as changed:
        assert changed.origin == "built"
        assert set(rows(changed, venues)) == {("hall",), ("yard",)}
