"""The first pytest file ``billig init`` writes: seeded Billig rows read through the project's
own models (Django), or straight from the mirror's tables (any other project)."""

from __future__ import annotations

from collections.abc import Sequence

from mirror.init.detect import ModelRef
from mirror.init.workflows import fill, template

DEFAULT_TEST_FILE = "tests/test_billig_mirror.py"


def django_test(models: Sequence[ModelRef], database: str) -> str:
    """Reads every Billig model the project's router sends to ``database``."""
    names: list[str] = []  # how the test names each model (two apps may both have an Event)
    imports: dict[str, list[str]] = {}
    for model in models:
        name = model.name if model.name not in names else f"{model.name}_{len(names)}"
        names.append(name)
        clause = model.name if name == model.name else f"{model.name} as {name}"
        imports.setdefault(model.module, []).append(clause)
    return fill(
        template("test_billig_django.py.tmpl"),
        {
            "DATABASE": database,
            "IMPORTS": "\n".join(
                f"from {module} import {', '.join(sorted(clauses))}"
                for module, clauses in sorted(imports.items())
            ),
            "MODELS": ", ".join(names),
        },
    )


def tables_test(schemas: Sequence[str]) -> str:
    """Reads the seeded tables of ``schemas`` through the ``billig_session`` fixture."""
    return fill(
        template("test_billig_tables.py.tmpl"),
        {"SCHEMAS": ", ".join(repr(s) for s in schemas)},
    )
