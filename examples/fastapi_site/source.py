"""The reference site as a site source: what the harness reads of it, through one object.

This repository configures it like any user would (``[tool.billig] site =
"examples.fastapi_site.source:SITE"``). The fields make variants easy to build in tests: the same
site with another set of serializers, another observer, another app.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Session

from examples.fastapi_site.billig_models import BilligBase
from mirror.catalog.model import ColumnRef, Usage
from mirror.errors import DatabaseError, ObservationError
from mirror.sources import sqlalchemy_models
from mirror.sources.site import ApiExchange, QueryRun
from mirror.sources.sqlalchemy_models import SQLAlchemySite

# Any URL will do to build the OpenAPI document: nothing connects before the first request.
_UNUSED_DSN = "postgresql+psycopg2://localhost/unused"


def billig_serializers() -> dict[str, type[BaseModel]]:
    """The four serializers whose shapes are pinned."""
    from examples.fastapi_site.serializers import SERIALIZER_SCHEMAS

    return dict(SERIALIZER_SCHEMAS)


def observe_billig_outputs(session: Session) -> dict[str, list[Any]]:
    """Real output of every serializer over all Billig events of the seeded mirror.

    The ``Event`` serializer runs over the site seed (:func:`seed.seed_site`) in the
    session's site database: events sold through Billig, free and custom ones, and ones whose
    Billig event does not exist, so ``billig`` is both an object and null.
    """
    from sqlalchemy import select

    from examples.fastapi_site import serializers
    from examples.fastapi_site.billig_models import BilligEvent
    from examples.fastapi_site.events import Event
    from examples.fastapi_site.prefetch import load_billig_events
    from examples.fastapi_site.seed import seed_site

    ids = list(session.scalars(select(BilligEvent.id).order_by(BilligEvent.id)))
    events = list(load_billig_events(session, ids).values())
    groups = [g for e in events for g in e.ticket_groups]
    prices = [p for g in groups for p in g.price_groups]
    seed_site(session.get_bind(mapper=Event.__mapper__), ids, seed=1)
    site_events = list(session.scalars(select(Event).order_by(Event.id)))
    return {
        "PriceGroup": serializers.to_json(serializers.serialize_price_group(p) for p in prices),
        "TicketGroup": serializers.to_json(serializers.serialize_ticket_group(g) for g in groups),
        "BilligEvent": serializers.to_json(serializers.serialize_billig_events(session, events)),
        "Event": serializers.to_json(serializers.serialize_events(session, site_events)),
    }


def measure_billig_statements(
    session: Session,
    sizes: Sequence[int],
    serialize_events: Callable[[Session, list[Any]], object] | None = None,
) -> dict[str, list[QueryRun]]:
    """Per serializer, the statements it sends to Billig for each number of objects: Billig
    events as the API loads them (events, then groups and prices on demand), site events from
    the site seed, and groups and prices as events bring them (already loaded)."""
    from sqlalchemy import select

    from examples.fastapi_site import serializers
    from examples.fastapi_site.billig_models import BilligEvent
    from examples.fastapi_site.events import Event
    from examples.fastapi_site.prefetch import load_billig_events
    from examples.fastapi_site.seed import seed_site

    serialize_events = serialize_events or serializers.serialize_events
    billig = session.get_bind(mapper=BilligEvent.__mapper__)
    site = session.get_bind(mapper=Event.__mapper__)
    ids = list(session.scalars(select(BilligEvent.id).order_by(BilligEvent.id)))
    seed_site(site, ids, seed=1)
    out: dict[str, list[QueryRun]] = {}

    def run(name: str, objects: list[Any], serialize: Callable[[list[Any]], object]) -> None:
        with sqlalchemy_models.recorded_statements(billig, site) as (sent, other):
            serialize(objects)
        out.setdefault(name, []).append(QueryRun(len(objects), tuple(sent), other[0]))

    for size in sizes:
        session.expunge_all()  # fresh instances: nothing loaded for one size helps the next
        events = list(session.scalars(select(BilligEvent).order_by(BilligEvent.id).limit(size)))
        run("BilligEvent", events, lambda some: serializers.serialize_billig_events(session, some))
        session.expunge_all()
        site_events = list(session.scalars(select(Event).order_by(Event.id).limit(size)))
        run("Event", site_events, lambda some: serialize_events(session, some))
        loaded = list(load_billig_events(session, ids).values())
        groups = [g for e in loaded for g in e.ticket_groups][:size]
        prices = [p for g in groups for p in g.price_groups][:size]
        run(
            "TicketGroup",
            groups,
            lambda some: [serializers.serialize_ticket_group(g) for g in some],
        )
        run("PriceGroup", prices, lambda some: [serializers.serialize_price_group(p) for p in some])
    return out


def create_app(*args: Any, **kwargs: Any) -> Any:
    from examples.fastapi_site.api import create_app as create

    return create(*args, **kwargs)


@contextlib.contextmanager
def read_only_session(database: str) -> Iterator[Session]:
    """A read-only session on Billig at ``database``, with the site's models in memory."""
    from examples.fastapi_site.events import create_site_schema
    from examples.fastapi_site.routing import (
        create_billig_engine,
        create_site_engine,
        session_factory,
    )

    billig = create_billig_engine(_url(database), production=True)
    site = create_site_engine("sqlite://")  # private, in memory: observation seeds it
    try:
        create_site_schema(site)
        with session_factory(billig, site, production=True)() as session:
            yield session
    finally:
        billig.dispose()
        site.dispose()


