"""The Django adapter, tested on the example Django site (``examples/django_site``) and on
fresh projects written for each test (:mod:`projects`).

Collected only where Django, DRF and drf-spectacular are installed (``tox -e django``).
Django's settings are global to a process: in-process tests configure the example site's; fresh
projects run ``billig`` as a subprocess.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if not all(importlib.util.find_spec(m) for m in ("django", "rest_framework", "drf_spectacular")):
    collect_ignore_glob = ["*.py"]

from projects import DjangoProject, ProjectSpec, write_project

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


@pytest.fixture
def django_project(tmp_path: Path) -> Callable[..., DjangoProject]:
    """Write a fresh Django + DRF project into a new folder: ``django_project()`` gives the
    default one, ``django_project(spec)`` or ``django_project(spectacular=True, ...)`` another
    (see :class:`projects.ProjectSpec`). Run ``billig`` in it with ``project.billig(...)``."""
    count = 0

    def make(spec: ProjectSpec | None = None, **changes: Any) -> DjangoProject:
        nonlocal count
        count += 1
        return write_project(tmp_path / f"project{count}", (spec or ProjectSpec()).but(**changes))

    return make


@pytest.fixture
def mirror_options(billig_server: Any) -> list[str]:
    """``billig`` options building the mirror inside the test session's server (the cheapest
    provider)."""
    from mirror.dsn import Dsn

    return ["--provider", "dsn", "--dsn", Dsn.of(billig_server.admin_url).url()]
