"""The first pytest file ``billig init`` writes: seeded Billig rows read through the project's
own models (Django), or straight from the mirror's tables (any other project)."""

from __future__ import annotations

from collections.abc import Sequence

from mirror.init.detect import ModelRef
from mirror.init.workflows import fill, template

DEFAULT_TEST_FILE = "tests/test_billig_mirror.py"


def django_test(models: Sequence[ModelRef], database: str) -> str:
    """Reads every Billig model the project's router sends to ``database``."""
    by_module: dict[str, list[str]] = {}
    for model in models:
        by_module.setdefault(model.module, []).append(model.name)
    imports = "\n".join(
        f"from {module} import {', '.join(sorted(set(names)))}"
        for module, names in sorted(by_module.items())
    )
    return fill(
        template("test_billig_django.py.tmpl"),
        {
            "DATABASE": database,
            "IMPORTS": imports,
            "MODELS": ", ".join(m.name for m in models),
        },
    )


def tables_test(schemas: Sequence[str]) -> str:
    """Reads the seeded tables of ``schemas`` through the ``billig_session`` fixture."""
    return fill(
        template("test_billig_tables.py.tmpl"),
        {"SCHEMAS": ", ".join(repr(s) for s in schemas)},
    )