_MISSING_COLUMN = re.compile(r'column "?([^".\s]+)"?\."?([^".\s]+)"? does not exist')


def _model_column(relation: str, column: str) -> str:
    """``Model.attribute (schema.relation.column)`` for a column a model reads, by name."""
    for model in sqlalchemy_models.mapped_models(BilligBase):
        if model.relation.name == relation and column in model.columns:
            attribute = model.columns[column][0]
            return f"{model.name}.{attribute} ({model.relation}.{column})"
    return f"{relation}.{column}"


@contextlib.contextmanager
def site_code(what: str) -> Iterator[None]:
    """Site code failing on the seeded mirror is a failed check (ObservationError), never a
    crash: a model column the mirror lacks, a value a serializer refuses, a bug it meets.
    A lost connection stays what it is (exit 3)."""
    try:
        yield
    except (OperationalError, InterfaceError, DatabaseError):
        raise
    except ProgrammingError as exc:
        first = (str(exc.orig or exc).strip().splitlines() or [""])[0]
        missing = _MISSING_COLUMN.search(first)
        if missing is not None:
            first = f"model column {_model_column(*missing.groups())} is not in the mirror"
        raise ObservationError(f"{what} cannot read the seeded mirror: {first}") from None
    except ValidationError as exc:
        errors = exc.errors()
        error: Mapping[str, Any] = errors[0] if errors else {}
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise ObservationError(
            f"{what}: {exc.title} refuses seeded data at {where or '(root)'}: "
            f"{error.get('msg', exc)}"
        ) from None
    except Exception as exc:
        raise ObservationError(f"{what} raised {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class ReferenceSite(SQLAlchemySite):
    """The SQLAlchemy models, pydantic serializers and FastAPI app of ``examples/fastapi_site/``."""

    base: type[DeclarativeBase] = BilligBase
    serializers: Callable[[], Mapping[str, type[BaseModel]]] = billig_serializers
    observer: Callable[[Session], Mapping[str, list[Any]]] = observe_billig_outputs
    measurer: Callable[[Session, Sequence[int]], Mapping[str, list[QueryRun]]] = (
        measure_billig_statements
    )
    app_factory: Callable[..., Any] = create_app
    name: str = "reference site"
    models_file: str = "examples/fastapi_site/billig_models.py"
    forbidden_fields: frozenset[str] = field(default_factory=lambda: _forbidden())

    def lineage(self) -> Mapping[ColumnRef, Usage]:
        from examples.fastapi_site.lineage import billig_lineage

        return billig_lineage()

    def shapes(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            name: model.model_json_schema(mode="serialization")
            for name, model in self.serializers().items()
        }

    def observe(self, database: str, now: datetime) -> Mapping[str, Sequence[Any]] | None:
        with read_only_session(database) as session, site_code("the serializers"):
            return self.observer(session)

    def queries(
        self, database: str, now: datetime, sizes: Sequence[int]
    ) -> Mapping[str, Sequence[QueryRun]] | None:
        with read_only_session(database) as session, site_code("the serializers"):
            return self.measurer(session, sizes)

    def openapi(self) -> Mapping[str, Any] | None:
        app = self.app_factory(_UNUSED_DSN, "sqlite://")
        try:
            document: dict[str, Any] = app.openapi()
            return document
        finally:
            app.state.api.close()

    def serving(
        self, database: str, site_database: str | None = None
    ) -> contextlib.AbstractContextManager[tuple[Any, str]]:
        from examples.fastapi_site.server import running_app

        return running_app(database, site_database)

    def api_exchanges(self, database: str, now: datetime) -> Sequence[ApiExchange] | None:
        from examples.fastapi_site import rules, samples

        moment = rules.billig_time(now)
        app = self.app_factory(_url(database), "sqlite://", now=moment)
        try:
            with site_code("the API's sample requests"):
                return samples.exchanges(app, moment)
        finally:
            app.state.api.close()


def _url(database: str) -> URL:
    """A libpq URL as SQLAlchemy's psycopg2 URL (the site's driver)."""
    url = make_url(database)
    return url.set(drivername="postgresql+psycopg2") if url.drivername == "postgresql" else url


def _forbidden() -> frozenset[str]:
    from examples.fastapi_site.serializers import FORBIDDEN_FIELDS

    return frozenset(FORBIDDEN_FIELDS)


SITE = ReferenceSite()
