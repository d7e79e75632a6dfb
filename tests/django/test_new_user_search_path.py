"""A project that reaches Billig through the alias's ``search_path`` (``OPTIONS: {"options":
"-c search_path=billig,public"}``, ``db_table = "event_lim_web"``), whose dev schema file sets
that search path before unqualified ``CREATE TABLE``s, and whose serializers are DRF's
``HyperlinkedModelSerializer`` (a ``url`` per object, which needs a request in the context).
``billig init`` finds the schema file, the checks pass, and pytest-django reads the mirror
through the same search path."""

from __future__ import annotations

import tomllib

from projects import MODELS, SCHEMA, SERIALIZERS

PYPROJECT = '[project]\nname = "shop"\nversion = "1.0"\n'
MANAGE = 'import os\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "{package}.settings")\n'
SEARCH_PATH_SCHEMA = "CREATE SCHEMA billig;\nSET search_path = billig;\n\n" + SCHEMA.replace(
    "CREATE SCHEMA billig;\n", ""
).replace("billig.", "")
UNQUALIFIED_MODELS = MODELS.replace('\'billig"."', "'")
HYPERLINKED = SERIALIZERS.replace(
    "class ShowSerializer(serializers.ModelSerializer):",
    "class ShowSerializer(serializers.HyperlinkedModelSerializer):",
).replace(
    'fields = ["id", "title", "venue", "starts", "categories"]',
    'fields = ["url", "title", "categories"]',
)
SETTINGS = """
ALLOWED_HOSTS = []  # production's hosts come from the environment
DATABASES["billig"]["OPTIONS"] = {"options": "-c search_path=billig,public"}
"""


def test_a_project_reading_billig_through_its_search_path(django_project, mirror_options) -> None:
    project = django_project(
        schema="", models=UNQUALIFIED_MODELS, serializers=HYPERLINKED, settings_extra=SETTINGS
    )
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    (project.root / "schema" / "billig.sql").unlink()
    project.write("sql/dev.sql", SEARCH_PATH_SCHEMA)
    project.write("manage.py", MANAGE)

    done = project.billig("init", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        tomllib.loads((project.root / "pyproject.toml").read_text())["tool"]["billig"]["schema"]
        == "sql/dev.sql"
    )
    columns = (project.contracts / "columns.json").read_text()
    assert '"schema": "billig"' in columns and '"name": "event_lim_web"' in columns
    shape = (project.contracts / "shapes" / "ShowSerializer.json").read_text()
    assert '"url"' in shape

    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = project.pytest(mirror_options, "tests")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout
