"""Loading the configured site source: its module comes from the project's folder, which is not
installed and not on ``sys.path`` (``billig`` starts from the virtualenv's bin folder); a site
whose code raises, exits or returns values of the wrong type is a usage error naming it, and
nothing is half-written or left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mirror.dsn import Dsn

ROOT = Path(__file__).resolve().parent.parent
WHEEL_PROJECT = ROOT / "tests" / "wheel_project"
LOAD = (
    "import sys; from pathlib import Path; from mirror.config import load_config; "
    "from mirror.sources.site_loading import load_site; "
    "site = load_site(load_config(Path(sys.argv[1]), environ={})); "
    "print(site.name, [m.name for m in site.models()])"
)


def test_the_site_module_is_imported_from_the_folder_of_the_configuration(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(WHEEL_PROJECT / "mysite.py", project / "mysite.py")
    (project / "pyproject.toml").write_text('[tool.billig]\nsite = "mysite:SOURCE"\n')
    (project / "sub").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -P: not even the working directory on sys.path; the configuration is found from sub/.
    result = subprocess.run(
        [sys.executable, "-P", "-c", LOAD, str(project / "sub")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "my site ['WebEvent']"


# Each: the site module's source (after the working site of the wheel test is imported), the
# commands that must refuse it, and what the message names.
BROKEN_SITES = {
    "import-raises": (
        "raise RuntimeError('no config here')\n",
        "site module 'brokensite' raised RuntimeError: no config here",
    ),
    "import-exits-0": ("import sys\nsys.exit(0)\n", "site module 'brokensite' called sys.exit(0)"),
    "import-base-exception": (
        "class Halt(BaseException):\n    pass\n\nraise Halt('stop')\n",
        "site module 'brokensite' raised Halt: stop",
    ),
    "factory-raises": (
        "def SOURCE(config):\n    raise ValueError('bad settings')\n",
        "site brokensite:SOURCE raised ValueError: bad settings",
    ),
    "name-not-text": (
        "SOURCE = MySite(Base, name=3)\n",
        "site brokensite:SOURCE: name returned int 3: expected a string",
    ),
    "catalog-list": (
        "class Site(MySite):\n    def catalog(self):\n        return []\n\nSOURCE = Site(Base)\n",
        "site brokensite:SOURCE: catalog() returned list []: expected a Catalog",
    ),
    "catalog-raises": (
        "class Site(MySite):\n"
        "    def catalog(self):\n"
        "        raise KeyError('event')\n\n"
        "SOURCE = Site(Base)\n",
        "site brokensite:SOURCE: catalog() raised KeyError: 'event'",
    ),
    "lineage-string-keys": (
        "class Site(MySite):\n"
        "    def lineage(self):\n"
        "        return {'.'.join(ref): usage for ref, usage in super().lineage().items()}\n\n"
        "SOURCE = Site(Base)\n",
        "site brokensite:SOURCE: lineage() returned str 'billig.event_lim_web.event': "
        "expected ColumnRef(schema, relation, column) keys",
    ),
    "lineage-usage-names": (
        "class Site(MySite):\n"
        "    def lineage(self):\n"
        "        return {ref: usage.models for ref, usage in super().lineage().items()}\n\n"
        "SOURCE = Site(Base)\n",
        "lineage() returned tuple ('WebEvent.id',): expected Usage values",
    ),
    "lineage-choices-floats": (
        "import dataclasses\n\n"
        "class Site(MySite):\n"
        "    def lineage(self):\n"
        "        return {ref: dataclasses.replace(usage, choices=(1.5,))\n"
        "                for ref, usage in super().lineage().items()}\n\n"
        "SOURCE = Site(Base)\n",
        "lineage() returned tuple (1.5,): expected Usage.choices None or a tuple of distinct "
        "strings or integers",
    ),
    "models-mapping": (
        "class Site(MySite):\n    def models(self):\n        return {}\n\nSOURCE = Site(Base)\n",
        "site brokensite:SOURCE: models() returned dict {}: expected a list of SiteModel",
    ),
    "observe-not-lists": (
        "class Site(MySite):\n"
        "    def shapes(self):\n"
        "        return {'Web': {'type': 'object'}}\n"
        "    def observe(self, database, now):\n"
        "        return {'Web': 'abc'}\n\n"
        "SOURCE = Site(Base)\n",
        "observe() returned str 'abc': expected a list of outputs for 'Web'",
    ),
    "queries-raises": (
        "class Site(MySite):\n"
        "    def queries(self, database, now, sizes):\n"
        "        raise LookupError('no engine')\n\n"
        "SOURCE = Site(Base)\n",
        "site brokensite:SOURCE: queries() raised LookupError: no engine",
    ),
    "queries-counts": (
        "class Site(MySite):\n"
        "    def queries(self, database, now, sizes):\n"
        "        return {'Web': [3, 30]}\n\n"
        "SOURCE = Site(Base)\n",
        "queries() returned int 3: expected QueryRun(objects, billig, other) items",
    ),
    "observe-raises": (
        "class Site(MySite):\n"
        "    def shapes(self):\n"
        "        return {'Web': {'type': 'object'}}\n"
        "    def observe(self, database, now):\n"
        "        raise OSError('no route')\n\n"
        "SOURCE = Site(Base)\n",
        "site brokensite:SOURCE: observe() raised OSError: no route",
    ),
}


@pytest.fixture
def server_databases(billig_server: Any) -> Callable[[], set[str]]:
    """The names of the databases of the test session's server, read when called."""

    def names() -> set[str]:
        with contextlib.closing(billig_server.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {row[0] for row in cur.fetchall()}

    return names


def _billig(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLIG_")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("billig")), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("case", sorted(BROKEN_SITES))
def test_a_site_source_that_fails_is_a_usage_error_naming_it(
    case: str, tmp_path: Path, billig_server: Any, server_databases: Callable[[], set[str]]
) -> None:
    source, message = BROKEN_SITES[case]
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(WHEEL_PROJECT / "mysite.py", project / "mysite.py")
    (project / "pyproject.toml").write_text(
        f'[tool.billig]\nsite = "mysite:SOURCE"\nschema = "{ROOT / "schema" / "billig.sql"}"\n'
    )
    options = ["--provider", "dsn", "--dsn", Dsn.of(billig_server.admin_url).url()]
    done = _billig(project, "contracts", "update", *options)
    assert done.returncode == 0, done.stdout + done.stderr
    (project / "brokensite.py").write_text(
        "from mysite import Base\n"
        "from mirror.sources.sqlalchemy_models import SQLAlchemySite as MySite\n\n" + source
    )
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace("mysite:SOURCE", "brokensite:SOURCE"))
    contracts = {p: p.read_bytes() for p in (project / "contracts").rglob("*")}
    databases = server_databases()
    commands = [["check"]]
    if not case.startswith(("catalog-", "observe-")):  # methods only checks call
        commands.insert(0, ["contracts", "update"])
    for command in commands:
        done = _billig(project, *command, *options)
        output = done.stdout + done.stderr
        assert done.returncode == 2, f"{command}: {output}"
        assert message in output, output
        assert "internal error" not in output
        assert {p: p.read_bytes() for p in (project / "contracts").rglob("*")} == contracts
        assert server_databases() == databases


# Site code whose own session the server ends: through SQLAlchemy (its OperationalError wraps
# the driver's) and through an ORM that raises its own error from the driver's, as Django does.
_SESSION_ENDED = {
    "sqlalchemy": (
        "import sqlalchemy\n\n"
        "def end_own_session(database):\n"
        "    url = database.replace('postgresql://', 'postgresql+psycopg2://', 1)\n"
        "    with sqlalchemy.create_engine(url).connect() as conn:\n"
        "        conn.execute(sqlalchemy.text('SELECT pg_terminate_backend(pg_backend_pid())'))\n"
    ),
    "chained": (
        "import psycopg2\n"
        "from mirror.provision.server import connect_url\n\n"
        "class OrmError(Exception):\n    pass\n\n"
        "def end_own_session(database):\n"
        "    conn = connect_url(database)\n"
        "    try:\n"
        "        conn.cursor().execute('SELECT pg_terminate_backend(pg_backend_pid())')\n"
        "    except psycopg2.Error as exc:\n"
        "        raise OrmError('query failed') from exc\n"
    ),
}


@pytest.mark.parametrize("how", sorted(_SESSION_ENDED))
def test_site_code_whose_database_fails_under_it_is_exit_3_not_a_site_error(
    how: str, tmp_path: Path, billig_server: Any, server_databases: Callable[[], set[str]]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(WHEEL_PROJECT / "mysite.py", project / "mysite.py")
    (project / "pyproject.toml").write_text(
        f'[tool.billig]\nsite = "endingsite:SOURCE"\nschema = "{ROOT / "schema" / "billig.sql"}"\n'
    )
    (project / "endingsite.py").write_text(
        "from mysite import Base\n"
        "from mirror.sources.sqlalchemy_models import SQLAlchemySite\n"
        + _SESSION_ENDED[how]
        + "\nclass Site(SQLAlchemySite):\n"
        "    def shapes(self):\n"
        "        return {'Web': {'type': 'object'}}\n"
        "    def observe(self, database, now):\n"
        "        end_own_session(database)\n\n"
        "SOURCE = Site(Base)\n"
    )
    options = ["--provider", "dsn", "--dsn", Dsn.of(billig_server.admin_url).url()]
    done = _billig(project, "contracts", "update", *options)  # pins shapes, observes nothing
    assert done.returncode == 0, done.stdout + done.stderr
    databases = server_databases()
    done = _billig(project, "check", *options)
    output = done.stdout + done.stderr
    assert done.returncode == 3, output
    assert "observe(): the database failed: raised " in output, output
    assert "internal error" not in output and "Traceback" not in output
    assert server_databases() == databases
