"""Fresh Django + DRF projects written into a folder, for tests that run ``billig`` in them.

:func:`write_project` writes a whole project as a new user would have it: a settings module, a
database router sending the ``tickets`` app's unmanaged models to the Billig alias, models with
``db_table`` over Billig tables and a view, DRF serializers, viewsets and a router URLconf, a
``pyproject.toml`` with ``[tool.billig]`` and a Billig schema file. Every part can be replaced
(:class:`ProjectSpec`), so tests build the project their case needs rather than editing the
example site. Django's settings are global to a process: use these projects through
:meth:`DjangoProject.billig` (a subprocess), never by importing them into the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path

BILLIG = str(Path(sys.executable).with_name("billig"))
APP = "tickets"

# A Billig of production's shape, smaller than the repository's: the web reads events through
# a view, ticket and price groups from their tables.
SCHEMA = """\
CREATE SCHEMA billig;

CREATE TABLE billig.event (
    event integer NOT NULL,
    event_name character varying(140) NOT NULL,
    event_location character varying(255),
    event_time timestamp without time zone,
    sale_from timestamp without time zone NOT NULL,
    sale_to timestamp without time zone NOT NULL,
    hidden boolean NOT NULL,
    CONSTRAINT event_pkey PRIMARY KEY (event)
);

CREATE VIEW billig.event_lim_web AS
    SELECT event, event_name, event_location, event_time, sale_from, sale_to, hidden
      FROM billig.event;

CREATE TABLE billig.ticket_group (
    ticket_group integer NOT NULL,
    event integer NOT NULL,
    ticket_group_name character varying(140) NOT NULL,
    ticket_limit integer,
    num_sold integer NOT NULL,
    num integer NOT NULL,
    CONSTRAINT ticket_group_pkey PRIMARY KEY (ticket_group),
    CONSTRAINT ticket_group_event_fkey FOREIGN KEY (event) REFERENCES billig.event (event)
);

CREATE TABLE billig.price_group (
    price_group integer NOT NULL,
    ticket_group integer NOT NULL,
    price_group_name character varying(140) NOT NULL,
    netsale boolean NOT NULL,
    price integer NOT NULL,
    CONSTRAINT price_group_pkey PRIMARY KEY (price_group),
    CONSTRAINT price_group_ticket_group_fkey FOREIGN KEY (ticket_group)
        REFERENCES billig.ticket_group (ticket_group)
);
"""

MODELS = """\
from django.db import models


class Show(models.Model):
    id = models.IntegerField(primary_key=True, db_column="event")
    title = models.CharField(max_length=140, db_column="event_name")
    venue = models.CharField(max_length=255, null=True, db_column="event_location")
    starts = models.DateTimeField(null=True, db_column="event_time")
    sale_from = models.DateTimeField(db_column="sale_from")
    sale_to = models.DateTimeField(db_column="sale_to")
    hidden = models.BooleanField(db_column="hidden")

    class Meta:
        managed = False
        db_table = 'billig"."event_lim_web'


class Category(models.Model):
    id = models.IntegerField(primary_key=True, db_column="ticket_group")
    show = models.ForeignKey(
        Show, models.DO_NOTHING, db_column="event", db_constraint=False,
        related_name="categories",
    )
    label = models.CharField(max_length=140, db_column="ticket_group_name")
    limit = models.IntegerField(null=True, db_column="ticket_limit")
    num_sold = models.IntegerField(db_column="num_sold")
    num = models.IntegerField(db_column="num")

    class Meta:
        managed = False
        db_table = 'billig"."ticket_group'

    @property
    def sold_out(self):
        return self.num_sold >= self.num


class Price(models.Model):
    id = models.IntegerField(primary_key=True, db_column="price_group")
    category = models.ForeignKey(
        Category, models.DO_NOTHING, db_column="ticket_group", db_constraint=False,
        related_name="prices",
    )
    label = models.CharField(max_length=140, db_column="price_group_name")
    netsale = models.BooleanField(db_column="netsale")
    amount = models.IntegerField(db_column="price")

    class Meta:
        managed = False
        db_table = 'billig"."price_group'
