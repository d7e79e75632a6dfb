"""One session for two databases: Billig models go to the Billig engine, site models to the site's.

This is the analogue of the site's database router. The site engine defaults to a SQLite file
(``BILLIG_SITE_URL`` or ``sqlite:///site.sqlite3``); Billig is always PostgreSQL. A session made
with ``production=True`` (the default) treats Billig as read-only: a flush that would insert,
update or delete a Billig object, and ORM DML aimed at a Billig model, raise
``ReadOnlyError`` before any statement is sent. :func:`create_billig_engine`
adds a second wall for production: every transaction is ``READ ONLY`` on the server.
Only a mirror (``production=False``) can be written through these models.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from examples.fastapi_site.billig_models import BilligBase, relation_key
from examples.fastapi_site.errors import ReadOnlyError
from examples.fastapi_site.events import SiteBase

SITE_URL_ENV = "BILLIG_SITE_URL"
DEFAULT_SITE_URL = "sqlite:///site.sqlite3"


class RoutedSession(Session):
    """A session whose ``production`` flag makes the Billig models read-only."""

    def __init__(self, *args: Any, production: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.production = production


def site_url(url: str | URL | None = None) -> URL:
    """The site database URL: ``url``, else ``BILLIG_SITE_URL``, else a local SQLite file."""
    return make_url(url or os.environ.get(SITE_URL_ENV) or DEFAULT_SITE_URL)


def create_site_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    return create_engine(site_url(url), **kwargs)


def create_billig_engine(url: str | URL, *, production: bool = True, **kwargs: Any) -> Engine:
    """An engine on a Billig database; ``production=True`` makes every transaction read-only."""
    if production:
        options = dict(kwargs.pop("execution_options", {}))
        options["postgresql_readonly"] = True
        kwargs["execution_options"] = options
    return create_engine(url, **kwargs)


def session_factory(
    billig: Engine | Connection,
    site: Engine | Connection | None = None,
    *,
    production: bool = True,
    **kwargs: Any,
) -> sessionmaker[RoutedSession]:
    """Sessions that route every Billig model to ``billig`` and every site model to ``site``.

    ``site`` defaults to :func:`create_site_engine`. ``production=False`` is for mirrors only.
    """
    site_bind = site if site is not None else create_site_engine()
    return sessionmaker(
        class_=RoutedSession,
        binds={BilligBase: billig, SiteBase: site_bind},
        production=production,
        **kwargs,
    )


def _describe(objects: Iterable[object]) -> str:
    counts: dict[str, int] = {}
    for obj in objects:
        key = str(relation_key(type(obj)))  # type: ignore[arg-type]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{key} ({n})" for key, n in sorted(counts.items()))


@event.listens_for(RoutedSession, "before_flush")
def _refuse_billig_flush(session: Session, context: UOWTransaction, instances: object) -> None:
    if not getattr(session, "production", True):
        return
    # Dirty objects whose attributes were set back to their loaded values emit no UPDATE.
    dirty = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    writes = [o for o in (*session.new, *dirty, *session.deleted) if isinstance(o, BilligBase)]
    if writes:
        raise ReadOnlyError(
            f"refusing to flush changes to {_describe(writes)}: "
            "Billig is read-only in production (roll the session back)"
        )


@event.listens_for(RoutedSession, "do_orm_execute")
def _refuse_billig_dml(state: ORMExecuteState) -> None:
    if not getattr(state.session, "production", True):
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, BilligBase):
        verb = "INSERT" if state.is_insert else "UPDATE" if state.is_update else "DELETE"
        raise ReadOnlyError(
            f"refusing {verb} on {relation_key(mapper.class_)}: Billig is read-only in production"
        )
