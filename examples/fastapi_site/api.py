"""The site's Billig API: a FastAPI app over the integration layer.

:func:`create_app` serves site events with their nested Billig data, the relevant Billig events,
the payment form and the validation of a buyer's selection, payment-error lookups, purchased
tickets with their PDF link, and a health probe. Every response, errors included, has a declared
model, so the OpenAPI document pins each shape precisely enough that a changed one is detectable
(``contracts/openapi.json``, checked by the OpenAPI kind). Inputs are bounded and typed in
the document and enforced by the same declarations: malformed input is a 4xx JSON error, a
well-formed request the data cannot satisfy is a 404 or 409, and nothing a client sends is a 500.
List endpoints serialize through :func:`prefetch.prefetch_billig` (one query per level).
Billig is read through a read-only engine; responses never carry owner data or card numbers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from examples.fastapi_site import events as site_models
from examples.fastapi_site import payment, payment_errors, routing, rules, serializers, tickets
from examples.fastapi_site.billig_models import select_relevant_events
from examples.fastapi_site.deadline import bound_engine
from examples.fastapi_site.prefetch import get_billig_event
from examples.fastapi_site.routing import (
    RoutedSession,
    create_billig_engine,
    create_site_engine,
    session_factory,
)
from mirror.provision.seed import EVENT_ID_BASE
from mirror.secrets import password_of, scrub

log = logging.getLogger(__name__)

API_TITLE = "Billig site API"
API_VERSION = "1.0.0"

INT4_MAX = 2**31 - 1  # Billig's and the site's ids are integer columns
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_OFFSET = 1_000_000
MAX_CHOICES = 50  # price groups in one selection
MAX_COUNT = 100  # tickets of one price group asked for; the event's own limit is checked after
MAX_BODY_BYTES = 16 * 1024
MAX_REASONS = 20
BSESSION_MAX = 64  # billig.payment_error.error is varchar(64)
# The first purchase of the default seed (60 events): its complete set, the documented example.
EXAMPLE_TICKET_REFS = ["10000112345", "10000254321"]
CACHE_CONTROL = "no-store"  # stock levels are live, and tickets and payments are private
BILLIG_TIMEOUT_S = 5.0  # statements, connecting, waiting for a pooled connection
BILLIG_GRACE_S = 2.0  # on top, before the client gives up on a Billig that does not answer

# A ticket reference: a ticket id (1 … 2**31-1, no leading zero) followed by Billig's 5-digit code.
# Spelled out so that the document, the validation and Schemathesis agree on every value.
TICKET_REF_PATTERN = (
    r"^(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])[0-9]{5}$"
)
MEMBERCARD_PATTERN = r"^[0-9]{1,19}$"
# No control characters and none of the characters Python counts as white space, which
# payment.py rejects in an address; written with escapes every regex dialect reads alike.
_NOT_IN_EMAIL = r"@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EMAIL_PATTERN = rf"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}.]+(?:\.[^{_NOT_IN_EMAIL}.]+)+$"
EMAIL_MAX = 254

Clock = Callable[[], datetime]


# --------------------------------------------------------------------------- error bodies


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ApiError(_Body):
    """Every error body: a machine-readable code, one line for people, and a reason per field."""

    error: str
    message: str
    reasons: dict[str, str]


class NotFoundError(ApiError):
    error: Literal["not_found"]


class InvalidRequestError(ApiError):
    """The request does not match the document (types, bounds, patterns, unknown keys)."""

    error: Literal["invalid_request"]


class ConflictError(ApiError):
    """Well-formed, but the data says no: limits, sold out, sale period."""

    error: Literal["invalid_selection"]


class PayloadTooLargeError(ApiError):
    error: Literal["payload_too_large"]


class UnavailableError(ApiError):
    error: Literal["unavailable"]


_ERROR_MODELS: dict[int, tuple[type[ApiError], str]] = {
    404: (NotFoundError, "No such resource."),
    409: (ConflictError, "Well-formed, but not possible for this event."),
    413: (PayloadTooLargeError, f"The request body is larger than {MAX_BODY_BYTES} bytes."),
    422: (InvalidRequestError, "The request does not match this document."),
    503: (UnavailableError, "A database did not answer."),
}


class ApiProblem(Exception):
    """Raised by endpoints; becomes the declared error body of ``status``."""

    def __init__(
        self, status: int, error: str, message: str, reasons: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.reasons = dict(reasons or {})


def _not_found(what: str, key: str, value: object) -> ApiProblem:
    return ApiProblem(404, "not_found", f"no such {what}", {key: f"no {what} {value}"})


# --------------------------------------------------------------------------- response bodies

T = TypeVar("T", bound=BaseModel)


class Page(_Body, Generic[T]):
    """One page of a list, in a stable order; ``next_offset`` is null on the last page."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def _page_of(model: type[BaseModel]) -> type[BaseModel]:
    """``<Model>Page``: a concrete subclass, so the document names it plainly."""
    return create_model(f"{model.__name__}Page", __base__=Page[model])  # type: ignore[valid-type]


