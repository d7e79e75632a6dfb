"""``billig drift --data`` on a fresh Django project: values outside a field's ``choices``.

The project's fields declare choices in every form Django accepts (grouped, ``TextChoices``,
``IntegerChoices``); ``contracts update`` pins them in the contract's lineage; production is
seeded with rows holding other values, which every report format must count and never show.
The mirror holds only the choices, so the project passes every contract check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from projects import MODELS, DjangoProject

from mirror.dsn import Dsn
from mirror.provision.schema import load_schema
from mirror.report import FORMATS

CHOICES_MODELS = (
    MODELS.replace(
        'venue = models.CharField(max_length=255, null=True, db_column="event_location")',
        "venue = models.CharField(\n"
        '        max_length=255, null=True, db_column="event_location",\n'
        '        choices=[("Indoors", [("hall", "Hall"), ("tent", "Tent")]), ("yard", "Yard")],\n'
        "    )",
    )
    .replace(
        'limit = models.IntegerField(null=True, db_column="ticket_limit")',
        'limit = models.IntegerField(null=True, db_column="ticket_limit", choices=Size.choices)',
    )
    .replace(
        'label = models.CharField(max_length=140, db_column="price_group_name")',
        'label = models.CharField(max_length=140, db_column="price_group_name", '
        "choices=Kind.choices, blank=True)",
    )
    .replace(
        "from django.db import models\n",
        "from django.db import models\n\n\n"
        "class Size(models.IntegerChoices):\n    SMALL = 10\n    LARGE = 20\n\n\n"
        "class Kind(models.TextChoices):\n    ADULT = 'adult'\n    CHILD = 'child'\n",
    )
)
assert CHOICES_MODELS.count("choices=") == 3

# Values production holds that no choice allows: none may ever be printed.
SEEDED = ("Seeded-Venue-5821", "Seeded-Kind-9034", "Seeded-Event-1177")
PRODUCTION_ROWS = f"""
INSERT INTO billig.event (event, event_name, event_location, sale_from, sale_to, hidden) VALUES
    (1, '{SEEDED[2]}', 'hall', now(), now(), false),
    (2, '{SEEDED[2]}', '{SEEDED[0]}', now(), now(), false),
    (3, '{SEEDED[2]}', NULL, now(), now(), false);
INSERT INTO billig.ticket_group
    (ticket_group, event, ticket_group_name, ticket_limit, num_sold, num)
VALUES (1, 1, 'a', 10, 0, 5), (2, 1, 'b', 48613, 0, 5), (3, 2, 'c', 48613, 0, 5),
    (4, 2, 'd', NULL, 0, 5);
INSERT INTO billig.price_group (price_group, ticket_group, price_group_name, netsale, price) VALUES
    (1, 1, 'adult', true, 100), (2, 1, '', true, 100), (3, 2, '{SEEDED[1]}', true, 100);
