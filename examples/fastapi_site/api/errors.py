"""Error bodies and handlers: every error is JSON with a code, a message and a reason per field.

Endpoints raise :class:`ApiProblem`; request validation, HTTP errors and a database that does not
answer become the same declared bodies. The offending input is never echoed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from examples.fastapi_site import tickets
from examples.fastapi_site.api.limits import MAX_BODY_BYTES, MAX_REASONS
from mirror.secrets import scrub

log = logging.getLogger(__name__)


class Body(BaseModel):
    """Every body the API declares: immutable, and no key beyond the declared ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ApiError(Body):
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


ERROR_MODELS: dict[int, tuple[type[ApiError], str]] = {
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


def not_found(what: str, key: str, value: object) -> ApiProblem:
    return ApiProblem(404, "not_found", f"no such {what}", {key: f"no {what} {value}"})


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Any:
    return JSONResponse(dict(body), status_code=status, headers=dict(headers or {}))


def error_response(
    status: int,
    error: str,
    message: str,
    reasons: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    body = {"error": error, "message": message, "reasons": dict(reasons or {})}
    return json_response(status, body, headers)


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


def add_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, ApiProblem)
        return error_response(exc.status, exc.error, exc.message, exc.reasons)

    async def on_validation(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", "invalid request", _validation_reasons(exc))

    async def on_http(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        if status == 400:
            # FastAPI's "could not parse the body" is a malformed request like any other.
            return error_response(
                422, "invalid_request", "invalid request", {"body": str(exc.detail)}
            )
        error = _HTTP_ERRORS.get(status, "http_error")
        message = str(exc.detail) if isinstance(exc.detail, str) else "error"
        return error_response(status, error, message.lower(), headers=exc.headers)

    async def on_database(request: Request, exc: Exception) -> Any:
        log.error("database error: %s", scrub(str(exc).splitlines()[0] if str(exc) else ""))
        return error_response(503, "unavailable", "a database did not answer")

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    # A pooled connection that failed its check and could not be replaced: Billig is away.
    for kind in (OperationalError, PoolTimeout, DisconnectionError):
        app.add_exception_handler(kind, on_database)
