"""What the OpenAPI document declares beyond the routes: shared headers, error responses, links
between operations, pages, and which serializer schemas each endpoint emits (for lineage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from fastapi import FastAPI
from pydantic import BaseModel, create_model

from examples.fastapi_site.api.errors import ERROR_MODELS, Body
from examples.fastapi_site.api.limits import CACHE_CONTROL

API_TITLE = "Billig site API"
API_VERSION = "1.0.0"
DESCRIPTION = (
    "The site's API over Billig: events with nested ticket groups and prices, the payment "
    "form, payment errors and purchased tickets. Errors are JSON bodies with a code, a message "
    "and a reason per field; responses are never cached."
)

HEADER_COMPONENTS = {
    "CacheControl": {
        "description": "Responses are never cached: stock is live, tickets are private.",
        "required": True,
        "schema": {"type": "string", "enum": [CACHE_CONTROL]},
    }
}
HEADERS = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}


def responses(*errors: int, links: Mapping[str, Any] | None = None) -> dict[int | str, Any]:
    """The declared responses of an operation besides its 200: error models and headers."""
    out: dict[int | str, Any] = {200: {"headers": HEADERS}}
    if links:
        out[200]["links"] = dict(links)
    for status in errors:
        model, description = ERROR_MODELS[status]
        out[status] = {"model": model, "description": description, "headers": HEADERS}
    return out


def link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


def document_headers(app: FastAPI) -> None:
    """Add the shared response headers to the document's components (FastAPI has no hook)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["headers"] = dict(HEADER_COMPONENTS)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


T = TypeVar("T", bound=BaseModel)


class Page(Body, Generic[T]):
    """One page of a list, in a stable order; ``next_offset`` is null on the last page."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def page_of(model: type[BaseModel]) -> type[BaseModel]:
    """``<Model>Page``: a concrete subclass, so the document names it plainly."""
    return create_model(f"{model.__name__}Page", __base__=Page[model])  # type: ignore[valid-type]


def page(model: type[BaseModel], items: Sequence[Any], total: int, limit: int, offset: int) -> Any:
    following = offset + len(items)
    return model(
        items=list(items),
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
    )


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
