"""A Billig whose times are ``timestamp with time zone``, read by plain ``DateTimeField``s, with
``USE_TZ`` on and off: Django creates timestamptz for a DateTimeField and reads it either way
(naive in ``TIME_ZONE`` without USE_TZ, aware with it), so ``billig check`` passes; a column
whose values are no time stamp at all (``date``) still fails the models check."""

from __future__ import annotations

import pytest
from projects import SCHEMA, SERIALIZERS

ZONED = SCHEMA.replace("timestamp without time zone", "timestamp with time zone")


@pytest.mark.parametrize("use_tz", [False, True], ids=["USE_TZ off", "USE_TZ on"])
def test_date_time_fields_read_timestamptz_columns(django_project, mirror_options, use_tz) -> None:
    project = django_project(schema=ZONED, use_tz=use_tz)
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "timestamp with time zone" in (project.contracts / "columns.json").read_text()
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "type changed" not in checked.stdout


def test_a_date_time_field_over_a_date_column_still_fails(django_project, mirror_options) -> None:
    dated = SCHEMA.replace("event_time timestamp without time zone", "event_time date")
    # Not serialized: the model alone reads it.
    project = django_project(schema=dated, serializers=SERIALIZERS.replace('"starts", ', ""))
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "event_lim_web.event_time type changed incompatibly" in checked.stdout