class Health(_Body):
    status: Literal["ok", "unavailable"]
    billig: Literal["ok", "unreachable"]
    site: Literal["ok", "unreachable"]


class PayRequest(_Body):
    """A valid selection: post ``fields`` to ``action`` (Billig's ``/pay``) as a form."""

    action: str
    fields: dict[str, str]


# --------------------------------------------------------------------------- request bodies


class _Input(BaseModel):
    # Strict: a JSON string is never an integer here, so the document's types are the rules.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _json_integer(value: object) -> object:
    # JSON Schema's integer is any number without a fraction (30.0 is 30), never a string or a
    # boolean: exactly what the document promises, no more (pydantic's lax mode takes "30").
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


_JSON_INTEGER = BeforeValidator(_json_integer)


class TicketChoice(_Input):
    price_group: Annotated[
        int, Field(ge=1, le=INT4_MAX, description="A price group id."), _JSON_INTEGER
    ]
    count: Annotated[
        int, Field(ge=1, le=MAX_COUNT, description="Tickets of that price group."), _JSON_INTEGER
    ]


Choices = Annotated[list[TicketChoice], Field(min_length=1, max_length=MAX_CHOICES)]


class CardPayment(_Input):
    """Tickets put on the buyer's member card."""

    ticket_type: Literal["card"]
    membercard: Annotated[str, Field(pattern=MEMBERCARD_PATTERN)]
    tickets: Choices


