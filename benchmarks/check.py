"""``billig check`` as a whole process, cold and warm cache, against the floor of its work.

The floor is the least a process that checks a schema file on a throwaway server must do: the
same PostgreSQL's ``initdb`` on tmpfs, start, ``psql -1 -f schema.sql``, stop (a shell script,
run as the same unprivileged user as the providers' clusters when we are root). ``billig check``
runs in the project's folder with its own configuration, once with a cache that is emptied
before every sample (cold: initdb, load, seed and storing the clusters included) and once with a
cache filled by the warm-up round (warm). Samples are taken in rounds with a rotating order, as
in :mod:`benchmarks.processes`. Two projects: ``examples/django_site`` and this repository (the
reference FastAPI site); a smoke run takes the Django example only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from benchmarks.measurement import Timing
from benchmarks.processes import (
    ROOT,
    Command,
    billig_command,
    environment,
    measure_processes,
    rotated,
)
from benchmarks.results import Result
from benchmarks.settings import Settings
from mirror.errors import ProviderError
from mirror.provision.cluster import unprivileged_user
from mirror.provision.local import local_bindir

FLOOR = "floor: initdb on tmpfs, start, psql -1 -f schema.sql, stop"
PYTEST_CASE = "pytest: from start to the first test using the seeded mirror, warm cache"
PYTEST_FIRST = "pytest, one test using billig_mirror"
PYTEST_FLOOR = "floor: pytest, one test using no fixture"
COLD = "billig check, cold cache"
WARM = "billig check, warm cache"
PROJECTS = {
    "examples/django_site": ROOT / "examples" / "django_site",
    "this repository (reference site)": ROOT,
}

# $1 bindir, $2 schema file, $3 parent folder (tmpfs), $4 port.
FLOOR_SCRIPT = r"""
set -eu
bin=$1 schema=$2 port=$4
dir=$(mktemp -d -p "$3" bench-floor-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
options="-k $dir -p $port -c listen_addresses='' -c fsync=off"
"$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" -o "$options" start >/dev/null
"$bin/psql" -h "$dir" -p "$port" -U postgres -X -q -1 -v ON_ERROR_STOP=1 -f "$schema" >/dev/null
"$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
"""


def run(settings: Settings) -> list[Result]:
    """Both projects (a smoke run: the Django example), or nothing without local binaries (the
    floor needs ``psql`` and ``pg_ctl``, which the embedded wheel's server has as well, but the
    comparison is made with the binaries a developer's machine has)."""
    try:
        bindir = local_bindir()
    except ProviderError:
        return []
    user = unprivileged_user()
    parent = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    results: list[Result] = []
    projects = dict(list(PROJECTS.items())[:1]) if settings.smoke else PROJECTS
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        for label, folder in projects.items():
            schema = folder / "schema" / "billig.sql"
            floor: tuple[str, ...] = ("sh", "-c", FLOOR_SCRIPT, "floor", str(bindir), str(schema))
            floor += (str(parent),)
            if user is not None:  # initdb refuses root
                floor = ("runuser", "-u", user.pw_name, "--", *floor)
            cold_cache = Path(tmp) / f"cold-{len(results)}"
            warm_cache = Path(tmp) / f"warm-{len(results)}"
            check = (*billig_command(), "check", "--provider", "local")
            commands = {
                FLOOR: Command((*floor, str(5500 + len(results))), folder),
                COLD: Command(
                    check,
                    folder,
                    env={"XDG_CACHE_HOME": str(cold_cache)},
                    prepare=partial(shutil.rmtree, cold_cache, ignore_errors=True),
                ),
                WARM: Command(check, folder, env={"XDG_CACHE_HOME": str(warm_cache)}),
            }
            results += measure_processes(label, None, commands, settings, benchmark="check")
        results += _first_test(Path(tmp), settings)
    return results


# Each test records when it starts; no conftest: the plugin's fixture is all a project needs.
FIRST_TESTS = {
    PYTEST_FLOOR: "def test_first():\n",
    PYTEST_FIRST: "def test_first(billig_mirror):\n",
}
TEST_BODY = "    import time\n    open('started', 'w').write(repr(time.time()))\n"


def _first_test(tmp: Path, settings: Settings) -> list[Result]:
    """Seconds from starting ``pytest`` to the first test body that uses ``billig_mirror``, and
    to one that uses no fixture (pytest's own start-up with the plugins installed here)."""
    project = tmp / "pytest-project"
    (project / "schema").mkdir(parents=True)
    shutil.copy(ROOT / "schema" / "billig.sql", project / "schema" / "billig.sql")
    (project / "pyproject.toml").write_text("[tool.billig]\n", encoding="utf-8")
    env = environment({"XDG_CACHE_HOME": str(tmp / "pytest-cache")})
    samples: dict[str, list[float]] = {name: [] for name in FIRST_TESTS}
    for i in range(1 + settings.repeats):  # the first round fills the cache: not a sample
        for name in rotated(list(FIRST_TESTS), i):
            (project / "test_first.py").write_text(FIRST_TESTS[name] + TEST_BODY, "utf-8")
            started = time.time()
            subprocess.run(
                (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_first.py"),
                cwd=project, env=env, check=True, capture_output=True,
            )  # fmt: skip
            if i:
                samples[name].append(float((project / "started").read_text()) - started)
    return [
        Result(
            benchmark="check",
            case=PYTEST_CASE,
            size=None,
            approach=name,
            timing=Timing(tuple(taken)),
            baseline=name == PYTEST_FLOOR,
            extra={"command": "pytest -q test_first.py"},
        )
        for name, taken in samples.items()
    ]
