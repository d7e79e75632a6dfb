"""pytest-django on the session mirror: a run of the example site's own test suite setting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pytest_django")

INNER = """
import pytest
from django.db import connections

from cirkus.billig.models import BilligTicketGroup

pytestmark = pytest.mark.django_db(databases=["default", "billig"])


def test_1_a_test_may_write_to_billig():
    BilligTicketGroup.objects.filter(num=0).update(num=1)
    assert not BilligTicketGroup.objects.filter(num=0).exists()


def test_2_the_next_test_sees_the_seed_again():
    assert BilligTicketGroup.objects.filter(num=0).exists()


def test_3_django_created_and_migrated_nothing_there():
    settings = connections["billig"].settings_dict
    assert not settings["NAME"].startswith("test_")
    with connections["billig"].cursor() as cur:
        cur.execute("SELECT to_regclass('django_migrations'), to_regclass('events_event')")
        assert cur.fetchone() == (None, None)


@pytest.mark.django_db
def test_4_tests_without_billig_cannot_reach_it():
    with pytest.raises(Exception, match="not allowed"):
        BilligTicketGroup.objects.count()
"""


def test_example_tests_run_on_the_seeded_mirror_each_rolled_back(example_root, tmp_path):
    project = tmp_path / "site"
    shutil.copytree(
        example_root, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3")
    )
    (project / "tests" / "test_isolation.py").write_text(textwrap.dedent(INNER))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLIG_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "failed" not in result.stdout
