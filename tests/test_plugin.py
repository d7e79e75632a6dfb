"""The pytest plugin: per-test isolation by savepoint rollback or template clone, and xdist."""

from __future__ import annotations

import contextlib

from sqlalchemy import create_engine, text

pytest_plugins = ["pytester"]

ISOLATION_TESTS = """
from sqlalchemy import text

def test_a_writes(billig_session):
    billig_session.execute(text("UPDATE billig.event SET event_name = 'leaked' WHERE event = 1000"))
    billig_session.commit()  # a savepoint release inside the test's transaction
    assert billig_session.execute(
        text("SELECT event_name FROM billig.event WHERE event = 1000")).scalar_one() == 'leaked'

def test_b_does_not_see_it(billig_session):
    assert billig_session.execute(
        text("SELECT count(*) FROM billig.event WHERE event_name = 'leaked'")).scalar_one() == 0
"""


def test_savepoint_session_write_is_invisible_to_the_next_test(pytester):
    pytester.makepyfile(test_iso=ISOLATION_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_cloned_database_takes_commits_and_ddl_without_touching_the_mirror(
    billig_database, billig_engine
):
    engine = create_engine(billig_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE billig.event ADD COLUMN extra int"))
            conn.execute(text("DELETE FROM billig.ticket"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM billig.ticket")).scalar_one() == 0
    finally:
        engine.dispose()
    with billig_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM billig.ticket")).scalar_one() > 0
        cols = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.columns"
                " WHERE table_schema = 'billig' AND table_name = 'event' AND column_name = 'extra'"
            )
        ).scalar_one()
        assert cols == 0


def test_cloned_database_is_dropped_after_the_test(billig_mirror):
    url = billig_mirror.clone()
    billig_mirror.drop(url)
    with contextlib.closing(billig_mirror.server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (url.database,))
        assert cur.fetchone() == (0,)


XDIST_TESTS = """
import os

def test_worker_database(billig_mirror, billig_session):
    from sqlalchemy import text
    port = billig_mirror.url.port
    wid = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = os.environ["XDIST_OUT"]
    with open(os.path.join(path, wid), "w") as fh:
        fh.write(str(port))
    assert billig_session.execute(text("SELECT count(*) FROM billig.event")).scalar_one() > 0

test_w1 = test_w2 = test_w3 = test_w4 = test_worker_database
"""


def test_xdist_gives_each_worker_its_own_database(pytester, tmp_path, monkeypatch):
    out = tmp_path / "workers"
    out.mkdir()
    monkeypatch.setenv("XDIST_OUT", str(out))
    pytester.makepyfile(test_xd=XDIST_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    ports = {p.name: p.read_text() for p in out.iterdir()}
    assert set(ports) == {"gw0", "gw1"}
    assert len(set(ports.values())) == 2  # one server, hence one database, per worker


FIXTURES = (
    "billig_config",
    "billig_mirror",
    "billig_server",
    "billig_engine",
    "billig_session",
    "billig_database",
    "fresh_database",
)


def test_every_fixture_has_its_docstring_in_pytest_fixtures(pytester):
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    lines = result.outlines
    for name in FIXTURES:
        (at,) = [i for i, line in enumerate(lines) if line.split(" ")[0] == name]
        assert lines[at + 1].startswith("    "), lines[at : at + 2]
        assert "no docstring available" not in lines[at + 1], name


LEAN_TESTS = """
import sys

DRIVERS = ("sqlalchemy", "psycopg2")


def loaded():
    return sorted({m.split(".")[0] for m in sys.modules} & set(DRIVERS))


def test_a_run_without_billig_fixtures_loads_no_driver():
    assert loaded() == []


def test_the_configuration_alone_loads_no_driver(billig_config):
    assert billig_config.events > 0
    assert loaded() == []


def test_a_fixture_on_the_mirror_loads_them(billig_engine):
    assert loaded() == sorted(DRIVERS)
"""


def test_the_plugin_imports_drivers_only_for_the_fixtures_that_need_them(pytester):
    pytester.makepyfile(test_lean=LEAN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
