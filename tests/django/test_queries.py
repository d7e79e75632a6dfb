"""The queries contract on fresh DRF projects: Billig statements per serializer are pinned, and
a serializer whose statements start to grow with the number of objects (a prefetch removed, a
field reading Billig lazily) fails ``billig check`` naming the statement that repeats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from projects import SERIALIZERS

PREFETCHING = (
    SERIALIZERS.replace(
        "from rest_framework import serializers\n",
        "from django.db.models import prefetch_related_objects\n"
        "from rest_framework import serializers\n",
    ).replace(
        "class ShowSerializer(serializers.ModelSerializer):\n",
        "class ShowList(serializers.ListSerializer):\n"
        "    def to_representation(self, data):\n"
        '        shows = list(data.all() if hasattr(data, "all") else data)\n'
        '        prefetch_related_objects(shows, "categories__prices")\n'
        "        return super().to_representation(shows)\n\n\n"
        "class ShowSerializer(serializers.ModelSerializer):\n",
    )
).replace(
    '        fields = ["id", "title", "venue", "starts", "categories"]\n',
    '        fields = ["id", "title", "venue", "starts", "categories"]\n'
    "        list_serializer_class = ShowList\n",
)

# The same output, but a field read lazily per show: one statement per object.
LAZY_FIELD = (
    PREFETCHING.replace(
        "class ShowList(",
        "def _first_price(show):\n"
        "    from {package}.{app}.models import Price\n\n"
        '    return Price.objects.filter(category__show_id=show.pk).order_by("id").first()\n\n\n'
        "class ShowList(",
    )
    .replace(
        "    categories = CategorySerializer(many=True, read_only=True)\n",
        "    categories = CategorySerializer(many=True, read_only=True)\n"
        "    cheapest = serializers.SerializerMethodField()\n\n"
        "    def get_cheapest(self, show):\n"
        "        _first_price(show)\n"
        "        return None\n",
    )
    .replace(
        '"id", "title", "venue", "starts", "categories"]',
        '"id", "title", "venue", "starts", "categories", "cheapest"]',
    )
)

SAMPLES_WITH_COUNT = """
def billig_samples(now, count=None):
    from {package}.{app}.models import Show

    return {ShowSerializer: list(Show.objects.order_by("-id")[:count])}
"""

SAMPLES_WITHOUT_COUNT = """
def billig_samples(now):
    from {package}.{app}.models import Show

    return {ShowSerializer: list(Show.objects.order_by("-id"))}
"""


def pinned(project) -> dict:
    return json.loads((project.contracts / "queries.json").read_text())["serializers"]


@pytest.mark.parametrize(
    "samples",
    [None, SAMPLES_WITH_COUNT, SAMPLES_WITHOUT_COUNT],
    ids=["model-rows", "hook-with-count", "hook-without-count"],
)
def test_a_removed_prefetch_fails_check_naming_the_repeated_statement(
    django_project, mirror_options, samples
):
    project = django_project(serializers=PREFETCHING, samples=samples)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    show = pinned(project)["ShowSerializer"]
    assert show["constant"] is True
    assert show["objects"] == [3, 30]
    assert "ShowSerializer: constant" in done.stdout
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr

    without = SERIALIZERS + ("\n\n" + samples if samples else "")
    project.write("{package}/{app}/serializers.py", without)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if "FAIL" in line]
    assert failed == [line for line in failed if "queries" in line and "ShowSerializer" in line]
    assert "grows with the number of objects" in done.stdout
    assert "for 3 → 30 objects (pinned: constant" in done.stdout
    # The categories of each show: one statement per show, reading the ticket groups.
    assert "repeats 3 → 30 times: SELECT … FROM billig.ticket_group" in done.stdout
    assert "via ShowSerializer.categories (model Category)" in done.stdout


def test_a_field_reading_billig_lazily_fails_check(django_project, mirror_options):
    project = django_project(serializers=PREFETCHING)
    assert project.billig("contracts", "update", *mirror_options).returncode == 0
    project.write("{package}/{app}/serializers.py", LAZY_FIELD)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  queries  ShowSerializer" in done.stdout
    assert "repeats 3 → 30 times: SELECT … FROM billig.price_group" in done.stdout


def test_a_growing_count_is_pinned_as_such_and_holds_until_it_grows_further(
    django_project, mirror_options
):
    project = django_project()  # no prefetch at all: categories and prices per show
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    show = pinned(project)["ShowSerializer"]
    assert show["constant"] is False
    assert show["statements"][1] > show["statements"][0]
    assert "ShowSerializer: grows with the objects (N+1)" in done.stdout
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "as pinned" in done.stdout


def test_a_lower_count_passes_as_an_improvement_that_update_pins(django_project, mirror_options):
    project = django_project()
    assert project.billig("contracts", "update", *mirror_options).returncode == 0
    project.write("{package}/{app}/serializers.py", PREFETCHING)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fewer than pinned" in done.stdout
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ShowSerializer: grows with the objects (N+1)" in done.stdout  # was → now
    assert pinned(project)["ShowSerializer"]["constant"] is True


def test_the_example_site_fails_when_its_prefetch_is_removed(
    example_root: Path, tmp_path: Path, mirror_options
):
    from projects import run_billig

    site = tmp_path / "site"
    shutil.copytree(example_root, site, ignore=shutil.ignore_patterns("__pycache__"))
    done = run_billig(site, "check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    serializers = site / "cirkus" / "events" / "serializers.py"
    text = serializers.read_text()
    assert "        Event.prefetch_billig(events)\n" in text
    serializers.write_text(text.replace("        Event.prefetch_billig(events)\n", ""))
    done = run_billig(site, "check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  queries  EventSerializer" in done.stdout
    assert "repeats 3 → 30 times: SELECT … FROM billig.event_lim_web" in done.stdout
    assert "via EventSerializer.billig (model BilligEvent)" in done.stdout
