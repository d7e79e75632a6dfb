"""A lean CLI: the commands that read production load no ORM, web framework or site.

Each runs for real in a child process (against the session's mirror); a wrapper prints, on its
way out, every loaded module of the heavy families.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.provision.mirror import Mirror

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "starlette", "uvicorn", "mirror.site")
_AUDIT = f"""
import json, sys
try:
    from mirror.cli import main
    main(sys.argv[1:])
finally:
    heavy = {HEAVY!r}
    below = tuple(h + "." for h in heavy)
    loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(below))
    print(json.dumps(loaded), file=sys.stderr)
"""


def _loaded(*args: str, cwd: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _AUDIT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    return done.returncode, json.loads(done.stderr.strip().splitlines()[-1])


def test_help_loads_nothing_heavy(project_root: Path) -> None:
    assert _loaded("--help", cwd=project_root) == (0, [])


def test_drift_loads_nothing_heavy(billig_mirror: Mirror, project_root: Path) -> None:
    code, loaded = _loaded("drift", "--dsn", billig_mirror.full_url, cwd=project_root)
    assert code in (0, 1)
    assert loaded == []


def test_contracts_snapshot_loads_nothing_heavy(billig_mirror: Mirror, tmp_path: Path) -> None:
    output = tmp_path / "pinned.json"
    code, loaded = _loaded(
        "contracts", "snapshot", "--dsn", billig_mirror.full_url, "--schema", "billig",
        "--output", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert code == 0 and output.is_file()
    assert loaded == []


@pytest.mark.parametrize("command", [["config"], ["mirror", "--help"], ["check", "--help"]])
def test_other_commands_start_without_the_site(command: list[str], project_root: Path) -> None:
    code, loaded = _loaded(*command, cwd=project_root)
    assert code == 0
    assert [m for m in loaded if m.startswith("mirror.site")] == []
