"""A model that cannot say what the column holds (Django's ``DecimalField`` needs digits, a
``sum()`` in a view has none) fails the models check with a line saying how to declare the
difference; the entry that line spells, completed, makes ``billig check`` pass."""

from __future__ import annotations

import json
import re

from projects import MODELS, SCHEMA, SERIALIZERS

TOTALS_VIEW = """
CREATE VIEW billig.price_totals AS
    SELECT ticket_group, sum(price::numeric) AS total FROM billig.price_group GROUP BY ticket_group;
"""
TOTALS_MODEL = """

class PriceTotal(models.Model):
    category = models.OneToOneField(
        Category, models.DO_NOTHING, primary_key=True, db_column="ticket_group",
        db_constraint=False,
    )
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, db_column="total")

    class Meta:
        managed = False
        db_table = 'billig"."price_totals'
"""


def test_the_models_check_says_how_to_declare_a_difference_and_honours_it(
    django_project, mirror_options
) -> None:
    project = django_project(
        schema=SCHEMA + TOTALS_VIEW, models=MODELS + TOTALS_MODEL, serializers=SERIALIZERS
    )
    updated = project.billig("contracts", "update", *mirror_options)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    checked = project.billig("check", *mirror_options)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "billig.price_totals.total type widened: numeric(12,2) → numeric" in checked.stdout
    hint = re.search(
        r"declared in models-policy\.json next to columns\.json: (\{.*\})\)", checked.stdout
    )
    assert hint, checked.stdout
    entry = json.loads(hint.group(1).replace("…", '"x"'))
    assert (entry["kind"], entry["object"]) == ("type_changed", "billig.price_totals.total")

    entry |= {
        "reason": "sum() has no digits in PostgreSQL",
        "owner": "web",
        "expires": "2099-01-01",
    }
    policy = {"format_version": 1, "tolerate": [entry]}
    (project.contracts / "models-policy.json").write_text(json.dumps(policy))
    declared = project.billig("check", *mirror_options)
    assert declared.returncode == 0, declared.stdout + declared.stderr
    assert "1 declared difference(s) in models-policy.json" in declared.stdout
