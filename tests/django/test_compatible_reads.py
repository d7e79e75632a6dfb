"""Compatible reads are compatible: a model reads, it does not write.

Fresh Django + DRF projects whose natural fields read a PostgreSQL enum through a ``CharField``,
a ``character(n)`` column through a ``CharField`` and a table without a primary key (Django needs
one) pass ``billig check``; a difference that is a real one fails it, unless it is declared in
``contracts/models-policy.json`` (reason, owner, expiry), and an expired declaration no longer
counts.
"""

from __future__ import annotations

import json

from projects import MODELS, SCHEMA

# Billig with an enum, a character(n) column and a table without a primary key.
TYPED_SCHEMA = (
    SCHEMA.replace(
        "CREATE TABLE billig.ticket_group (",
        "CREATE TYPE billig.sale_state AS ENUM ('open', 'closed', 'sold out');\n\n"
        "CREATE TABLE billig.ticket_group (\n"
        "    state billig.sale_state NOT NULL,\n"
        "    code character(5) NOT NULL,",
    )
    + """
CREATE TABLE billig.ticket_group_note (
    ticket_group integer NOT NULL REFERENCES billig.ticket_group (ticket_group),
    note text NOT NULL
);
"""
)

NATURAL_MODELS = (
    MODELS.replace(
        '    label = models.CharField(max_length=140, db_column="ticket_group_name")\n',
        '    label = models.CharField(max_length=140, db_column="ticket_group_name")\n'
        '    state = models.CharField(max_length=20, db_column="state")\n'
        '    code = models.CharField(max_length=5, db_column="code")\n',
    )
    + """

class CategoryNote(models.Model):
    category = models.IntegerField(primary_key=True, db_column="ticket_group")
    note = models.TextField(db_column="note")

    class Meta:
        managed = False
        db_table = 'billig"."ticket_group_note'
"""
)

# The enum read through a field with choices: all of its labels, or one missing.
STATE_CHOICES = NATURAL_MODELS.replace(
    '    state = models.CharField(max_length=20, db_column="state")\n',
    "    state = models.CharField(\n"
    '        max_length=20, db_column="state",\n'
    '        choices=[("open", "Open"), ("closed", "Closed"), ("sold out", "Sold out")],\n'
    "    )\n",
)
STATE_CHOICES_LACKING_ONE = STATE_CHOICES.replace(', ("sold out", "Sold out")', "")

# A real difference: the model reads an integer column as text.
NUM_AS_TEXT = NATURAL_MODELS.replace(
    '    num = models.IntegerField(db_column="num")\n',
    '    num = models.CharField(max_length=10, db_column="num")\n',
)


def _policy(expires: str) -> str:
    entry = {
        "kind": "type_changed",
        "object": "billig.ticket_group.num",
        "reason": "the count is shown as text until the new API lands",
        "owner": "web-team",
        "expires": expires,
    }
    return json.dumps({"format_version": 1, "tolerate": [entry]}, indent=2) + "\n"


def _updated(django_project, mirror_options, models: str):  # type: ignore[no-untyped-def]
    project = django_project(schema=TYPED_SCHEMA, models=NATURAL_MODELS)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    project.write("{package}/{app}/models.py", models)
    return project


def test_natural_fields_over_an_enum_a_fixed_length_text_and_a_keyless_table_pass_check(
    django_project, mirror_options
):
    project = _updated(django_project, mirror_options, NATURAL_MODELS)
    columns = json.loads((project.contracts / "columns.json").read_text())
    groups = next(r for r in columns["relations"] if r["name"] == "ticket_group")
    state = next(c for c in groups["columns"] if c["name"] == "state")
    assert state["labels"] == ["open", "closed", "sold out"]
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all contracts hold" in done.stdout


def test_choices_covering_the_enum_pass_and_a_label_they_lack_fails_naming_it(
    django_project, mirror_options
):
    project = _updated(django_project, mirror_options, STATE_CHOICES)
    # The choices are pinned in the lineage (drift --data counts values outside them).
    assert project.billig("contracts", "update", *mirror_options).returncode == 0
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    project.write("{package}/{app}/models.py", STATE_CHOICES_LACKING_ONE)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "billig.ticket_group.state" in done.stdout and "'sold out'" in done.stdout


def test_a_real_difference_fails_check_naming_it(django_project, mirror_options):
    project = _updated(django_project, mirror_options, NUM_AS_TEXT)
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "billig.ticket_group.num" in done.stdout


def test_a_declared_difference_is_honoured_until_it_expires(django_project, mirror_options):
    project = _updated(django_project, mirror_options, NUM_AS_TEXT)
    project.write("contracts/models-policy.json", _policy("2999-12-31"))
    done = project.billig("check", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr

    project.write("contracts/models-policy.json", _policy("2020-01-31"))
    done = project.billig("check", *mirror_options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "billig.ticket_group.num" in done.stdout
    assert "expired 2020-01-31" in done.stdout
