"""Planning ``billig init``: what the project is, and every file to write for it, as values.

:func:`plan_init` detects the project (a Django site from ``manage.py`` or its settings, a site
source given as ``MODULE:ATTR``, or none), renders ``[tool.billig]`` into ``pyproject.toml``,
finds or writes the schema file, renders the two GitHub workflows and the first test, and says
for each file whether it is new, unchanged, to be replaced (only when forced) or kept because
it exists with other content. :func:`write_plan` writes the files the plan says to write.
Nothing is written while planning, so a dry run is the plan printed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from mirror.catalog.model import RelationKey
from mirror.config import DJANGO
from mirror.errors import UsageError
from mirror.init import detect, first_test, pyproject, schema_file, workflows

if TYPE_CHECKING:
    from mirror.sources.site import SiteModel

DEFAULT_CONTRACTS = "contracts"
DEFAULT_SCHEMAS = ("billig",)
DISTRIBUTION = "billig-harness"


@dataclass(frozen=True, slots=True)
class InitOptions:
    """What ``billig init`` was asked (every value has a detected default)."""

    root: Path
    site: str | None = None  # "module:attribute" of a site source; None: detect Django
    settings: str | None = None  # Django settings module, where manage.py names none
    database: str | None = None  # the Django alias of Billig
    schemas: tuple[str, ...] = ()  # the schemas the site reads
    schema_from: str | None = None  # a database to write the schema file from
    schema_file: Path | None = None  # where the schema file is (or goes)
    requirement: str | None = None  # what CI installs as billig-harness
    force: bool = False


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One file of the plan; ``status`` is create, replace, update, unchanged or kept."""

    path: Path  # relative to the project
    text: str
    status: str
    what: str = ""
    old: str | None = None

    @property
    def writes(self) -> bool:
        return self.status in ("create", "replace", "update")


@dataclass(frozen=True, slots=True)
class Plan:
    root: Path
    kind: str  # "Django project (...)", "site source ...", "no site"
    files: tuple[PlannedFile, ...]
    schema_file: Path | None  # None: no schema file found or written
    notes: tuple[str, ...] = field(default_factory=tuple)


def billig_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0"


def plan_init(options: InitOptions) -> Plan:
    """Detect the project at ``options.root`` and plan every file ``billig init`` writes."""
    root = options.root.resolve()
    if not root.is_dir():
        raise UsageError(f"{options.root}: not a folder")
    notes: list[str] = []
    django: detect.DjangoProject | None = None
    relations: list[RelationKey] = []
    configured = _configured(root)  # a second run starts from what the first one wrote
    if options.site is None and configured.get("site") not in (None, DJANGO):
        options = replace(options, site=str(configured["site"]))
    schema = configured.get("schema")
    if options.schema_file is None and isinstance(schema, str):
        options = replace(options, schema_file=Path(schema))
    site_value: str | None = options.site
    if options.site is None:
        folder = detect.import_folder(root)
        settings = options.settings or detect.django_settings_module(folder)
        if settings is not None:
            django = detect.inspect_django(root, settings, options.database, folder)
            relations = [m.relation for m in django.models]
            site_value = DJANGO
            kind = f"Django project (settings {settings}, Billig alias {django.database!r})"
        else:
            kind = "no site (pass --site MODULE:ATTR to put a site's models under contract)"
    else:
        relations = [m.relation for m in _site_models(root, options.site)]
        kind = f"site source {options.site}"
    schemas = options.schemas or tuple(sorted({k.schema for k in relations})) or DEFAULT_SCHEMAS

    files: list[PlannedFile] = []
    schema_path = _schema_path(root, options, relations, schemas)
    if options.schema_from is not None:
        text = schema_file.schema_from_database(options.schema_from, schemas)
        files.append(_planned(root, schema_path, text, options.force, "from the database"))
    elif not (root / schema_path).is_file():
        notes.append(
            f"no schema file creates the relations the site reads: put Billig's DDL at "
            f"{schema_path} or run billig init --schema-from DSN (a read-only login to Billig)"
        )
    billig: dict[str, object] = {
        "schema": schema_path.as_posix(),
        "contracts": str(configured.get("contracts", DEFAULT_CONTRACTS)),
    }
    if site_value is not None:
        billig["site"] = site_value
    edit = pyproject.edit_pyproject(
        _read(root / pyproject.PYPROJECT),
        billig,
        _django_table(django),
        replace=options.force,
        pytest_settings=django.settings if django else None,
        pytest_path=django.path if django else ".",
        other_pytest_config=pyproject.pytest_config_file(root),
    )
    notes += edit.notes
    files.append(
        _planned(root, Path(pyproject.PYPROJECT), edit.text, True, "; ".join(edit.changes))
    )
    test_path = Path(first_test.DEFAULT_TEST_FILE)
    settings_for_ci = _workflow_settings(
        root, options, django, schema_path, test_path, str(billig["contracts"])
    )
    files += [
        _planned(
            root,
            workflows.CONTRACTS_WORKFLOW,
            workflows.contracts_workflow(settings_for_ci),
            options.force,
            "every pull request: billig check, the first test",
        ),
        _planned(
            root,
            workflows.DRIFT_WORKFLOW,
            workflows.drift_workflow(settings_for_ci),
            options.force,
            "nightly and on demand: billig drift, one tracking issue",
        ),
    ]
    test_text = (
        first_test.django_test(django.models, django.database)
        if django
        else first_test.tables_test(schemas)
    )
    files.append(_planned(root, test_path, test_text, options.force, "the first Billig test"))
    written_schema = (root / schema_path).is_file() or options.schema_from is not None
    return Plan(root, kind, tuple(files), schema_path if written_schema else None, tuple(notes))


