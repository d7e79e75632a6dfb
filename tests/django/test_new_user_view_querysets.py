"""A serializer field that reads what its view's queryset adds (``annotate(n=Count(...))``, the
usual way to count without N+1): on the seeded mirror the serializer gets the rows of that
queryset, as the API serves them, so a correct site passes ``billig check``; a view whose
``get_queryset()`` needs a real user falls back to the model's rows."""

from __future__ import annotations

import json

from projects import SERIALIZERS, VIEWS

ANNOTATING_VIEWS = VIEWS.replace(
    'queryset = Show.objects.filter(hidden=False).order_by("id")',
    'queryset = Show.objects.filter(hidden=False).annotate(category_count=Count("categories"))',
).replace(
    "from rest_framework import viewsets",
    "from django.db.models import Count\nfrom rest_framework import viewsets",
)
COUNTING_SERIALIZERS = SERIALIZERS.replace(
    "    categories = CategorySerializer(many=True, read_only=True)\n",
    "    categories = CategorySerializer(many=True, read_only=True)\n"
    "    category_count = serializers.IntegerField(read_only=True)\n",
).replace('"starts", "categories"]', '"starts", "categories", "category_count"]')


def test_a_field_its_views_queryset_annotates_is_observed(django_project, mirror_options) -> None:
    project = django_project(views=ANNOTATING_VIEWS, serializers=COUNTING_SERIALIZERS)
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "real serializer output on the seeded mirror matches the snapshots" in checked.stdout


def test_a_view_needing_a_real_user_falls_back_to_the_models_rows(
    django_project, mirror_options
) -> None:
    per_user = VIEWS.replace(
        '    queryset = Show.objects.filter(hidden=False).order_by("id")\n',
        '    queryset = Show.objects.filter(hidden=False).order_by("id")\n\n'
        "    def get_queryset(self):\n"
        "        return self.queryset.filter(id__in=self.request.user.profile.show_ids)\n",
    )
    project = django_project(views=per_user)
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr


PREFETCHING_VIEWS = VIEWS.replace(
    'queryset = Show.objects.filter(hidden=False).order_by("id")',
    'queryset = Show.objects.filter(hidden=False).prefetch_related("categories__prices")',
)


def test_statements_are_counted_on_the_views_queryset(django_project, mirror_options) -> None:
    """The view prefetches what ShowSerializer nests: no statement grows with the shows."""
    queries = {}
    for views in (VIEWS, PREFETCHING_VIEWS):
        project = django_project(views=views)
        updated = project.billig("contracts", "update", *mirror_options)
        assert updated.returncode == 0, updated.stdout + updated.stderr
        pinned = json.loads((project.contracts / "queries.json").read_text())
        queries[views] = pinned["serializers"]["ShowSerializer"]["constant"]
    assert queries == {VIEWS: False, PREFETCHING_VIEWS: True}
