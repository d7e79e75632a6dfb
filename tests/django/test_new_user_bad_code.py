"""The project's own code failing where a new user's does: a database router raising, settings
split over modules (``from .local import *``) failing with a password in the message, settings
calling ``sys.exit(0)`` under ``billig init``, and a model with Django 5.2's
``CompositePrimaryKey`` whose property raises. Each is exit 2 (or a failed check, exit 1)
naming the code, never an internal error or a silent exit 0, and no password is shown."""

from __future__ import annotations

import pytest
from projects import MODELS, SCHEMA, SERIALIZERS, DjangoProject

PASSWORD = "Local-Secret-77"
PYPROJECT = '[project]\nname = "shop"\nversion = "1.0"\n'
MANAGE = """\
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{package}.settings")
"""


def _before_billig(project: DjangoProject) -> DjangoProject:
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("manage.py", MANAGE)
    return project


@pytest.mark.parametrize("command", [("contracts", "update"), ("init", "--no-contracts")])
def test_a_router_that_raises_is_a_usage_error_naming_it(
    django_project, mirror_options, command
) -> None:
    project = django_project()
    if command[0] == "init":
        _before_billig(project)
    router = project.package / "router.py"
    router.write_text(
        router.read_text().replace(
            "    def db_for_read(self, model, **hints):\n",
            "    def db_for_read(self, model, **hints):\n"
            "        raise LookupError('no tenant for this request')\n",
        )
    )
    done = project.billig(*command, *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DATABASE_ROUTERS (db_for_read) raised LookupError: no tenant" in done.stderr


@pytest.mark.parametrize("command", [("contracts", "update"), ("init", "--no-contracts")])
def test_settings_split_over_modules_never_show_a_password_when_they_fail(
    django_project, mirror_options, command
) -> None:
    project = django_project(
        settings_extra="from {package}.local import *  # noqa\n",
        files={
            "{package}/local.py": (
                f'DATABASES = {{"billig": {{"PASSWORD": "{PASSWORD}"}}}}\n'
                'raise RuntimeError(f"local settings are incomplete: {DATABASES}")\n'
            )
        },
    )
    if command[0] == "init":
        _before_billig(project)
    before = project.tree()
    done = project.billig(*command, *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "raised RuntimeError: local settings are incomplete" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert project.tree() == before


def test_settings_that_exit_make_init_fail_and_write_nothing(
    django_project, mirror_options
) -> None:
    project = _before_billig(django_project(settings_extra="import sys\nsys.exit(0)\n"))
    before = {name: (project.root / name).read_bytes() for name in ("pyproject.toml",)}
    done = project.billig("init", *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "called sys.exit(0)" in done.stderr
    assert (project.root / "pyproject.toml").read_bytes() == before["pyproject.toml"]
    assert not (project.root / ".github").exists()


COMPOSITE_MODEL = """

class Seat(models.Model):
    pk = models.CompositePrimaryKey("show", "label")
    show = models.ForeignKey(
        Show, models.DO_NOTHING, db_column="event", db_constraint=False, related_name="seats"
    )
    label = models.CharField(max_length=140, db_column="ticket_group_name")
    num = models.IntegerField(db_column="num")

    class Meta:
        managed = False
        db_table = 'billig"."seat'

    @property
    def free(self):
        raise RuntimeError("free seats are not counted yet")
"""
SEAT_TABLE = """
CREATE TABLE billig.seat (
    event integer NOT NULL REFERENCES billig.event (event),
    ticket_group_name character varying(140) NOT NULL,
    num integer NOT NULL,
    PRIMARY KEY (event, ticket_group_name)
);
"""
SEAT_SERIALIZER = """

from {package}.{app}.models import Seat


class SeatSerializer(serializers.ModelSerializer):
    free = serializers.IntegerField(read_only=True)

    class Meta:
        model = Seat
        fields = ["label", "free"]
"""


def test_a_composite_key_models_failing_property_names_its_row(
    django_project, mirror_options
) -> None:
    project = django_project(
        schema=SCHEMA + SEAT_TABLE,
        models=MODELS + COMPOSITE_MODEL,
        serializers=SERIALIZERS + SEAT_SERIALIZER,
    )
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SeatSerializer: site code raised on seeded data on Seat row event=" in done.stderr
    assert ", ticket_group_name=" in done.stderr
    assert "(in free): RuntimeError: free seats are not counted yet" in done.stderr


def test_a_composite_key_over_other_columns_than_the_tables_key_fails_the_check(
    django_project, mirror_options
) -> None:
    keyed_otherwise = SEAT_TABLE.replace(
        "PRIMARY KEY (event, ticket_group_name)", "seat serial PRIMARY KEY"
    )
    project = django_project(
        schema=SCHEMA + keyed_otherwise,
        models=MODELS + COMPOSITE_MODEL.replace("raise RuntimeError", "return 0  #"),
    )
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "billig.seat" in checked.stdout and "primary key" in checked.stdout
