"""The GitHub workflows ``billig init`` writes, from the templates shipped in the package.

``billig-contracts.yml`` checks every pull request against a fresh mirror; ``billig-drift.yml``
compares production with the contracts every night and on demand and keeps one tracking issue.
Both hold least privileges, timeouts, concurrency groups and actions pinned to a major version,
and say in comments what the repository must set. Placeholders are ``@NAME@``: GitHub's
``${{ }}`` expressions and the shell's ``$VARIABLES`` stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

WORKFLOWS = Path(".github") / "workflows"
CONTRACTS_WORKFLOW = WORKFLOWS / "billig-contracts.yml"
DRIFT_WORKFLOW = WORKFLOWS / "billig-drift.yml"
# 03:17 UTC: off the hour, when every scheduled workflow on GitHub starts at once.
DEFAULT_CRON = "17 3 * * *"
_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def template(name: str) -> str:
    """A template shipped in ``mirror/init/templates``."""
    return resources.files("mirror.init").joinpath("templates", name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``@NAME@`` replaced; a placeholder without a value is a bug."""

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(value, text)


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """What the workflows need to know about the project."""

    python: str  # "3.12"
    billig: str  # requirement installed for the checks, e.g. "billig-harness[django]==0.1.0"
    billig_core: str  # requirement for the drift job, which needs no site
    install_project: tuple[str, ...]  # shell lines installing the project itself
    schema: str
    contracts: str
    test_file: str
    cron: str = DEFAULT_CRON


def contracts_workflow(settings: WorkflowSettings) -> str:
    lines = settings.install_project or ("# the project needs no installing of its own",)
    return fill(
        template("billig-contracts.yml"),
        {
            "PYTHON": settings.python,
            "BILLIG": settings.billig,
            "INSTALL_PROJECT": "\n".join(f"          {line}" for line in lines),
            "SCHEMA": settings.schema,
            "CONTRACTS": settings.contracts,
            "TEST_FILE": settings.test_file,
        },
    )


def drift_workflow(settings: WorkflowSettings) -> str:
    return fill(
        template("billig-drift.yml"),
        {
            "PYTHON": settings.python,
            "BILLIG_CORE": settings.billig_core,
            "CONTRACTS": settings.contracts,
            "CRON": settings.cron,
        },
    )


def install_lines(root: Path) -> tuple[str, ...]:
    """How CI installs the project: its requirements file, else the project itself."""
    for name in ("requirements.txt", "requirements/base.txt", "requirements/dev.txt"):
        if (root / name).is_file():
            return (f"python -m pip install -r {name}",)
    if (root / "setup.py").is_file() or _has_project_table(root / "pyproject.toml"):
        return ("python -m pip install -e .",)
    return ()


def _has_project_table(path: Path) -> bool:
    try:
        return re.search(r"^\[project\]", path.read_text(encoding="utf-8"), re.M) is not None
    except (OSError, UnicodeDecodeError):
        return False
