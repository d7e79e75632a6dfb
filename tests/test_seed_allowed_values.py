"""A column whose readers allow only some values (a field's ``choices``) is seeded with those.

Generated choice sets (text with a blank, integers, the flattened values of grouped choices)
over generated column types, read through the table or through a view, are seeded into a fresh
schema as the mirror seeds it: every value written is one of the choices, and each choice shows
while there are rows for it. Where the column's own type or constraints refuse a choice, they
win, and one warning names the column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror.catalog.model import ColumnRef
from mirror.provision.allowed_values import AllowedValues
from mirror.provision.seed import SeedResult

NOW = datetime(2026, 11, 25)
EVENTS = 12
TEXT_TYPES = ("text", "character varying(24)", "varchar")
NUMBER_TYPES = ("integer", "bigint", "smallint", "numeric(8,2)")
SCHEMA = """
CREATE SCHEMA billig;
CREATE TABLE billig.event (
    event integer PRIMARY KEY,
    event_name text NOT NULL,
    event_location {type} {null},
    sale_from timestamptz,
    sale_to timestamptz,
    hidden boolean NOT NULL DEFAULT false
);
CREATE VIEW billig.event_web AS
    SELECT e.event AS id, e.event_location AS venue FROM billig.event AS e WHERE NOT e.hidden;
CREATE TABLE billig.show_kind (id serial PRIMARY KEY, kind {type} {null}, note text);
"""

Seeded = tuple[SeedResult, Callable[[str], list[tuple[object, ...]]]]

texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz -_ÆØÅ", max_size=12)
numbers = st.integers(min_value=-30_000, max_value=30_000)


@st.composite
def choice_sets(draw: st.DrawFn) -> tuple[str, tuple[str | int, ...]]:
    """(column type, choices): text with or without the blank value Django adds, integers; a
    grouped field's choices reach the seed flattened, as any other list."""
    if draw(st.booleans()):
        values = draw(st.lists(texts, min_size=1, max_size=6, unique=True))
        if draw(st.booleans()) and "" not in values:
            values.append("")  # blank=True
        return draw(st.sampled_from(TEXT_TYPES)), tuple(values)
    values = draw(st.lists(numbers, min_size=1, max_size=6, unique=True))
    return draw(st.sampled_from(NUMBER_TYPES)), tuple(values)


@pytest.fixture
def seeded(seeded_schema) -> Callable[[str, AllowedValues], Seeded]:
    """Load a schema text into a fresh database and seed it with ``allowed``; hand back the
    result and a query function on that database."""

    def make(schema: str, allowed: AllowedValues) -> Seeded:
        result, conn = seeded_schema(schema, events=EVENTS, now=NOW, allowed=allowed)

        def query(sql: str) -> list[tuple[object, ...]]:
            with conn.cursor() as cur:
                cur.execute(sql)
                found = cur.fetchall()
            conn.rollback()
            return found

        return result, query

    return make


def _values(query: Callable[[str], list[tuple[object, ...]]], sql: str) -> list[object]:
    return [row[0] for row in query(sql)]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choice_set=choice_sets(), through_view=st.booleans(), not_null=st.booleans())
def test_every_seeded_value_is_one_of_the_choices(
    seeded, choice_set: tuple[str, tuple[str | int, ...]], through_view: bool, not_null: bool
) -> None:
    type_, choices = choice_set
    venue = (
        ColumnRef("billig", "event_web", "venue")
        if through_view
        else ColumnRef("billig", "event", "event_location")
    )
    allowed = AllowedValues({venue: choices, ColumnRef("billig", "show_kind", "kind"): choices})
    schema = SCHEMA.format(type=type_, null="NOT NULL" if not_null else "NULL")
    result, query = seeded(schema, allowed)
    assert not result.warnings, [str(w) for w in result.warnings]
    for column, table in (("event_location", "billig.event"), ("kind", "billig.show_kind")):
        written = _values(query, f"SELECT {column} FROM {table}")
        assert written, f"{table} has rows"
        # Every value is a choice; NULL only where a scenario has none and the column may.
        assert all(v in choices for v in written if v is not None), (written, choices)
        if not_null or table == "billig.show_kind":
            # Each choice in turn: every one shows while there are rows for it.
            assert None not in written
            assert len(set(written)) == min(len(choices), len(written))