"""

SERIALIZERS = """\
from rest_framework import serializers

from {package}.{app}.models import Category, Price, Show


class PriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Price
        fields = ["id", "label", "amount"]


class CategorySerializer(serializers.ModelSerializer):
    sold_out = serializers.BooleanField(read_only=True)
    prices = PriceSerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "label", "sold_out", "prices"]


class ShowSerializer(serializers.ModelSerializer):
    categories = CategorySerializer(many=True, read_only=True)

    class Meta:
        model = Show
        fields = ["id", "title", "venue", "starts", "categories"]
"""

VIEWS = """\
from rest_framework import viewsets

from {package}.{app}.models import Show
from {package}.{app}.serializers import ShowSerializer


class ShowViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Show.objects.filter(hidden=False).order_by("id")
    serializer_class = ShowSerializer
"""

URLS = """\
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from {package}.{app}.views import ShowViewSet

router = DefaultRouter()
router.register("shows", ShowViewSet)

urlpatterns = [path("api/", include(router.urls))]
"""

ROUTER = """\
BILLIG_APP = "{app}"
BILLIG_DATABASE = "{database}"


class BilligRouter:
    def db_for_read(self, model, **hints):
        return BILLIG_DATABASE if model._meta.app_label == BILLIG_APP else None

    def db_for_write(self, model, **hints):
        return BILLIG_DATABASE if model._meta.app_label == BILLIG_APP else None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, **hints):
        if db == BILLIG_DATABASE or app_label == BILLIG_APP:
            return False
        return None
"""

SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
INSTALLED_APPS = {installed_apps!r}
ROOT_URLCONF = "{package}.urls"
USE_TZ = {use_tz!r}
TIME_ZONE = "Europe/Oslo"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {{
    "default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "site.sqlite3"}},
    "{database}": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billig",
        "USER": "billig_web",
        "PASSWORD": {password!r},
        "HOST": "billig.invalid",
        "PORT": "5432",
    }},
}}
DATABASE_ROUTERS = ["{package}.router.BilligRouter"]
REST_FRAMEWORK = {rest_framework!r}
"""

SPECTACULAR_REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