class PaperPayment(_Input):
    """Paper tickets sent to the buyer's e-mail address."""

    ticket_type: Literal["paper"]
    email: Annotated[str, Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
    tickets: Choices


PaymentSelection = Annotated[CardPayment | PaperPayment, Field(discriminator="ticket_type")]


# --------------------------------------------------------------------------- application state


@dataclass(frozen=True)
class ApiState:
    """What the endpoints share: both engines, a session factory, the clock and the URLs."""

    billig_engine: Engine
    site_engine: Engine
    sessions: sessionmaker[RoutedSession]
    clock: Clock
    pay_url: str | None
    ticket_url: str | None
    owned: tuple[Engine, ...]

    def session(self) -> Session:
        """A session routing Billig models to the read-only Billig engine (never flushes them)."""
        return self.sessions()

    def now(self) -> datetime:
        return rules.billig_time(self.clock())

    def close(self) -> None:
        """Dispose of the engines the app created (not of engines it was given)."""
        for engine in self.owned:
            engine.dispose()


def _billig_engine(billig: str | URL | Engine, timeout_s: float) -> tuple[Engine, bool]:
    """The read-only engine on Billig; one the app creates never waits on Billig unbounded.

    The server cancels a statement after ``timeout_s`` (locks after at most 2 s); connecting
    and waiting for a pooled connection are bounded by ``timeout_s`` too; and every use of a
    connection (its check, its statements, its rollback) by ``timeout_s`` plus a grace period on
    the client's side (:mod:`deadline`), for a server that no longer answers at all.
    """
    if isinstance(billig, Engine):
        return billig, False
    url = make_url(billig)
    kwargs: dict[str, Any] = {"pool_size": 5, "pool_timeout": timeout_s}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", ""):
        statement_ms = max(1, round(timeout_s * 1000))
        kwargs["connect_args"] = {
            # libpq counts whole seconds (and treats 1 as 2).
            "connect_timeout": max(1, math.ceil(timeout_s)),
            "options": (
                f"-c statement_timeout={statement_ms} -c lock_timeout={min(statement_ms, 2000)}"
            ),
        }
    engine = create_billig_engine(url, production=True, **kwargs)
    return bound_engine(engine, timeout_s + BILLIG_GRACE_S), True


def _site_engine(site: str | URL | Engine | None) -> tuple[Engine, bool]:
    if isinstance(site, Engine):
        return site, False
    url = routing.site_url(site)
    if url.get_backend_name() != "sqlite":
        return create_site_engine(url, pool_pre_ping=True), True
    # Endpoints run in worker threads; an in-memory database must be one shared connection.
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool
    return create_site_engine(url, **kwargs), True


def _clock(now: datetime | Clock | None) -> Clock:
    if now is None:
        return rules.billig_now
    if isinstance(now, datetime):
        fixed = now
        return lambda: fixed
    return now


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def _session(request: Request) -> Iterator[Session]:
    with _state(request).session() as session:
        yield session


StateDep = Annotated[ApiState, Depends(_state)]
SessionDep = Annotated[Session, Depends(_session)]
# Examples are ids of the seeded mirror, so a documented example is also a working request there.
EventId = Annotated[
    int, Path(ge=1, le=INT4_MAX, description="A Billig event id.", examples=[EVENT_ID_BASE])
]
SiteEventId = Annotated[int, Path(ge=1, le=INT4_MAX, description="A site event id.", examples=[1])]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


# --------------------------------------------------------------------------- the document

_HEADER_COMPONENTS = {
    "CacheControl": {
        "description": "Responses are never cached: stock is live, tickets are private.",
        "required": True,
        "schema": {"type": "string", "enum": [CACHE_CONTROL]},
    }
}
_HEADERS = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}


def _responses(*errors: int, links: Mapping[str, Any] | None = None) -> dict[int | str, Any]:
    """The declared responses of an operation besides its 200: error models and headers."""
    out: dict[int | str, Any] = {200: {"headers": _HEADERS}}
    if links:
        out[200]["links"] = dict(links)
    for status in errors:
        model, description = _ERROR_MODELS[status]
        out[status] = {"model": model, "description": description, "headers": _HEADERS}
    return out


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


# Endpoint → the output schemas it emits (their nested schemas included), for lineage
# (lineage.py): a Billig column read by one of these schemas is read by the endpoint.
ENDPOINT_SERIALIZERS: Mapping[str, tuple[str, ...]] = {
    "GET /events": ("Event",),
    "GET /events/{event_id}": ("Event",),
    "GET /billig/events": ("BilligEvent",),
    "GET /billig/events/{event_id}": ("BilligEvent",),
    "GET /billig/events/{event_id}/payment-form": ("PaymentForm",),
    # Validating reads what the form shows: limits, netsale, stock and the sale period.
    "POST /billig/events/{event_id}/payment": ("PaymentForm", "PayValidation"),
    "GET /payment-errors": ("PaymentErrorOutcome",),
    "GET /tickets": ("PurchaseTickets",),
    "GET /health": (),
}


def endpoint_serializers() -> dict[str, tuple[str, ...]]:
    """Endpoint (``METHOD /path``) → the serializer schemas it emits; read by lineage."""
    return dict(ENDPOINT_SERIALIZERS)


