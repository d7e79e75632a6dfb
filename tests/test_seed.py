"""The seed: deterministic, realistic, covering every edge case the rules need."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from seed_scenarios import scenario_gaps
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
    first, other = generate(100, seed=7, now=NOW), generate(100, seed=8, now=NOW)
    assert first.values("event") != other.values("event")


def test_negative_event_count_is_a_usage_error():
    with pytest.raises(UsageError):
        generate(-1, seed=1)


def test_scales_to_ten_thousand_events():
    data = generate(10_000, seed=1, now=NOW)
    assert len({row["event"] for row in data.values("event")}) == 10_000


def _groups_of(data, event_id):
    return [g for g in data.values("ticket_group") if g["event"] == event_id]


def test_every_edge_case_is_present():
    data = generate(len(SCENARIOS), seed=3, now=NOW)
    event = {row["event"]: row for row in data.values("event")}
    ids = {name: EVENT_ID_BASE + i for i, name in enumerate(SCENARIOS)}
    assert all(g["num_sold"] == g["num"] for g in _groups_of(data, ids["sold_out"]))
    assert all(
        0.8 <= g["num_sold"] / g["num"] < 1 for g in _groups_of(data, ids["almost_sold_out"])
    )
    assert any(g["num"] == 0 for g in _groups_of(data, ids["zero_tickets_group"]))
    limits = {g["ticket_limit"] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert None in limits and 0 in limits
    groups = {g["ticket_group"] for g in _groups_of(data, ids["limits_and_non_netsale"])}
    assert any(not p["netsale"] for p in data.values("price_group") if p["ticket_group"] in groups)
    assert _groups_of(data, ids["no_ticket_groups"]) == []
    assert event[ids["hidden"]]["hidden"] is True
    assert event[ids["long_past"]]["sale_to"] < NOW - timedelta(days=31)
    assert NOW - timedelta(days=31) < event[ids["recently_ended"]]["sale_to"] < NOW
    assert event[ids["future"]]["sale_from"] > NOW
    assert event[ids["on_sale"]]["sale_from"] <= NOW <= event[ids["on_sale"]]["sale_to"]
    assert all(e["sale_from"] < e["sale_to"] for e in data.values("event"))
    assert {t["on_card"] for t in data.values("ticket")} == {True, False}
    with_rows = {r["error"] for r in data.values("payment_error_price_group")}
    errors = {e["error"] for e in data.values("payment_error")}
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


def _expected(events: int = EVENTS, seed: int = 1) -> dict[str, int]:
    data = generate(events, seed=seed, now=NOW)
    return {f"billig.{t}": len(data.records[t]) for t in TABLES}


def test_production_layout_seeds_without_warnings(seeded):
    result, url = seeded(SCHEMA)
    assert result.warnings == ()
    assert result.counts == _expected()
    assert _query(url, "SELECT count(*) FROM billig.event_lim_web") == [(EVENTS,)]
    with contextlib.closing(connect_url(url)) as conn:
        assert scenario_gaps(conn, NOW) == {}


def test_a_dropped_column_is_left_out_without_a_word(seeded):
    result, url = seeded(_edit(NETSALE_LINE, ""))
    assert result.warnings == ()  # the seed speaks only of what the schema has
    assert result.counts == _expected()
    with contextlib.closing(connect_url(url)) as conn:
        assert scenario_gaps(conn, NOW) == {
            "non_netsale": "no table has netsale",
        }


def test_a_renamed_column_gets_values_of_its_type_and_the_scenarios_stay(seeded):
    result, url = seeded(_edit("event_name", "event_title"))
    assert result.warnings == ()
    assert _query(
        url, "SELECT count(*), count(DISTINCT event_title) FROM billig.event_lim_web"
    ) == [(EVENTS, EVENTS)]
    assert _query(url, "SELECT event FROM billig.event WHERE hidden AND event < 1010") == [
        (EVENT_ID_BASE + SCENARIOS.index("hidden"),)
    ]
    with contextlib.closing(connect_url(url)) as conn:
        assert scenario_gaps(conn, NOW) == {}


def test_a_number_renamed_with_a_suffix_keeps_its_values(seeded):
    _result, url = seeded(_edit("    price integer NOT NULL,", "    price_nok integer NOT NULL,"))
    prices = {p["price"] for p in generate(EVENTS, seed=1, now=NOW).values("price_group")}
    assert {row[0] for row in _query(url, "SELECT price_nok FROM billig.price_group")} == prices


def test_an_added_not_null_column_is_filled_with_distinct_values(seeded):
    result, url = seeded(_edit(NETSALE_LINE, NETSALE_LINE + "    new_col numeric(4,1) NOT NULL,\n"))
    assert result.warnings == ()
    rows = _query(
        url, "SELECT count(*), count(DISTINCT new_col), max(new_col) FROM billig.price_group"
    )
    count, distinct, largest = rows[0]
    assert count == distinct and largest < 1000


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
    assert result.warnings == ()
    expected = _expected()
    assert result.counts["billig.ticket"] == expected["billig.ticket"]
    assert result.counts["billig.purchase"] == expected["billig.purchase"]
    # The foreign key holds (the server checked it), and each ticket is for its price's event.
    assert _query(
        url,
        "SELECT count(*), count(*) FILTER (WHERE g.event = t.event) FROM billig.ticket AS t"
        " JOIN billig.price_group AS p ON p.price_group = t.price_group"
        " JOIN billig.ticket_group AS g ON g.ticket_group = p.ticket_group",
    ) == [(expected["billig.ticket"], expected["billig.ticket"])]
    assert _query(url, "SELECT count(*) FROM billig.ticket WHERE note IS NOT NULL") == [(0,)]
    assert _query(url, "SELECT count(DISTINCT created) FROM billig.ticket") == [(1,)]  # now()


def test_a_column_it_cannot_fill_leaves_its_table_out_and_says_why(seeded):
    schema = _edit(
        "CREATE TABLE billig.purchase (\n",
        "CREATE TYPE billig.pair AS (a integer, b integer);\n\n"
        "CREATE TABLE billig.purchase (\n    pair billig.pair NOT NULL,\n",
    )
    result, url = seeded(schema)
    assert _lines(result) == [
        "seed: billig.purchase.pair (billig.pair NOT NULL): could not fill "
        "(the seed makes no values of type billig.pair): billig.purchase not seeded",
        "seed: billig.ticket.purchase (integer NOT NULL): could not fill "
        "(no rows in billig.purchase to refer to): billig.ticket not seeded",
    ]
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


def test_a_dev_schema_whose_web_view_is_a_table_without_a_base_event_table(seeded):
    """public."billig.event_lim_web" is a plain table; the groups refer to it."""
    schema = _dotted(SCHEMA)
    start = schema.index('CREATE VIEW public."billig.event_lim_web"')
    schema = schema[:start] + schema[schema.index(";", start) + 1 :]
    schema = schema.replace('public."billig.event" ', 'public."billig.event_lim_web" ')
    assert '"billig.event"' not in schema
    result, url = seeded(schema)
    assert result.warnings == ()
    assert result.counts['public."billig.event_lim_web"'] == EVENTS
    assert result.counts['public."billig.ticket_group"'] > 0
    with contextlib.closing(connect_url(url)) as conn:
        assert scenario_gaps(conn, NOW) == {}


def test_tables_it_does_not_know_are_filled_too(seeded):
    schema = SCHEMA + (
        "CREATE TABLE billig.venue (venue serial PRIMARY KEY, venue_name text NOT NULL UNIQUE,"
        " capacity integer NOT NULL CHECK (capacity > 100));\n"
        "CREATE TABLE billig.event_venue (event integer NOT NULL REFERENCES billig.event,"
        " venue integer NOT NULL REFERENCES billig.venue, PRIMARY KEY (event, venue));\n"
    )
    result, url = seeded(schema)
    assert result.warnings == ()
    assert result.counts["billig.venue"] > 0
    assert result.counts["billig.event_venue"] > 0
    assert _query(url, "SELECT min(capacity) > 100 FROM billig.venue") == [(True,)]


def test_check_constraints_against_the_scenarios_are_met_by_other_values(seeded):
    schema = _edit(
        "    num integer NOT NULL,\n",
        "    num integer NOT NULL,\n    CONSTRAINT sold_within CHECK (num_sold <= num),\n",
        _edit("    price integer NOT NULL,\n", "    price integer NOT NULL CHECK (price >= 50),\n"),
    )
    result, url = seeded(schema)
    assert result.warnings == ()
    assert result.counts == _expected()
    assert _query(url, "SELECT min(price) >= 50 FROM billig.price_group") == [(True,)]
    with contextlib.closing(connect_url(url)) as conn:
        assert scenario_gaps(conn, NOW) == {}


def test_rows_a_check_refuses_all_through_a_large_seed_are_each_changed_the_same_way(seeded):
    """More tickets than one COPY takes, a fifth of them refused: each is written, meets the
    check, and a second seed writes the same rows."""
    events = 2_100
    schema = _edit(
        "    used timestamp without time zone,\n",
        "    used timestamp without time zone CONSTRAINT unused CHECK (used IS NULL),\n",
    )
    first, first_url = seeded(schema, events=events)
    again, again_url = seeded(schema, events=events)
    tickets = len(generate(events, seed=1, now=NOW).records["ticket"])
    assert tickets > 10_000
    assert first.warnings == again.warnings == ()
    assert first.counts["billig.ticket"] == tickets
    assert _query(first_url, "SELECT count(used) FROM billig.ticket") == [(0,)]
    assert _contents(first_url, "billig.ticket") == _contents(again_url, "billig.ticket")


def test_a_check_no_value_satisfies_is_named(seeded):
    schema = _edit(
        "    message text NOT NULL,\n",
        "    message text NOT NULL CONSTRAINT message_shape"
        " CHECK (message ~ '^[A-Z]{3}$' AND message ~ '^[0-9]{3}$'),\n",
    )
    result, _url = seeded(schema)
    errors = len(generate(EVENTS, seed=1, now=NOW).records["payment_error"])
    assert _lines(result)[0] == (
        f"seed: billig.payment_error: {errors} of {errors} rows left out: no values satisfy "
        "constraint message_shape"
    )


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


def test_a_database_without_tables_is_a_schema_error(seeded):
    with pytest.raises(SchemaLoadError, match="no table to seed"):
        seeded("CREATE VIEW public.v AS SELECT 1 AS one;")


UNFILLABLE = _edit(
    "CREATE TABLE billig.purchase (\n",
    "CREATE TYPE billig.pair AS (a integer, b integer);\n\n"
    "CREATE TABLE billig.purchase (\n    pair billig.pair NOT NULL,\n",
)


@pytest.mark.parametrize("quiet", [False, True], ids=["warnings", "quiet"])
def test_mirror_seed_prints_the_warnings_unless_quiet(
    fresh_database, tmp_path, monkeypatch, capsys, quiet
):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "billig.sql").write_text(UNFILLABLE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLIG_SCHEMA")  # the default: schema/billig.sql here
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["mirror", "seed", "--dsn", dsn, "--events", "12", *(["--quiet"] if quiet else [])])
    out, err = capsys.readouterr()
    assert exit_info.value.code in (0, None), err
    expected = [
        "seed: billig.purchase.pair (billig.pair NOT NULL): could not fill "
        "(the seed makes no values of type billig.pair): billig.purchase not seeded",
        "seed: billig.ticket.purchase (integer NOT NULL): could not fill "
        "(no rows in billig.purchase to refer to): billig.ticket not seeded",
    ]
    assert err.splitlines() == ([] if quiet else expected)
    assert "billig.price_group " in out


def test_mirror_seed_fills_only_the_schema_files_tables(fresh_database, tmp_path, monkeypatch):
    with contextlib.closing(connect_url(fresh_database)) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE public.django_migrations (id serial PRIMARY KEY, app text NOT NULL)"
        )
        conn.commit()
    schema = tmp_path / "billig.sql"
    schema.write_text(SCHEMA + "CREATE TABLE public.billig_extra (id integer PRIMARY KEY);\n")
    monkeypatch.setenv("BILLIG_SCHEMA", str(schema))
    dsn = fresh_database.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["mirror", "seed", "--dsn", dsn, "--events", "12"])
    assert exit_info.value.code in (0, None)
    assert _query(fresh_database, "SELECT count(*) FROM public.django_migrations") == [(0,)]
    assert _query(fresh_database, "SELECT count(*) > 0 FROM public.billig_extra") == [(True,)]


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
