"""Shared test configuration; the mirror fixtures come from the package's pytest plugin.

Many tests run ``billig`` (or pytest) in a scratch folder outside the project. They still test
this project, so its configuration travels with them the way a user would pass it: as the
``BILLIG_*`` variables that override ``[tool.billig]`` (set before any test runs).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
PROJECT_CONFIG = {
    "BILLIG_SCHEMA": str(ROOT / "schema" / "billig.sql"),
    "BILLIG_CONTRACTS": str(ROOT / "contracts"),
    "BILLIG_SITE": "examples.fastapi_site.source:SITE",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in PROJECT_CONFIG.items():
        os.environ.setdefault(name, value)
    # The reference site lives in the checkout, not in the package: children that run in a
    # scratch folder import it from here, as a user's site is imported from their project.
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), path] if path else [str(ROOT)])


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


def _default_sigint() -> None:
    # A parent that ignores SIGINT (a background job, nohup) passes that on to its children, and
    # Python then installs no KeyboardInterrupt handler: the child would not notice our ^C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """``subprocess.Popen`` for a child the test stops with a signal, as a terminal would.

    The child handles SIGINT by default whatever the parent of pytest ignores, and whatever the
    test's outcome no child outlives it: one still running at teardown gets SIGTERM (so that it
    cleans up), then SIGKILL.
    """
    children: list[subprocess.Popen[str]] = []

    def start(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        kwargs.setdefault("text", True)
        child = subprocess.Popen(args, preexec_fn=_default_sigint, **kwargs)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=30)
        for stream in (child.stdout, child.stderr, child.stdin):
            if stream is not None:
                stream.close()


@dataclass(frozen=True)
class Purchase:
    """One seeded purchase: its tickets, and whether every one is of an event the site shows."""

    purchase: int
    tickets: tuple[int, ...]
    shown: bool

    def refs(self, code: str = "12345") -> list[str]:
        """The references Billig would send back (any 5-digit code: the site cannot check it)."""
        return [f"{ticket}{code}" for ticket in self.tickets]


@pytest.fixture(scope="session")
def purchases(billig_engine: Engine) -> list[Purchase]:
    """Every purchase of the session's mirror with its complete ticket set, by purchase id."""
    with billig_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.purchase, array_agg(t.ticket ORDER BY t.ticket), bool_and(NOT e.hidden)"
                "  FROM billig.ticket AS t"
                "  JOIN billig.price_group AS pg USING (price_group)"
                "  JOIN billig.ticket_group AS tg USING (ticket_group)"
                "  JOIN billig.event_lim_web AS e ON e.event = tg.event"
                " GROUP BY t.purchase ORDER BY t.purchase"
            )
        ).all()
    return [Purchase(p, tuple(tickets), shown) for p, tickets, shown in rows]


# --------------------------------------------------------------------------- mermaid

MERMAID = Path(__file__).parent / "mermaid"

MermaidParse = Callable[[Sequence[str]], list[str | None]]


def _cache_dir() -> Path:
    # Outside the work tree, keyed by the pinned versions: installed once per machine.
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256((MERMAID / "package.json").read_bytes()).hexdigest()[:12]
    return base / "billig-harness" / f"mermaid-{digest}"


@pytest.fixture(scope="session")
def mermaid_parse() -> MermaidParse:
    """Parse diagrams with the npm ``mermaid`` package under node: None per valid diagram, the
    parser's message otherwise. Installs tests/mermaid/package.json once into a cache
    folder; skips only where node is absent."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run mermaid's parser")
    folder = _cache_dir()
    if not (folder / "node_modules" / "mermaid" / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(MERMAID / "package.json", folder / "package.json")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--silent"],
            cwd=folder,
            check=True,
            timeout=600,
        )
    # ESM resolves packages from the script's folder: the script runs from the cache folder.
    shutil.copy(MERMAID / "parse.mjs", folder / "parse.mjs")

    def parse(sources: Sequence[str]) -> list[str | None]:
        done = subprocess.run(
            [node, str(folder / "parse.mjs")],
            input=json.dumps(list(sources)),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        results: list[str | None] = json.loads(done.stdout)
        return results

    return parse


# The reference time of the seeds that tests run on schemas of their own.
SEED_NOW = datetime(2026, 11, 25)


@pytest.fixture
def seeded_schema(billig_server: Any, tmp_path: Path) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """``make(schema_text, **seed_options)``: the schema loaded into a fresh database of the
    session's server and seeded (12 events, seed 1, :data:`SEED_NOW` unless the options say
    otherwise); hands back the seed's result and a connection to that database."""
    from mirror.provision.providers import connect_url
    from mirror.provision.schema import load_schema
    from mirror.provision.seed import seed_billig

    created: list[str] = []
    with contextlib.ExitStack() as stack:

        def make(schema: str, **options: Any) -> tuple[Any, Any]:
            name = f"seeded_{secrets.token_hex(5)}"
            url = billig_server.create_database(name)
            created.append(name)
            path = tmp_path / f"{name}.sql"
            path.write_text(schema)
            conn = stack.enter_context(contextlib.closing(connect_url(url)))
            load_schema(conn, path)
            return seed_billig(conn, **{"events": 12, "seed": 1, "now": SEED_NOW, **options}), conn

        yield make
    for name in created:
        billig_server.drop_database(name)