"""


@pytest.fixture
def project(django_project: Any, mirror_options: list[str]) -> DjangoProject:
    made: DjangoProject = django_project(models=CHOICES_MODELS)
    done = made.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    return made


@pytest.fixture
def production(billig_server: Any, project: DjangoProject) -> Iterator[str]:
    """A production database of the project's schema, seeded with rows outside the choices;
    yields its libpq URL."""
    name = f"choices_{secrets.token_hex(6)}"
    dsn: Dsn = billig_server.create_database(name)
    try:
        with contextlib.closing(billig_server.connect(name)) as conn:
            load_schema(conn, project.schema)
            with conn.cursor() as cur:
                cur.execute(PRODUCTION_ROWS)
            conn.commit()
        yield dsn.url()
    finally:
        billig_server.drop_database(name)


def _lineage(project: DjangoProject) -> dict[str, dict[str, Any]]:
    contract = json.loads((project.contracts / "columns.json").read_text())
    return {
        f"{rel['schema']}.{rel['name']}.{col['name']}": col.get("lineage", {})
        for rel in contract["relations"]
        for col in rel["columns"]
    }


def test_the_contract_pins_the_choices_of_every_form_django_accepts(
    project: DjangoProject, mirror_options: list[str]
) -> None:
    lineage = _lineage(project)
    assert lineage["billig.event_lim_web.event_location"]["choices"] == ["hall", "tent", "yard"]
    assert lineage["billig.ticket_group.ticket_limit"]["choices"] == [10, 20]
    # blank=True: Django also allows the empty string.
    assert lineage["billig.price_group.price_group_name"]["choices"] == ["adult", "child", ""]
    assert "choices" not in lineage["billig.ticket_group.ticket_group_name"]
    done = project.billig("contracts", "check", "--kind", "columns", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    # A choice the site adds is a lineage change the check names.
    project.rewrite(models=CHOICES_MODELS.replace("LARGE = 20", "LARGE = 20\n    HUGE = 40"))
    done = project.billig("contracts", "check", "--kind", "columns", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lineage of billig.ticket_group.ticket_limit: + choice 40" in done.stdout


def test_values_outside_the_choices_are_counted_with_their_readers(
    project: DjangoProject, production: str
) -> None:
    done = project.billig("drift", "--data", "--dsn", production, "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    outside = {f["object"]: f for f in report["findings"] if f["kind"] == "data_outside_choices"}
    assert set(outside) == {
        "billig.ticket_group.ticket_limit",
        "billig.price_group.price_group_name",
        # Through the view the site reads: one row of three holds an undeclared venue.
        "billig.event_lim_web.event_location",
    }
    venue = outside["billig.event_lim_web.event_location"]
    assert venue["actual"] == "1 of 3 rows"
    assert venue["severity"] == "breaking"  # ShowSerializer outputs it, an endpoint serves it
    assert "outside the 3 choice(s) its readers allow" in venue["message"]
    assert any(r.startswith("GET /api/shows/") for r in venue["impact"])
    limit = outside["billig.ticket_group.ticket_limit"]
    assert limit["actual"] == "2 of 4 rows"
    assert limit["severity"] == "warning"  # only the model reads it
    assert limit["impact"] == ["Category.limit"]
    assert outside["billig.price_group.price_group_name"]["actual"] == "1 of 3 rows"


def test_no_report_format_shows_a_value_outside_the_choices(
    project: DjangoProject, production: str
) -> None:
    for fmt in FORMATS:
        done = project.billig("drift", "--data", "--dsn", production, "--format", fmt)
        output = done.stdout + done.stderr
        assert done.returncode == 1, (fmt, output)
        assert "choice" in output, fmt
        for value in (*SEEDED, "48613"):
            assert value not in output, (fmt, value)


labels = st.text(min_size=1, max_size=8)
values = st.one_of(
    st.lists(st.text(max_size=8), min_size=1, max_size=6, unique=True),
    st.lists(st.integers(-1000, 1000), min_size=1, max_size=6, unique=True),
)


@given(values=values, grouped=st.booleans(), blank=st.booleans(), label=labels)
def test_a_fields_allowed_values_are_its_choices_flat_or_grouped(
    site: Any, values: list[str] | list[int], grouped: bool, blank: bool, label: str
) -> None:
    from django.db import models

    from mirror.adapters.django.models import allowed_values

    pairs = [(v, f"{label} {i}") for i, v in enumerate(values)]
    half = len(pairs) // 2
    choices = [(label, pairs[:half]), *pairs[half:]] if grouped and half else pairs
    field = models.CharField(max_length=10, choices=choices, blank=blank)
    expected: tuple[str | int, ...] = tuple(values)
    if blank and all(isinstance(v, str) for v in values) and "" not in values:
        expected += ("",)
    assert allowed_values(field) == expected


def test_enumeration_types_and_a_none_choice_give_plain_values(site: Any) -> None:
    from django.db import models

    from mirror.adapters.django.models import allowed_values

    class Level(models.IntegerChoices):
        LOW = 1
        HIGH = 2

    class Mood(models.TextChoices):
        CALM = "calm"
        LOUD = "loud"

    levels = allowed_values(models.IntegerField(choices=Level.choices))
    assert levels == (1, 2) and all(type(v) is int for v in levels)
    moods = allowed_values(models.CharField(choices=Mood, null=True))
    assert moods == ("calm", "loud") and all(type(v) is str for v in moods)
    assert allowed_values(models.CharField(choices=[(None, "-"), ("a", "A")])) == ("a",)
    assert allowed_values(models.DateField(choices=[(dt.date(2026, 1, 1), "new year")])) is None
    assert allowed_values(models.CharField()) is None


def test_the_full_contract_check_passes_on_a_mirror_seeded_within_the_choices(
    project: DjangoProject, mirror_options: list[str]
) -> None:
    # The observed output of every serializer meets the enums its API schema declares: the
    # seed writes only the choices where the fields declare them.
    done = project.billig("contracts", "check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not one of" not in done.stdout


def test_a_mirror_seeded_without_the_site_holds_the_choices_the_contract_pins(
    project: DjangoProject, billig_server: Any
) -> None:
    # ``billig mirror seed`` (as ``mirror up``/``run`` and the pytest plugin) loads no site: the
    # choices come from the contract's lineage, the view's through to its base column.
    name = f"pinned_{secrets.token_hex(6)}"
    dsn: Dsn = billig_server.create_database(name)
    try:
        done = project.billig("mirror", "seed", "--dsn", dsn.url())
        assert done.returncode == 0, done.stdout + done.stderr
        with contextlib.closing(billig_server.connect(name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT DISTINCT event_location FROM billig.event")
            venues = {row[0] for row in cur.fetchall()}
            cur.execute("SELECT DISTINCT ticket_limit FROM billig.ticket_group")
            limits = {row[0] for row in cur.fetchall()}
    finally:
        billig_server.drop_database(name)
    # Each choice; NULL where a scenario has none (the fields are null=True): the NULL limits stay.
    assert venues - {None} == {"hall", "tent", "yard"}
    assert limits == {10, 20, None}


PLUGIN_TEST = """
from sqlalchemy import text


def test_the_session_mirror_holds_the_pinned_choices(billig_engine):
    with billig_engine.connect() as conn:
        found = conn.execute(text("SELECT DISTINCT event_location FROM billig.event"))
        venues = {row[0] for row in found}
    assert venues - {None} == {"hall", "tent", "yard"}
"""


def test_the_pytest_plugin_seeds_the_choices_the_contract_pins(
    project: DjangoProject, mirror_options: list[str]
) -> None:
    project.write("test_seeded_choices.py", PLUGIN_TEST)
    done = project.pytest(mirror_options, "test_seeded_choices.py")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
