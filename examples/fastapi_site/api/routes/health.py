"""``GET /health``: whether both databases answer."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.engine import Engine

from examples.fastapi_site.api.document import HEADERS
from examples.fastapi_site.api.errors import Body, json_response
from examples.fastapi_site.api.state import StateDep
from mirror.secrets import password_of, scrub

log = logging.getLogger(__name__)


class Health(Body):
    status: Literal["ok", "unavailable"]
    billig: Literal["ok", "unreachable"]
    site: Literal["ok", "unreachable"]


def router() -> APIRouter:
    routes = APIRouter(tags=["meta"])

    @routes.get(
        "/health",
        operation_id="health",
        response_model=Health,
        responses={
            200: {"headers": HEADERS},
            503: {"model": Health, "description": "A database is unreachable.", "headers": HEADERS},
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
            return json_response(503, body.model_dump(mode="json"))
        return body

    return routes


def _ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure means "not answering"; the reason goes to the log
        reason = scrub(str(exc).strip().split("\n")[0], password_of(engine.url))
        log.warning("health: %s is unreachable: %s", engine.url.get_backend_name(), reason)
        return False
