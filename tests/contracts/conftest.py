"""Fixtures of the contract tests: a writable copy of ``contracts/`` and contexts over it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.fastapi_site.source import SITE
from mirror.contracts.kinds import ContractContext
from mirror.provision.mirror import Mirror
from mirror.provision.providers import Server


@pytest.fixture
def contracts_copy(project_root: Path, tmp_path: Path) -> Path:
    """A scratch copy of the project's contract files, free to break."""
    target = tmp_path / "contracts"
    shutil.copytree(project_root / "contracts", target)
    return target


@pytest.fixture
def contract_ctx(contracts_copy: Path, billig_mirror: Mirror) -> Iterator[ContractContext]:
    """Checks over the copy, against the session's seeded mirror (loaded from schema.sql)."""
    yield ContractContext(contracts_copy, billig_mirror.url, site=SITE)


@pytest.fixture
def dsn_mirror(billig_server: Server) -> list[str]:
    """Provider options that build the mirror inside the test server (cheapest provider)."""
    return [
        "--provider", "dsn", "--dsn", billig_server.admin_url.render_as_string(hide_password=False)
    ]  # fmt: skip
