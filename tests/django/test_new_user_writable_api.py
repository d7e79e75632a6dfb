"""A DRF ``ModelViewSet`` (create, update, delete as well as read) over a Billig model: its
endpoints that emit the serializer are in the lineage, ``DELETE`` (answered without a body)
is not, so drift never names it as broken by a column it does not send."""

from __future__ import annotations

import json

from projects import VIEWS

WRITABLE_VIEWS = VIEWS.replace("viewsets.ReadOnlyModelViewSet", "viewsets.ModelViewSet")


def test_the_lineage_names_the_endpoints_that_emit_a_column(django_project, mirror_options) -> None:
    project = django_project(views=WRITABLE_VIEWS)
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    contract = json.loads((project.contracts / "columns.json").read_text())
    endpoints = {
        endpoint
        for relation in contract["relations"]
        for column in relation["columns"]
        for endpoint in column.get("lineage", {}).get("endpoints", ())
    }
    assert {"GET /api/shows/", "POST /api/shows/", "PUT /api/shows/{pk}/"} <= endpoints
    assert not [e for e in endpoints if e.startswith("DELETE")], endpoints
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
