"""``drift --suggest`` and ``--write-schema`` for a Django site: Django model lines, and a schema
file that keeps production's constraint names and CHECK clauses, leaves unchanged statements
as they are, and writes a table that became a view as that view, over the table it reads."""

from __future__ import annotations

import contextlib
import json

import pytest
from projects import SCHEMA

from mirror.dsn import Dsn
from mirror.provision.schema import load_schema
from mirror.sources.introspect import introspect

# The development schema: the default one with named constraints, a CHECK and a default.
DEV_SCHEMA = SCHEMA.replace(
    "    ticket_limit integer,\n", "    ticket_limit integer DEFAULT 9,\n"
).replace(
    "    CONSTRAINT ticket_group_pkey PRIMARY KEY (ticket_group),\n",
    "    CONSTRAINT ticket_group_pkey PRIMARY KEY (ticket_group),\n"
    "    CONSTRAINT tg_sold_within_num CHECK (num_sold <= num),\n"
    "    CONSTRAINT tg_one_name_per_event UNIQUE (event, ticket_group_name),\n",
)
# What production's team did since: a wider name, a default dropped, price groups behind a view.
PRODUCTION_CHANGES = """
ALTER TABLE billig.ticket_group ALTER COLUMN ticket_group_name TYPE character varying(200);
ALTER TABLE billig.ticket_group ALTER COLUMN ticket_limit DROP DEFAULT;
ALTER TABLE billig.price_group RENAME TO price_group_data;
ALTER TABLE billig.price_group_data RENAME CONSTRAINT price_group_pkey TO price_group_data_pkey;
CREATE VIEW billig.price_group AS
    SELECT price_group, ticket_group, price_group_name, netsale, price
      FROM billig.price_group_data;
"""
EVENT_STATEMENT = DEV_SCHEMA[DEV_SCHEMA.index("CREATE TABLE billig.event (") :].split(";")[0]


@pytest.fixture
def drifted(django_project, mirror_options, billig_server, fresh_database):
    """A fresh Django project with contracts pinned on its development schema, and a
    production database that has drifted from it (its URL)."""
    project = django_project(schema=DEV_SCHEMA)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    with contextlib.closing(billig_server.connect(fresh_database.database)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(DEV_SCHEMA + PRODUCTION_CHANGES)
    return project, Dsn.of(fresh_database).url()


def test_suggest_prints_django_model_lines(drifted):
    project, production = drifted
    done = project.billig("drift", "--dsn", production, "--suggest")
    assert done.returncode in (0, 1), done.stdout + done.stderr  # findings, not errors
    out = done.stdout
    assert "__mapper_args__" not in out and "mapped_column" not in out
    assert 'label = models.CharField(max_length=200, db_column="ticket_group_name")' in out
    assert "managed = False  # in class Meta" in out  # price groups now read from a view
    limit = next(line for line in out.splitlines() if 'db_column="ticket_limit"' in line)
    assert limit.strip() == 'limit = models.IntegerField(db_column="ticket_limit", null=True)'
    assert "has a database default" not in out
    assert project.schema.read_text() == DEV_SCHEMA  # --suggest writes nothing


def test_write_schema_keeps_production_constraints_and_writes_views_as_views(
    drifted, billig_server, tmp_path
):
    project, production = drifted
    done = project.billig("drift", "--dsn", production, "--write-schema")
    assert done.returncode in (0, 1), done.stdout + done.stderr  # findings, not errors
    text = project.schema.read_text()
    assert EVENT_STATEMENT in text  # unchanged: verbatim
    assert "CONSTRAINT tg_sold_within_num CHECK (num_sold <= num)" in text
    assert "CONSTRAINT tg_one_name_per_event UNIQUE (event, ticket_group_name)" in text
    assert "_key" not in text  # no invented constraint name
    assert "CREATE VIEW billig.price_group AS" in text
    assert "WHERE false" not in text
    assert "CREATE TABLE billig.price_group_data" in text
    assert "CONSTRAINT price_group_data_pkey PRIMARY KEY (price_group)" in text
    # The file loads, and what it makes is production.
    name = "rewritten_" + tmp_path.name[-8:].lower().replace("-", "_")
    dsn = billig_server.create_database(name)
    try:
        with contextlib.closing(billig_server.connect(name)) as conn:
            load_schema(conn, project.schema)
        made = introspect(dsn.url(), schemas=["billig"], namesakes=False).catalog
        real = introspect(production, schemas=["billig"], namesakes=False).catalog
        assert made.relations == real.relations
    finally:
        billig_server.drop_database(name)
    # Run again: production's state is already the file's.
    again = project.billig("drift", "--dsn", production, "--suggest")
    assert "already production's state" in again.stdout, again.stdout + again.stderr
    assert json.loads((project.contracts / "columns.json").read_text())