def test_a_check_constraint_wins_over_the_choices_and_is_named(seeded) -> None:
    schema = SCHEMA.format(type="text", null="NOT NULL").replace(
        "event_location text NOT NULL,",
        "event_location text NOT NULL CHECK (event_location IN ('hall', 'yard')),",
    )
    venue = ColumnRef("billig", "event", "event_location")
    result, query = seeded(schema, AllowedValues({venue: ("hall", "tent", "yard")}))
    assert set(_values(query, "SELECT event_location FROM billig.event")) == {"hall", "yard"}
    about = [str(w) for w in result.warnings if w.column == "event_location"]
    assert len(about) == 1, about
    assert about[0].startswith("seed: billig.event.event_location (text NOT NULL): ")
    assert about[0].endswith("the column's constraints refuse the readers' choice(s) 'tent'")


def test_an_enum_wins_over_the_choices_and_is_named(seeded) -> None:
    schema = "CREATE SCHEMA billig;\nCREATE TYPE billig.place AS ENUM ('hall', 'yard');\n" + (
        SCHEMA.replace("CREATE SCHEMA billig;\n", "").format(type="billig.place", null="NOT NULL")
    )
    kind = ColumnRef("billig", "show_kind", "kind")
    result, query = seeded(schema, AllowedValues({kind: ("hall", "tent", "yard")}))
    assert set(_values(query, "SELECT kind::text FROM billig.show_kind")) == {"hall", "yard"}
    about = [str(w) for w in result.warnings if w.column == "kind"]
    assert about == [
        "seed: billig.show_kind.kind (billig.place NOT NULL): "
        "its type refuses the readers' choice(s) 'tent': left out"
    ]


def test_a_choice_too_long_for_the_column_is_left_out_and_named(seeded) -> None:
    schema = SCHEMA.format(type="varchar(4)", null="NULL")
    kind = ColumnRef("billig", "show_kind", "kind")
    result, query = seeded(schema, AllowedValues({kind: ("hall", "arena")}))
    assert set(_values(query, "SELECT kind FROM billig.show_kind")) == {"hall"}
    assert any("'arena'" in str(w) and w.column == "kind" for w in result.warnings)


def test_a_computed_view_column_leaves_the_seed_as_it_was(seeded) -> None:
    schema = SCHEMA.format(type="text", null="NULL").replace(
        "e.event_location AS venue", "upper(e.event_location) AS venue"
    )
    venue = ColumnRef("billig", "event_web", "venue")
    result, query = seeded(schema, AllowedValues({venue: ("HALL",)}))
    assert "HALL" not in _values(query, "SELECT event_location FROM billig.event")
    assert not [w for w in result.warnings if w.column == "event_location"]


def test_choices_read_through_nested_views_reach_the_base_column(seeded) -> None:
    schema = SCHEMA.format(type="text", null="NOT NULL") + (
        "CREATE VIEW billig.event_list AS SELECT w.venue AS place FROM billig.event_web AS w;\n"
    )
    place = ColumnRef("billig", "event_list", "place")
    venue = ColumnRef("billig", "event_web", "venue")
    # Two readers of the one column: it holds what both allow.
    allowed = AllowedValues({place: ("hall", "tent", "yard"), venue: ("yard", "tent", "dome")})
    result, query = seeded(schema, allowed)
    assert set(_values(query, "SELECT event_location FROM billig.event")) == {"tent", "yard"}
    assert not result.warnings, [str(w) for w in result.warnings]