@dataclass(frozen=True)
class ProjectSpec:
    """What a fresh project is made of; every source is Python text (``{package}`` and
    ``{app}`` are filled in), defaults give a small working DRF site over :data:`SCHEMA`."""

    package: str = "boxoffice"
    spectacular: bool = False  # drf-spectacular in INSTALLED_APPS and DEFAULT_SCHEMA_CLASS
    schema: str = SCHEMA
    models: str = MODELS
    serializers: str = SERIALIZERS
    samples: str | None = None  # source appended to the serializers module (billig_samples)
    views: str = VIEWS
    urls: str | None = URLS  # None: no URLconf in [tool.billig.django]
    database: str = "billig"
    password: str = ""  # PASSWORD of the Billig alias in DATABASES
    use_tz: bool = False
    settings_extra: str = ""  # appended to the settings module
    billig_extra: str = ""  # appended to [tool.billig]
    files: dict[str, str] = field(default_factory=dict)  # more files, by relative path
    source_root: str = "."  # the folder of the package ("src"); pyproject.toml stays at the top

    def but(self, **changes: object) -> ProjectSpec:
        """This spec with some parts replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DjangoProject:
    """A project written by :func:`write_project`."""

    root: Path
    spec: ProjectSpec

    @property
    def package(self) -> Path:
        return self.root / self.spec.source_root / self.spec.package

    @property
    def contracts(self) -> Path:
        return self.root / "contracts"

    @property
    def schema(self) -> Path:
        return self.root / "schema" / "billig.sql"

    @property
    def names(self) -> dict[str, str]:
        return {"package": self.spec.package, "app": APP, "database": self.spec.database}

    def write(self, relative: str, source: str) -> Path:
        """Replace file ``relative`` with ``source`` (``{package}``, ``{app}`` filled in)."""
        path = self.root / _fill(relative, self.names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(source, self.names))
        return path

    def rewrite(self, **changes: object) -> DjangoProject:
        """The project rewritten in place with some parts of its spec replaced."""
        return write_project(self.root, self.spec.but(**changes))

    def billig(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``billig *args`` run in the project's folder, free of the test session's settings."""
        return run_billig(self.root, *args, timeout=timeout)

    def pytest(self, mirror_options: list[str], *args: str) -> subprocess.CompletedProcess[str]:
        """``pytest -q *args`` run in the project's folder, free of the test session's settings,
        the plugin's mirror built in the server ``mirror_options`` name (``--dsn URL`` last)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BILLIG_", "DJANGO_", "PYTEST_")) and k != "PYTHONPATH"
        }
        env |= {"BILLIG_MIRROR_PROVIDER": "dsn", "BILLIG_MIRROR_DSN": mirror_options[-1]}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
            cwd=self.root, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def tree(self) -> set[str]:
        """Every file and folder of the project (relative paths), bytecode caches aside."""
        return {
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if "__pycache__" not in path.parts
        }


def run_billig(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``billig *args`` run in ``folder``, free of the test session's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLIG_", "DJANGO_"))}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [BILLIG, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_project(root: Path, spec: ProjectSpec | None = None) -> DjangoProject:
    """Write the project of ``spec`` (default: :class:`ProjectSpec`) into folder ``root``."""
    spec = spec or ProjectSpec()
    names = DjangoProject(root, spec).names
    apps = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
    if spec.spectacular:
        apps.append("drf_spectacular")
    apps.append(f"{spec.package}.{APP}")
    rest_framework = dict(SPECTACULAR_REST_FRAMEWORK) if spec.spectacular else {}
    settings = SETTINGS.format(
        installed_apps=apps,
        use_tz=spec.use_tz,
        password=spec.password,
        rest_framework=rest_framework,
        **names,
    )
    serializers = _fill(spec.serializers, names)
    if spec.samples is not None:
        serializers += "\n\n" + _fill(textwrap.dedent(spec.samples), names)
    package = Path(spec.source_root, spec.package).as_posix()
    files = {
        "pyproject.toml": _pyproject(spec),
        "schema/billig.sql": spec.schema,
        f"{package}/__init__.py": "",
        f"{package}/settings.py": settings + _fill(textwrap.dedent(spec.settings_extra), names),
        f"{package}/router.py": _fill(ROUTER, names),
        f"{package}/{APP}/__init__.py": "",
        f"{package}/{APP}/models.py": _fill(spec.models, names),
        f"{package}/{APP}/serializers.py": serializers,
        f"{package}/{APP}/views.py": _fill(spec.views, names),
        **({f"{package}/urls.py": _fill(spec.urls, names)} if spec.urls else {}),
        **{_fill(path, names): _fill(text, names) for path, text in spec.files.items()},
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return DjangoProject(root, spec)


def _fill(source: str, names: dict[str, str]) -> str:
    """``source`` with ``{package}``, ``{app}`` and ``{database}`` filled in (and no other
    braces touched: sources hold dicts and f-strings)."""
    for name, value in names.items():
        source = source.replace("{" + name + "}", value)
    return source


def _pyproject(spec: ProjectSpec) -> str:
    urls = f'urls = "{spec.package}.urls"\n' if spec.urls else ""
    if spec.source_root != ".":
        urls += f'path = "{spec.source_root}"\n'
    return (
        "[project]\n"
        f'name = "{spec.package}"\n'
        'version = "0.1.0"\n\n'
        "[tool.billig]\n"
        'schema = "schema/billig.sql"\n'
        'contracts = "contracts"\n'
        'site = "django"\n'
        f"{spec.billig_extra}\n"
        "[tool.billig.django]\n"
        f'settings = "{spec.package}.settings"\n'
        f'database = "{spec.database}"\n'
        f'serializers = ["{spec.package}.{APP}.serializers"]\n'
        f"{urls}"
    )
