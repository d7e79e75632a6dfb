"""The outermost layer of the app: bounded request bodies, the cache header, and no raw 500s.

An exception nothing else handled becomes a JSON 500 (logged, never shown), so a bug is a
documented-shape failure for clients and Schemathesis rather than a dropped connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from examples.fastapi_site.api.limits import CACHE_CONTROL, MAX_BODY_BYTES

log = logging.getLogger(__name__)


class _BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body larger than {MAX_BODY_BYTES} bytes")


class Guard:
    """ASGI middleware: the body limit, ``Cache-Control`` on every response, JSON for a bug."""

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