# --------------------------------------------------------------------------- the app


def create_app(
    billig_url: str | URL | Engine,
    site_url: str | URL | Engine | None = None,
    *,
    now: datetime | Clock | None = None,
    pay_url: str | None = None,
    ticket_url: str | None = None,
    billig_timeout_s: float = BILLIG_TIMEOUT_S,
    docs: bool = False,
) -> FastAPI:
    """The API over a Billig database (always read-only) and the site's database.

    ``site_url`` defaults to ``BILLIG_SITE_URL`` or a local SQLite file; ``now`` fixes the clock
    (a naive local time, an aware time, or a callable); ``pay_url``/``ticket_url`` default to
    ``BILLIG_PAY_URL``/``BILLIG_TICKET_URL``. Engines given as engines are used as they are and
    left open; engines the app creates are disposed of on shutdown (``app.state.api.close()``),
    and one created on Billig answers 503 rather than wait on Billig longer than
    ``billig_timeout_s`` (plus :data:`BILLIG_GRACE_S` for a server that answers nothing at all;
    see :func:`_billig_engine`). ``docs`` serves the interactive pages ``/docs`` and ``/redoc``,
    which are not part of the pinned document; off by default. Nothing connects before the
    first request.
    """
    if not billig_timeout_s > 0:
        raise ValueError(f"billig_timeout_s must be positive, not {billig_timeout_s!r}")
    billig_engine, own_billig = _billig_engine(billig_url, billig_timeout_s)
    site_engine, own_site = _site_engine(site_url)
    state = ApiState(
        billig_engine=billig_engine,
        site_engine=site_engine,
        sessions=session_factory(billig_engine, site_engine, production=True),
        clock=_clock(now),
        pay_url=pay_url,
        ticket_url=ticket_url,
        owned=tuple(e for e, own in ((billig_engine, own_billig), (site_engine, own_site)) if own),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "The site's API over Billig: events with nested ticket groups and prices, the "
            "payment form, payment errors and purchased tickets. Errors are JSON bodies with "
            "a code, a message and a reason per field; responses are never cached."
        ),
        redirect_slashes=False,  # a redirect is not a documented answer
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        lifespan=lifespan,
    )
    app.state.api = state
    _add_routes(app)
    _add_error_handlers(app)
    app.add_middleware(_Guard)
    _document_headers(app)
    return app


