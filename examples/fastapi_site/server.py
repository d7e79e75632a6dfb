"""The API's databases for ``billig serve``: Billig as given, and the site's own database.

Billig comes from the harness (``--dsn`` or a fresh seeded mirror); the site's own data from
``--site-db`` or from a temporary SQLite file seeded with site events that point into that
Billig (:func:`seed.seed_site`). :func:`running_app` builds the app over both and
removes what it made.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from mirror.dsn import Dsn
from mirror.errors import DatabaseUnreachable
from mirror.secrets import password_of, redact, scrub

SITE_SEED = 7


def _billig_url(dsn: str) -> URL:
    # Parsed by the harness's one DSN parser, which refuses what it cannot read cleanly.
    return Dsn.parse(dsn).sqlalchemy()


def billig_event_ids(url: URL) -> list[int]:
    """Every event id the web can see, read in one read-only statement."""
    engine = create_engine(url, execution_options={"postgresql_readonly": True})
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT event FROM billig.event_lim_web ORDER BY 1")))
    except SQLAlchemyError as exc:
        reason = scrub(str(getattr(exc, "orig", exc)).strip().splitlines()[0], password_of(url))
        raise DatabaseUnreachable(
            f"cannot read Billig events from {redact(url)}: {reason}"
        ) from None
    finally:
        engine.dispose()


def seed_site_file(path: Path, billig_url: URL, now: datetime | None = None) -> str:
    """A SQLite site database at ``path`` with site events pointing at Billig's events."""
    from examples.fastapi_site.seed import seed_site

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        seed_site(engine, billig_event_ids(billig_url), SITE_SEED, now=now)
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def running_app(
    billig_dsn: str, site_db: str | None = None, now: datetime | None = None
) -> Iterator[tuple[Any, str]]:
    """The API over Billig at ``billig_dsn`` and the site database (``site_db``, or a seeded
    temporary SQLite file): (app, how the site database is shown); removed afterwards."""
    from examples.fastapi_site.api import create_app

    billig = _billig_url(billig_dsn)
    with contextlib.ExitStack() as stack:
        if site_db:
            site, shown = site_db, redact(site_db)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billig-site-")))
            site = seed_site_file(folder / "site.sqlite3", billig, now)
            shown = f"{site} (temporary, seeded)"
        app = create_app(billig, site)
        try:
            yield app, shown
        finally:
            app.state.api.close()
