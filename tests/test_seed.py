"""The seed: deterministic, realistic, covering every edge case the rules need."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from mirror.cli import main
from mirror.errors import SchemaLoadError, UsageError
from mirror.provision.providers import connect_url
from mirror.provision.schema import load_schema
from mirror.provision.seed import EVENT_ID_BASE, SCENARIOS, SeedResult, generate, seed_billig

ROOT = Path(__file__).resolve().parent.parent

NOW = datetime(2026, 11, 25)


def test_same_seed_gives_identical_rows():
    assert generate(100, seed=7, now=NOW) == generate(100, seed=7, now=NOW)


def test_different_seed_gives_different_rows():
    assert generate(100, seed=7, now=NOW).event != generate(100, seed=8, now=NOW).event


def test_negative_event_count_is_a_usage_error():
    with pytest.raises(UsageError):
        generate(-1, seed=1)


def test_scales_to_ten_thousand_events():
    data = generate(10_000, seed=1, now=NOW)
    assert len(data.event) == 10_000
    assert len({row[0] for row in data.event}) == 10_000


def _groups_of(data, event_id):
    return [g for g in data.ticket_group if g[1] == event_id]


def test_every_edge_case_is_present():
    data = generate(len(SCENARIOS), seed=3, now=NOW)
    event = {row[0]: row for row in data.event}
    ids = {name: EVENT_ID_BASE + i for i, name in enumerate(SCENARIOS)}
    # (ticket_group, event, name, is_theater, ticket_limit, num_sold, num)
    assert all(g[5] == g[6] for g in _groups_of(data, ids["sold_out"]))
    assert all(0.8 <= g[5] / g[6] < 1 for g in _groups_of(data, ids["almost_sold_out"]))
    assert any(g[6] == 0 for g in _groups_of(data, ids["zero_tickets_group"]))
    limits = {g[4] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert None in limits and 0 in limits
    groups = {g[0] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert any(not p[5] for p in data.price_group if p[1] in groups)  # non-netsale price group
    assert _groups_of(data, ids["no_ticket_groups"]) == []
    assert event[ids["hidden"]][14] is True
    # sale periods: (sale_from, sale_to) at columns 12, 13
    assert event[ids["long_past"]][13] < NOW - timedelta(days=31)
    assert NOW - timedelta(days=31) < event[ids["recently_ended"]][13] < NOW
    assert event[ids["future"]][12] > NOW
    assert event[ids["on_sale"]][12] <= NOW <= event[ids["on_sale"]][13]
    on_card = {t[5] for t in data.ticket}
    assert on_card == {True, False}
    with_rows = {r[0] for r in data.payment_error_price_group}
    errors = {e[0] for e in data.payment_error}
    assert with_rows and errors - with_rows  # errors with and without price-group rows


def test_seed_loads_into_the_mirror(billig_session):
    counts = {
        table: billig_session.execute(text(f"SELECT count(*) FROM billig.{table}")).scalar_one()
        for table in ("event", "event_lim_web", "ticket_group", "price_group", "ticket")
    }
    assert counts["event"] == counts["event_lim_web"] > 0
    assert all(n > 0 for n in counts.values())


def test_seeding_a_populated_database_is_refused(billig_mirror, billig_database):
    with (
        contextlib.closing(billig_mirror.server.connect(billig_database.database)) as conn,
        pytest.raises(UsageError, match="already has rows"),
    ):
        seed_billig(conn, events=5, seed=1)


# --------------------------------------------------------------------------- schema-driven seed
# Each test loads an edited schema/billig.sql into databases of the session's server and seeds
# them as `billig mirror seed` does.

SCHEMA = (ROOT / "schema" / "billig.sql").read_text()
EVENTS = 40
NETSALE_LINE = "    netsale boolean NOT NULL,\n"
TABLES = (
    "event", "ticket_group", "price_group", "purchase", "ticket_card", "ticket",
    "payment_error", "payment_error_price_group",
)  # fmt: skip


def _edit(old: str, new: str, source: str = SCHEMA, count: int = -1) -> str:
    assert old in source, old
    return source.replace(old, new, count)


def _dotted(source: str, names: Sequence[str] = (*TABLES, "event_lim_web")) -> str:
    """The schema as a Django dev database has it: ``public."billig.<name>"`` for ``names``."""
    for name in names:
        source = re.sub(rf"\bbillig\.{name}\b", f'public."billig.{name}"', source)
    if all(name in names for name in (*TABLES, "event_lim_web")):
        source = _edit("CREATE SCHEMA billig;", "", source)
    return source


@pytest.fixture
def seeded(billig_server, tmp_path) -> Iterator[Callable[..., tuple[SeedResult, URL]]]:
    """Load a schema text into a new database and seed it; every database is dropped after."""
    created: list[str] = []

    def make(schema: str, *, seed: int = 1, events: int = EVENTS) -> tuple[SeedResult, URL]:
        name = f"seed_{secrets.token_hex(5)}"
        url = billig_server.create_database(name)
        created.append(name)
        path = tmp_path / f"{name}.sql"
        path.write_text(schema)
        with contextlib.closing(connect_url(url)) as conn:
            load_schema(conn, path)
            return seed_billig(conn, events=events, seed=seed, now=NOW), url

    yield make
    for name in created:
        billig_server.drop_database(name)


def _query(url: URL, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def _contents(url: URL, relation: str) -> list[str]:
    """Every row of a relation as text, sorted: equal lists mean equal contents."""
    return [r[0] for r in _query(url, f"SELECT r::text FROM {relation} AS r ORDER BY 1")]


def _lines(result: SeedResult) -> list[str]:
    return [str(w) for w in result.warnings]


def test_production_layout_seeds_without_warnings(seeded):
    result, url = seeded(SCHEMA)
    data = generate(EVENTS, seed=1, now=NOW)
    assert result.warnings == ()
    assert result.counts == {f"billig.{t}": len(rows) for t, rows in data.tables()}
    assert _query(url, "SELECT count(*) FROM billig.event_lim_web") == [(EVENTS,)]


def test_a_dropped_column_is_left_out_and_named(seeded):
    result, url = seeded(_edit(NETSALE_LINE, ""))
    assert _lines(result) == ["seed: billig.price_group.netsale: not in the mirror, left out"]
    expected = len(generate(EVENTS, seed=1, now=NOW).price_group)
    assert result.counts["billig.price_group"] == expected
    assert _query(url, "SELECT count(*) FROM billig.price_group") == [(expected,)]


def test_a_column_renamed_in_table_and_view_is_filled_and_named(seeded):
    result, url = seeded(_edit("event_name", "event_title"))
    assert _lines(result) == [
        "seed: billig.event.event_name: not in the mirror, left out",
        "seed: billig.event.event_title (character varying(140) NOT NULL): "
        "filled with 'event_title'",
    ]
    assert _query(
        url, "SELECT count(*), count(DISTINCT event_title) FROM billig.event_lim_web"
    ) == [(EVENTS, 1)]
    # The events' other columns keep the scenarios: one hidden event, as before.
    assert _query(url, "SELECT event FROM billig.event WHERE hidden AND event < 1010") == [
        (EVENT_ID_BASE + SCENARIOS.index("hidden"),)
    ]


def test_an_added_not_null_column_is_filled_and_named(seeded):
    result, url = seeded(_edit(NETSALE_LINE, NETSALE_LINE + "    new_col numeric NOT NULL,\n"))
    assert _lines(result) == ["seed: billig.price_group.new_col (numeric NOT NULL): filled with 0"]
    assert _query(url, "SELECT DISTINCT new_col FROM billig.price_group") == [(0,)]


def test_the_three_edits_at_once_seed_every_table(seeded):
    schema = _edit(
        "event_name", "event_title", _edit(NETSALE_LINE, "    new_col numeric NOT NULL,\n")
    )
    result, _url = seeded(schema)
    data = generate(EVENTS, seed=1, now=NOW)
    assert result.counts == {f"billig.{t}": len(rows) for t, rows in data.tables()}
    assert len(result.warnings) == 4
    assert all(w.relation in ("billig.event", "billig.price_group") for w in result.warnings)


def test_new_columns_get_values_valid_for_their_keys_defaults_and_types(seeded):
    ticket = "    point_of_refund integer,\n"
    purchase = "    owner_email character varying(254),\n"
    schema = _edit(
        ticket,
        ticket
        + "    event integer NOT NULL REFERENCES billig.event (event),\n"
        + "    batch uuid NOT NULL,\n"
        + "    created timestamp with time zone DEFAULT now() NOT NULL,\n"
        + "    note text,\n",
        _edit(purchase, purchase + "    code character varying(20) NOT NULL UNIQUE,\n", count=1),
    )
    result, url = seeded(schema)
    assert _lines(result) == [
        "seed: billig.purchase.code (character varying(20) NOT NULL): "
        "filled with distinct values ('1', '2', …)",
        "seed: billig.ticket.event (integer NOT NULL): filled with values of billig.event.event",
        "seed: billig.ticket.batch (uuid NOT NULL): "
        "filled with '00000000-0000-0000-0000-000000000000'",
        "seed: billig.ticket.created (timestamp with time zone NOT NULL DEFAULT now()): "
        "left to its default",
        "seed: billig.ticket.note (text): left NULL",
    ]
    data = generate(EVENTS, seed=1, now=NOW)
    assert result.counts["billig.ticket"] == len(data.ticket)
    assert result.counts["billig.purchase"] == len(data.purchase)
    # The foreign key holds (the server checked it), and the references spread over the events.
    assert _query(url, "SELECT count(DISTINCT event) FROM billig.ticket") == [(EVENTS,)]


def test_a_column_it_cannot_fill_leaves_its_table_out_and_says_why(seeded):
    schema = _edit(
        "CREATE TABLE billig.purchase (\n",
        "CREATE TYPE billig.pair AS (a integer, b integer);\n\n"
        "CREATE TABLE billig.purchase (\n    pair billig.pair NOT NULL,\n",
    )
    result, url = seeded(schema)
    lines = _lines(result)
    assert lines[0] == (
        "seed: billig.purchase.pair (billig.pair NOT NULL): could not fill "
        "(the seed makes no values of type billig.pair): billig.purchase not seeded"
    )
    # The tickets refer to purchases: the server refused them, and the seed says so.
    assert lines[1].startswith("seed: billig.ticket: not seeded: insert or update on table")
    assert len(lines) == 2
    assert "billig.purchase" not in result.counts and "billig.ticket" not in result.counts
    assert _query(url, "SELECT count(*) FROM billig.ticket") == [(0,)]
    assert result.counts["billig.event"] == EVENTS  # the rest is seeded


@pytest.mark.parametrize(
    "dotted",
    [(*TABLES, "event_lim_web"), ("event", "ticket_group", "event_lim_web")],
    ids=["every relation", "some relations"],
)
def test_a_dev_schema_with_dotted_names_seeds_like_production(seeded, dotted):
    production, production_url = seeded(SCHEMA)
    dev, dev_url = seeded(_dotted(SCHEMA, dotted))
    assert dev.warnings == ()

    def named(table: str) -> str:
        return f'public."billig.{table}"' if table in dotted else f"billig.{table}"

    assert dev.counts == {named(t): production.counts[f"billig.{t}"] for t in TABLES}
    for table in (*TABLES, "event_lim_web"):
        assert _contents(dev_url, named(table)) == _contents(production_url, f"billig.{table}")


def test_a_dotted_dev_schema_with_an_edit_is_seeded_and_located(seeded):
    result, _url = seeded(_dotted(_edit(NETSALE_LINE, "")))
    assert _lines(result) == [
        'seed: public."billig.price_group".netsale: not in the mirror, left out'
    ]
    assert result.counts['public."billig.price_group"'] > 0


def test_the_same_seed_writes_the_same_rows_into_a_changed_schema(seeded):
    schema = _edit(
        "event_name", "event_title", _edit(NETSALE_LINE, "    new_col numeric NOT NULL,\n")
    )
    first, first_url = seeded(schema, seed=5)
    again, again_url = seeded(schema, seed=5)
    _other, other_url = seeded(schema, seed=6)
    assert first.warnings == again.warnings
    for table in TABLES:
        assert _contents(first_url, f"billig.{table}") == _contents(again_url, f"billig.{table}")
    assert _contents(first_url, "billig.event") != _contents(other_url, "billig.event")


def test_a_database_without_billig_tables_is_a_schema_error(seeded):
    with pytest.raises(SchemaLoadError, match=r'relation "billig\.event" does not exist'):
        seeded("CREATE TABLE public.kort (kort bigint PRIMARY KEY);")


def test_mirror_seed_prints_the_warnings(fresh_database, tmp_path, monkeypatch, capsys):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "billig.sql").write_text(_edit(NETSALE_LINE, ""))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLIG_SCHEMA")  # the default: schema/billig.sql here
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["mirror", "seed", "--dsn", dsn, "--events", "12"])
    out, err = capsys.readouterr()
    assert exit_info.value.code in (0, None), err
    assert err.splitlines() == ["seed: billig.price_group.netsale: not in the mirror, left out"]
    assert "billig.price_group " in out


def test_mirror_seed_fills_a_dotted_dev_schema_without_loading_the_production_one(
    fresh_database, capsys
):
    with contextlib.closing(connect_url(fresh_database)) as conn, conn.cursor() as cur:
        cur.execute(_dotted(SCHEMA))
        conn.commit()
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["mirror", "seed", "--dsn", dsn, "--events", "12"])
    out, err = capsys.readouterr()
    assert exit_info.value.code in (0, None), err
    assert err == ""
    assert 'public."billig.event" 12' in out
    assert _query(fresh_database, "SELECT count(*) FROM pg_namespace WHERE nspname = 'billig'") == [
        (0,)
    ]
    assert _query(fresh_database, 'SELECT count(*) FROM "billig.event_lim_web"') == [(12,)]