def _document_headers(app: FastAPI) -> None:
    """Add the shared response headers to the document's components (FastAPI has no hook)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["headers"] = dict(_HEADER_COMPONENTS)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_routes(app: FastAPI) -> None:
    # Response models are looked up here, not at import, so the app always documents the
    # serializers as they are now.
    event_model = serializers.Event
    billig_model = serializers.BilligEvent
    event_page = _page_of(event_model)
    billig_page = _page_of(billig_model)

    billig_event_links = {
        "BilligEvent": _link(
            "get_billig_event", "The first event's detail.", event_id="$response.body#/items/0/id"
        ),
        "PaymentForm": _link(
            "get_payment_form",
            "The first event's payment form.",
            event_id="$response.body#/items/0/id",
        ),
    }

    @app.get(
        "/health",
        operation_id="health",
        tags=["meta"],
        response_model=Health,
        responses={
            200: {"headers": _HEADERS},
            503: {
                "model": Health,
                "description": "A database is unreachable.",
                "headers": _HEADERS,
            },
        },
    )
    def health(state: StateDep) -> Any:
        """Whether both databases answer."""
        billig, site = _ping(state.billig_engine), _ping(state.site_engine)
        body = Health(
            status="ok" if billig and site else "unavailable",
            billig="ok" if billig else "unreachable",
            site="ok" if site else "unreachable",
        )
        if body.status != "ok":
            return _json(503, body.model_dump(mode="json"))
        return body

    @app.get(
        "/events",
        operation_id="list_events",
        tags=["site"],
        response_model=event_page,
        responses=_responses(
            422,
            503,
            links={
                "Event": _link(
                    "get_event", "The first event's detail.", event_id="$response.body#/items/0/id"
                )
            },
        ),
    )
    def list_events(
        state: StateDep, session: SessionDep, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> Any:
        """Site events by start time, each with its Billig event (null when not sold there).

        Billig data for the whole page comes in one query per level, whatever the page size.
        """
        event = site_models.Event
        total = session.scalar(select(func.count()).select_from(event)) or 0
        rows = session.scalars(
            select(event).order_by(event.start_dt, event.id).limit(limit).offset(offset)
        ).all()
        items = serializers.serialize_events(session, rows, state.now())
        return _page(event_page, items, total, limit, offset)

    @app.get(
        "/events/{event_id}",
        operation_id="get_event",
        tags=["site"],
        response_model=event_model,
        responses=_responses(404, 422, 503),
    )
    def get_event(state: StateDep, session: SessionDep, event_id: SiteEventId) -> Any:
        """One site event with its Billig event."""
        found = session.get(site_models.Event, event_id)
        if found is None:
            raise _not_found("event", "event_id", event_id)
        return serializers.serialize_events(session, [found], state.now())[0]

    @app.get(
        "/billig/events",
        operation_id="list_billig_events",
        tags=["billig"],
        response_model=billig_page,
        responses=_responses(422, 503, links=billig_event_links),
    )
    def list_billig_events(
        state: StateDep, session: SessionDep, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> Any:
        """The Billig events the site shows: not hidden, sale ended less than 31 days ago."""
        now = state.now()
        relevant = select_relevant_events(now)
        total = session.scalar(select(func.count()).select_from(relevant.subquery())) or 0
        rows = session.scalars(relevant.limit(limit).offset(offset)).all()
        items = serializers.serialize_billig_events(session, rows, now)
        return _page(billig_page, items, total, limit, offset)

    @app.get(
        "/billig/events/{event_id}",
        operation_id="get_billig_event",
        tags=["billig"],
        response_model=billig_model,
        responses=_responses(
            404,
            422,
            503,
            links={
                "PaymentForm": _link(
                    "get_payment_form", "This event's payment form.", event_id="$response.body#/id"
                )
            },
        ),
    )
    def get_billig_event_detail(state: StateDep, session: SessionDep, event_id: EventId) -> Any:
        """One Billig event the web can see, with its ticket groups and prices."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise _not_found("Billig event", "event_id", event_id)
        return serializers.serialize_billig_event(found, state.now())

    @app.get(
        "/billig/events/{event_id}/payment-form",
        operation_id="get_payment_form",
        tags=["payment"],
        response_model=payment.PaymentForm,
        responses=_responses(
            404,
            422,
            503,
            links={
                "Buy": {
                    **_link(
                        "validate_payment",
                        "One ticket of the form's first price group, on paper.",
                        event_id="$response.body#/event_id",
                    ),
                    # The body as a whole, not merged into a generated one (Schemathesis).
                    "x-schemathesis": {"merge_body": False},
                    "requestBody": {
                        "ticket_type": "paper",
                        "email": "buyer@example.org",
                        "tickets": [
                            {
                                "price_group": "$response.body#/ticket_groups/0/price_groups/0/id",
                                "count": 1,
                            }
                        ],
                    },
                }
            },
        ),
    )
    def get_payment_form(state: StateDep, session: SessionDep, event_id: EventId) -> Any:
        """What a buyer may choose: netsale price groups, prices, count ranges, and whether the
        event sells now."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise _not_found("Billig event", "event_id", event_id)
        return payment.payment_form(found, state.now(), url=state.pay_url)

    @app.post(
        "/billig/events/{event_id}/payment",
        operation_id="validate_payment",
        tags=["payment"],
        response_model=PayRequest,
        responses=_responses(404, 409, 413, 422, 503),
    )
    def validate_payment(
        state: StateDep, session: SessionDep, event_id: EventId, selection: PaymentSelection
    ) -> Any:
        """Check a selection; a valid one gives the exact form fields to post to Billig's
        ``/pay``, an invalid one a 409 with a reason per field (``price_<id>_count``,
        ``ticket_group_<id>``, ``event`` …)."""
        found = get_billig_event(session, event_id)
        if found is None:
            raise _not_found("Billig event", "event_id", event_id)
        counts: dict[int, int] = {}
        duplicates: dict[str, str] = {}
        for index, choice in enumerate(selection.tickets):
            if choice.price_group in counts:
                duplicates[f"tickets[{index}]"] = f"price group {choice.price_group} listed twice"
            counts[choice.price_group] = choice.count
        if duplicates:
            raise ApiProblem(409, "invalid_selection", "invalid selection", duplicates)
        chosen = payment.Selection(
            counts=counts,
            ticket_type=selection.ticket_type,
            membercard=getattr(selection, "membercard", None),
            email=getattr(selection, "email", None),
        )
        outcome = payment.validate_selection(found, chosen, state.now(), url=state.pay_url)
        if not outcome.valid:
            raise ApiProblem(409, "invalid_selection", "invalid selection", outcome.errors)
        return PayRequest(action=outcome.pay_url, fields=outcome.fields)

    @app.get(
        "/payment-errors",
        operation_id="get_payment_error",
        tags=["payment"],
        response_model=payment_errors.PaymentErrorOutcome,
        responses=_responses(422, 503),
    )
    def get_payment_error(
        session: SessionDep,
        bsession: Annotated[
            str,
            Query(
                min_length=1,
                max_length=BSESSION_MAX,
                description="The session key Billig sent back after a failed payment.",
            ),
        ],
    ) -> Any:
        """Why a payment failed: a generic message for an unknown session, Billig's message, or
        the message and the counts to refill the event's form with. Never the owner's data."""
        return payment_errors.lookup_payment_error(session, bsession)

    @app.get(
        "/tickets",
        operation_id="get_tickets",
        tags=["tickets"],
        response_model=tickets.PurchaseTickets,
        responses=_responses(404, 422, 503),
    )
    def get_tickets(
        state: StateDep,
        session: SessionDep,
        ref: Annotated[
            list[Annotated[str, Field(pattern=TICKET_REF_PATTERN)]],
            Query(
                min_length=1,
                max_length=tickets.MAX_TICKETS,
                description=(
                    "The ticket references Billig sent back after one purchase, all of them: "
                    "each a ticket id and a 5-digit code."
                ),
                examples=[EXAMPLE_TICKET_REFS],
            ),
        ],
    ) -> Any:
        """The tickets of one purchase (price group, price, event) and their PDF link.

        The request must name every ticket of one purchase and nothing else; anything else
        (a ticket missing or extra, several purchases, a repeated ticket, a hidden event) is
        the same 404, so no request tells which tickets exist. Billig's 5-digit code is not
        verified here (Billig checks it when it serves the PDF). Owner data, member ids and
        card numbers are never read; references are never echoed in errors.
        """
        try:
            return tickets.purchase_tickets(session, ref, base=state.ticket_url)
        except tickets.TicketReferenceError:
            # Well-formed (the pattern held), so a repeated ticket or not one complete purchase.
            raise ApiProblem(
                404, "not_found", "no such purchase", {"ref": tickets.NOT_ONE_PURCHASE}
            ) from None


def _page(model: type[BaseModel], items: Sequence[Any], total: int, limit: int, offset: int) -> Any:
    following = offset + len(items)
    return model(
        items=list(items),
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
    )


def _ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure means "not answering"; the reason goes to the log
        reason = scrub(str(exc).strip().split("\n")[0], password_of(engine.url))
        log.warning("health: %s is unreachable: %s", engine.url.get_backend_name(), reason)
        return False


# --------------------------------------------------------------------------- errors


def _json(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Any:
    return JSONResponse(dict(body), status_code=status, headers=dict(headers or {}))


def _error(
    status: int,
    error: str,
    message: str,
    reasons: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    body = {"error": error, "message": message, "reasons": dict(reasons or {})}
    return _json(status, body, headers)


def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "request"


# What a value that does not match its pattern should have been, by field name.
_PATTERN_REASONS = {
    "ref": f"must be a ticket id followed by a {tickets.HMAC_DIGITS}-digit code",
    "membercard": "must be the digits of a member card number",
    "email": "must be an e-mail address",
}


def _validation_reasons(exc: RequestValidationError) -> dict[str, str]:
    # Only where and why: the offending input is never echoed (it may be huge, or a secret).
    reasons: dict[str, str] = {}
    for item in exc.errors():
        loc = tuple(item.get("loc", ()))
        key = _loc(loc)[:200]
        if key in reasons or len(reasons) >= MAX_REASONS:
            continue
        field = next((part for part in reversed(loc) if isinstance(part, str)), "")
        if item.get("type") == "string_pattern_mismatch" and field in _PATTERN_REASONS:
            reasons[key] = _PATTERN_REASONS[field]
        else:
            reasons[key] = str(item.get("msg", "invalid"))[:200]
    return reasons


_HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def _add_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, ApiProblem)
        return _error(exc.status, exc.error, exc.message, exc.reasons)

    async def on_validation(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        return _error(422, "invalid_request", "invalid request", _validation_reasons(exc))

    async def on_http(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        if status == 400:
            # FastAPI's "could not parse the body" is a malformed request like any other.
            return _error(422, "invalid_request", "invalid request", {"body": str(exc.detail)})
        error = _HTTP_ERRORS.get(status, "http_error")
        message = str(exc.detail) if isinstance(exc.detail, str) else "error"
        return _error(status, error, message.lower(), headers=exc.headers)

    async def on_database(request: Request, exc: Exception) -> Any:
        log.error("database error: %s", scrub(str(exc).splitlines()[0] if str(exc) else ""))
        return _error(503, "unavailable", "a database did not answer")

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    # A pooled connection that failed its check and could not be replaced: Billig is away.
    for kind in (OperationalError, PoolTimeout, DisconnectionError):
        app.add_exception_handler(kind, on_database)


class _BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body larger than {MAX_BODY_BYTES} bytes")


class _Guard:
    """Outermost app layer: bounded request bodies, the cache header, and no raw 500s.

    An exception nothing else handled becomes a JSON 500 (logged, never shown), so a bug is a
    documented-shape failure for clients and Schemathesis rather than a dropped connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                headers.append((b"cache-control", CACHE_CONTROL.encode()))
                message = {**message, "headers": headers}
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > MAX_BODY_BYTES:
            await _send_json(send_with_headers, 413, _too_large_body())
            return
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY_BYTES:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, bounded_receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                body = {"error": "internal_error", "message": "internal error", "reasons": {}}
                await _send_json(send_with_headers, 500, body)


def _too_large_body() -> dict[str, Any]:
    return {
        "error": "payload_too_large",
        "message": f"request body larger than {MAX_BODY_BYTES} bytes",
        "reasons": {},
    }


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(send: Callable[[Message], Awaitable[None]], status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


__all__ = [
    "API_TITLE",
    "API_VERSION",
    "ENDPOINT_SERIALIZERS",
    "ApiError",
    "ApiProblem",
    "ApiState",
    "CardPayment",
    "Health",
    "Page",
    "PaperPayment",
    "PayRequest",
    "TicketChoice",
    "create_app",
    "endpoint_serializers",
]
