"""A Django project's own code never crashes the harness and never passes unchecked: settings,
models, serializers or URLconf that raise or exit on import, and a ``billig_samples`` hook of
the wrong shape, are usage errors (exit 2) naming the module and the exception; no configured
database password shows, and nothing is left behind."""

from __future__ import annotations

import contextlib

import pytest
from projects import MODELS, SERIALIZERS, URLS

PASSWORD = "Hunter2-db-secret"
EXITS = "import sys\nsys.exit(0)\n"
RAISES_WITH_PASSWORD = (
    "from django.conf import settings\n"
    "raise RuntimeError('cannot log in with ' + settings.DATABASES['billig']['PASSWORD'])\n"
)


BASE_EXCEPTION = "class Stop(BaseException):\n    pass\n\nraise Stop('halt')\n"

CASES = {
    "settings-raise": (
        {"settings_extra": "raise RuntimeError('no login ' + DATABASES['billig']['PASSWORD'])\n"},
        "Django settings module 'boxoffice.settings' raised RuntimeError",
    ),
    "settings-exit-0": ({"settings_extra": EXITS}, "called sys.exit(0)"),
    "settings-base-exception": ({"settings_extra": BASE_EXCEPTION}, "raised Stop: halt"),
    "settings-missing-dependency": (
        {"settings_extra": "import not_installed_anywhere\n"},
        "No module named 'not_installed_anywhere'",
    ),
    "models-raise": (
        {"models": MODELS + RAISES_WITH_PASSWORD},
        "Django setup of 'boxoffice.settings' (its INSTALLED_APPS) raised RuntimeError",
    ),
    "serializers-raise": (
        {"serializers": SERIALIZERS + RAISES_WITH_PASSWORD},
        "serializer module 'boxoffice.tickets.serializers' raised RuntimeError",
    ),
    "serializers-syntax-error": (
        {"serializers": SERIALIZERS + "def broken(:\n"},
        "serializer module 'boxoffice.tickets.serializers' raised SyntaxError",
    ),
    "urls-raise": (
        {"urls": URLS + RAISES_WITH_PASSWORD},
        "URLconf module 'boxoffice.urls' raised RuntimeError",
    ),
    "urls-exit-0": ({"urls": URLS + EXITS}, "URLconf module 'boxoffice.urls' called sys.exit(0)"),
    "samples-list": (
        {"samples": "def billig_samples(now):\n    return []\n"},
        "boxoffice.tickets.serializers.billig_samples() returned a list []: expected "
        "billig_samples(now) returning {SerializerClass: [unsaved model instances]}",
    ),
    "samples-name-keys": (
        {"samples": "def billig_samples(now):\n    return {'ShowSerializer': []}\n"},
        "billig_samples() returned a key str 'ShowSerializer'",
    ),
    "samples-not-callable": (
        {"samples": "billig_samples = {}\n"},
        "boxoffice.tickets.serializers.billig_samples is dict",
    ),
}


@pytest.fixture
def databases(billig_server) -> object:
    """The names of the databases of the test session's server, read when called."""

    def names() -> set[str]:
        with contextlib.closing(billig_server.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {row[0] for row in cur.fetchall()}

    return names


@pytest.mark.parametrize("case", sorted(CASES))
def test_site_code_failing_is_a_usage_error_naming_it(
    case, django_project, mirror_options, databases
):
    changes, message = CASES[case]
    project = django_project(password=PASSWORD)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    project = project.rewrite(**changes)
    before_tree, before_databases = project.tree(), databases()
    before_contracts = {p: p.read_bytes() for p in project.contracts.rglob("*.json")}
    # Samples are used only by checks run on the seeded mirror.
    commands = [["check"], ["contracts", "check"]]
    if not case.startswith("samples-"):
        commands.insert(0, ["contracts", "update"])
    for command in commands:
        done = project.billig(*command, *mirror_options)
        output = done.stdout + done.stderr
        assert done.returncode == 2, f"{command}: {output}"
        assert message in output, output
        assert PASSWORD not in output
        assert "internal error" not in output
        assert project.tree() == before_tree, command
        assert databases() == before_databases, command
        assert {p: p.read_bytes() for p in project.contracts.rglob("*.json")} == before_contracts
