"""Observed output: the example site's serializers run on a seeded mirror through the ORM."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime

import jsonschema
import pytest

from mirror.contracts.shapes import normalize_schema
from mirror.errors import ObservationError

NOW = datetime(2026, 12, 1, 12)


@pytest.fixture(scope="module")
def outputs(site, site_mirror):
    return site.observe(site_mirror.full_url, NOW)


def test_every_pinned_serializer_has_real_output(site, outputs):
    assert set(outputs) == set(site.serializers)
    assert all(outputs[name] for name in outputs)


def test_real_output_validates_against_the_shapes(site, outputs):
    for name, shape in site.shapes().items():
        validator = jsonschema.Draft202012Validator(normalize_schema(shape))
        for item in outputs[name]:
            validator.validate(item)


def test_site_events_nest_billig_events_or_null(outputs):
    billig = [event["billig"] for event in outputs["EventSerializer"]]
    assert None in billig  # the free event and the one whose Billig event is gone
    assert any(b and b["ticket_groups"] for b in billig)


def test_sold_out_groups_are_seen_as_sold_out(outputs):
    groups = outputs["TicketGroupSerializer"]
    assert any(g["is_sold_out"] for g in groups)
    assert any(not g["is_sold_out"] for g in groups)


def test_an_aware_now_is_the_sites_naive_local_time(site, site_mirror):
    from datetime import UTC

    aware = site.observe(site_mirror.full_url, datetime(2026, 12, 1, 11, tzinfo=UTC))
    assert (
        aware["BilligEventSerializer"]
        == site.observe(site_mirror.full_url, NOW)["BilligEventSerializer"]
    )  # 11:00 UTC is 12:00 in Oslo


def test_observing_leaves_the_billig_alias_as_configured(site, site_mirror):
    from django.db import connections

    before = dict(connections["billig"].settings_dict)
    site.observe(site_mirror.full_url, NOW)
    assert connections["billig"].settings_dict == before


def fragile_site(django_config, example_root):
    from mirror.adapters.django import DjangoSite

    fragile = dataclasses.replace(django_config, serializers=("fill_rate_serializers",))
    return DjangoSite(fragile, example_root)


def test_site_code_raising_on_seeded_data_names_the_model_the_row_and_the_error(
    django_config, example_root, site_mirror
):
    with pytest.raises(ObservationError) as caught:
        fragile_site(django_config, example_root).observe(site_mirror.full_url, NOW)
    message = str(caught.value)
    assert message.startswith("FillRateSerializer: site code raised on seeded data")
    assert "BilligTicketGroup row ticket_group=" in message
    assert "ZeroDivisionError: division by zero" in message


def test_a_column_the_mirror_lacks_names_the_model_reading_it(site, site_mirror):
    url = site_mirror.clone()
    try:
        with contextlib.closing(site_mirror.server.connect(url.database)) as conn:
            with conn.cursor() as cur:
                cur.execute('ALTER TABLE "billig.ticket_group" DROP COLUMN num_sold')
            conn.commit()
        dsn = url.url()  # a libpq URL with the password
        lacks = r"BilligTicketGroup\.num_sold reads what the mirror lacks"
        with pytest.raises(ObservationError, match=lacks):
            site.observe(dsn, NOW)
    finally:
        site_mirror.drop(url)
