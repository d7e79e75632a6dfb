"""Fresh DRF projects as teams have them: whatever their settings say about API schemas, the
contracts pin and hold; a site mistake still fails."""

from __future__ import annotations

import json

import pytest
from projects import SERIALIZERS, ProjectSpec

# A model of the site's own database whose serializer nests Billig data.
LISTINGS = {
    "{package}/listings/__init__.py": "",
    "{package}/listings/models.py": (
        "from django.db import models\n\n"
        "from {package}.tickets.models import Show\n\n\n"
        "class Listing(models.Model):\n"
        "    show_id = models.IntegerField()\n"
        "    headline = models.CharField(max_length=100)\n\n"
        "    @property\n"
        "    def show(self):\n"
        "        return Show.objects.filter(id=self.show_id).first()\n"
    ),
}
LISTING_SERIALIZER = """

from {package}.listings.models import Listing


class ListingSerializer(serializers.ModelSerializer):
    show = ShowSerializer(read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "headline", "show"]
"""
WITH_LISTINGS = ProjectSpec(
    files=LISTINGS,
    settings_extra='INSTALLED_APPS = [*INSTALLED_APPS, "{package}.listings"]\n',
    serializers=SERIALIZERS + LISTING_SERIALIZER,
)
SAMPLES = """
def billig_samples(now):
    ids = Show.objects.order_by("id").values_list("id", flat=True)[:5]
    return {ListingSerializer: [Listing(id=i, show_id=i, headline="x") for i in ids]}
"""

# A serializer whose field list names a Billig column no site may publish.
SERIALIZERS_EMITTING_NUM_SOLD = SERIALIZERS.replace(
    'fields = ["id", "label", "sold_out", "prices"]',
    'fields = ["id", "label", "sold_out", "num_sold", "prices"]',
)


@pytest.mark.parametrize("spectacular", [False, True], ids=["plain-drf", "drf-spectacular"])
def test_contracts_update_and_check_pass_whatever_the_schema_class(
    django_project, mirror_options, spectacular
):
    project = django_project(spectacular=spectacular)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    shape = json.loads((project.contracts / "shapes" / "ShowSerializer.json").read_text())
    assert "categories" in shape["schema"]["properties"]
    columns = json.loads((project.contracts / "columns.json").read_text())
    groups = next(r for r in columns["relations"] if r["name"] == "ticket_group")
    num = next(c for c in groups["columns"] if c["name"] == "num")
    assert "ShowSerializer.categories[].sold_out" in num["lineage"]["fields"]
    assert "GET /api/shows/" in num["lineage"]["endpoints"]
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all contracts hold" in done.stdout


def test_a_serializer_emitting_a_forbidden_field_still_fails(django_project, mirror_options):
    project = django_project()
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    project.write("{package}/{app}/serializers.py", SERIALIZERS_EMITTING_NUM_SOLD)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "num_sold" in done.stdout


def test_a_property_reading_a_column_billig_lacks_fails_naming_it(django_project, mirror_options):
    project = django_project()
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    # The column goes from the schema after the contract pinned it: production dropped it.
    project.schema.write_text(
        project.schema.read_text().replace("    num_sold integer NOT NULL,\n", "")
    )
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "num_sold" in done.stdout
    assert "Category.num_sold" in done.stdout


def test_a_site_model_serializer_without_samples_fails_saying_how_to_give_them(
    django_project, mirror_options
):
    project = django_project(WITH_LISTINGS)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ListingSerializer: no output observed on the seeded mirror" in done.stdout
    assert "billig_samples(now) returning {SerializerClass: [unsaved model instances]}" in (
        done.stdout
    )


def test_billig_samples_gives_a_site_model_serializer_its_instances(django_project, mirror_options):
    project = django_project(WITH_LISTINGS, samples=SAMPLES)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
