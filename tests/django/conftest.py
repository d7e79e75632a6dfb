"""The Django adapter, tested on the example Django site (``examples/django_site``).

Collected only where Django, DRF and drf-spectacular are installed (``tox -e django``).
Django's settings are global to a process: these tests configure the example site's.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

if not all(importlib.util.find_spec(m) for m in ("django", "rest_framework", "drf_spectacular")):
    collect_ignore_glob = ["*.py"]

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "django_site"
SERIALIZERS = ("cirkus.billig.serializers", "cirkus.events.serializers")


@pytest.fixture(scope="session")
def example_root() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def django_config():  # type: ignore[no-untyped-def]
    from mirror.config import DjangoConfig

    return DjangoConfig(settings="cirkus.settings", serializers=SERIALIZERS, urls="cirkus.urls")


@pytest.fixture(scope="session")
def site(django_config):  # type: ignore[no-untyped-def]
    from mirror.adapters.django import DjangoSite

    return DjangoSite(django_config, EXAMPLE)


@pytest.fixture(scope="session")
def site_mirror(pytestconfig: pytest.Config) -> Iterator[object]:
    """A seeded mirror loaded from the example site's own schema (its dev layout)."""
    from mirror.provision.mirror import start_mirror

    with start_mirror(
        pytestconfig.getoption("billig_provider"), events=30, seed=1,
        schema_path=EXAMPLE / "schema" / "billig.sql",
    ) as mirror:  # fmt: skip
        yield mirror