def write_plan(plan: Plan) -> list[PlannedFile]:
    """Write the files the plan says to write (each atomically); return them."""
    from mirror.files import write_atomic

    written = [f for f in plan.files if f.writes]
    for planned in written:
        write_atomic(plan.root / planned.path, planned.text)
    return written


def _configured(root: Path) -> dict[str, object]:
    """The ``[tool.billig]`` table of the project's own ``pyproject.toml`` (empty if none)."""
    from mirror.config import find_pyproject

    found = find_pyproject(root)
    return dict(found[1]) if found and found[0].parent == root else {}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None


def _planned(root: Path, path: Path, text: str, replace: bool, what: str) -> PlannedFile:
    target = root / path
    if target.exists() and not target.is_file():
        raise UsageError(f"{path}: exists and is not a regular file")
    old = _read(target) if target.exists() else None
    if old is None:
        status = "create"
    elif old == text:
        status = "unchanged"
    elif path == Path(pyproject.PYPROJECT):
        status = "update"  # edited in place: nothing of the project's is lost
    else:
        status = "replace" if replace else "kept"
    return PlannedFile(path, text, status, what, old)


def _schema_path(
    root: Path, options: InitOptions, relations: list[RelationKey], schemas: tuple[str, ...]
) -> Path:
    if options.schema_file is not None:
        given = options.schema_file
        return given.resolve().relative_to(root) if given.is_absolute() else given
    found = schema_file.find_schema_file(root, relations, schemas)
    return found.relative_to(root) if found else schema_file.DEFAULT_SCHEMA_FILE


def _django_table(django: detect.DjangoProject | None) -> dict[str, object] | None:
    if django is None:
        return None
    table: dict[str, object] = {
        "settings": django.settings,
        "database": django.database,
        "serializers": list(django.serializers),
    }
    if django.urls:
        table["urls"] = django.urls
    if django.path != ".":
        table["path"] = django.path
    return table


def _site_models(root: Path, site: str) -> list[SiteModel]:
    from mirror.config import load_config
    from mirror.sources.site_loading import load_site

    config = load_config(root, overrides={"site": site})
    source = load_site(config)
    return list(source.models()) if source is not None else []


def _workflow_settings(
    root: Path,
    options: InitOptions,
    django: detect.DjangoProject | None,
    schema_path: Path,
    test_path: Path,
    contracts: str,
) -> workflows.WorkflowSettings:
    pinned = f"=={billig_version()}"
    core = f"{DISTRIBUTION}{pinned}"
    return workflows.WorkflowSettings(
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        billig=options.requirement or (f"{DISTRIBUTION}[django]{pinned}" if django else core),
        billig_core=options.requirement or core,
        install_project=workflows.install_lines(root),
        schema=schema_path.as_posix(),
        contracts=contracts,
        test_file=test_path.as_posix(),
    )
