"""Django projects laid out as teams have them: the packages in ``src/`` (``src/manage.py``),
and a development schema spelling Billig's tables as dotted names in ``public`` without a
schema (``CREATE TABLE "billig.event"``). ``billig init`` finds the project, its serializers
and its schema file there, and the checks and pytest-django then run from the project's top."""

from __future__ import annotations

import tomllib

from projects import MODELS, DjangoProject

PYPROJECT = '[project]\nname = "shop"\nversion = "1.0"\n'
MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{package}.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
# The dev database's spelling: the trap Django's db_table = 'billig.event' quotes into.
DOTTED_SCHEMA = """\
CREATE TABLE "billig.event" (
    event serial PRIMARY KEY,
    event_name varchar(140) NOT NULL,
    event_location varchar(255),
    event_time timestamp,
    sale_from timestamp NOT NULL,
    sale_to timestamp NOT NULL,
    hidden boolean NOT NULL DEFAULT false
);
CREATE VIEW "billig.event_lim_web" AS
    SELECT event, event_name, event_location, event_time, sale_from, sale_to, hidden
      FROM "billig.event";
CREATE TABLE "billig.ticket_group" (
    ticket_group serial PRIMARY KEY,
    event integer NOT NULL REFERENCES "billig.event" (event),
    ticket_group_name varchar(140) NOT NULL,
    ticket_limit integer,
    num_sold integer NOT NULL,
    num integer NOT NULL
);
CREATE TABLE "billig.price_group" (
    price_group serial PRIMARY KEY,
    ticket_group integer NOT NULL REFERENCES "billig.ticket_group" (ticket_group),
    price_group_name varchar(140) NOT NULL,
    netsale boolean NOT NULL,
    price integer NOT NULL
);
"""
DOTTED_MODELS = MODELS.replace('\'billig"."', "'billig.")


def _src_project(django_project) -> DjangoProject:  # type: ignore[no-untyped-def]
    """A project before billig: its packages and manage.py in src/, its dev schema in db/."""
    project = django_project(source_root="src", models=DOTTED_MODELS, schema="")
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    (project.root / "schema").rename(project.root / "db")
    (project.root / "db" / "billig.sql").write_text(DOTTED_SCHEMA)
    project.write("src/manage.py", MANAGE)
    return project


def test_init_finds_a_project_kept_in_src_and_its_dotted_dev_schema(
    django_project, mirror_options
) -> None:
    project = _src_project(django_project)
    done = project.billig("init", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    tool = tomllib.loads((project.root / "pyproject.toml").read_text())["tool"]
    assert tool["billig"]["schema"] == "db/billig.sql"
    assert tool["billig"]["django"] == {
        "settings": "boxoffice.settings",
        "database": "billig",
        "serializers": ["boxoffice.tickets.serializers"],
        "urls": "boxoffice.urls",
        "path": "src",
    }
    assert tool["pytest"]["ini_options"] == {
        "DJANGO_SETTINGS_MODULE": "boxoffice.settings",
        "pythonpath": ["src"],
    }
    columns = (project.contracts / "columns.json").read_text()
    assert '"billig.ticket_group"' in columns

    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "all contracts hold" in checked.stdout
    tested = project.pytest(mirror_options, "tests")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout


def test_a_path_that_is_not_a_folder_is_a_usage_error(django_project, mirror_options) -> None:
    project = django_project(source_root="src")
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('path = "src"', 'path = "source"'))
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[tool.billig.django] path 'source' is not a folder" in done.stderr
    assert not project.contracts.exists()


def test_settings_not_importable_from_the_top_name_the_path_key(
    django_project, mirror_options
) -> None:
    project = django_project(source_root="src")
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('path = "src"\n', ""))
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No module named 'boxoffice'" in done.stderr
    assert "[tool.billig.django] path" in done.stderr


def test_pytest_imports_the_project_from_its_path_without_a_pythonpath_setting(
    django_project, mirror_options
) -> None:
    # A project configured by hand: [tool.billig.django] path, no pytest pythonpath.
    project = _src_project(django_project)
    done = project.billig("init", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('pythonpath = ["src"]\n', ""))
    assert "pythonpath" not in tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]
    tested = project.pytest(mirror_options, "tests")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout
