"""The API's OpenAPI document as a pinned contract (``contracts/openapi.json``).

A snapshot kind of :mod:`mirror.contracts.check`, next to the columns and shape snapshots:
``billig contracts update`` writes the document :func:`mirror.site.api.create_app` generates, and
``billig contracts check`` runs two checks. *Declared*: the generated document equals the pinned
one (a readable diff by path, such as ``components.schemas.PriceGroup.required``). *Observed*: the
app, serving the seeded mirror in-process, answers a fixed set of real requests (every operation,
its success and error cases, built from the mirror's own rows) exactly as the pinned document
says: a declared status, JSON, a body valid against the declared schema, the declared headers,
and no forbidden key. So a serializer that drops a field fails both, and an endpoint that raises
fails the second; Schemathesis (tests and CLI) explores the same document far more widely.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepdiff import DeepDiff

from mirror.contracts.check import CheckResult, ContractContext, register_snapshot_kind
from mirror.errors import ContractError, DatabaseError
from mirror.sources.json_locator import dump_json, json_path, parse_json

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import URL

OPENAPI_FILE = "openapi.json"
# Any URL will do to build the document: nothing connects before the first request.
_UNUSED_DSN = "postgresql+psycopg2://localhost/unused"
_SITE_SEED = 7

AppFactory = Callable[..., "FastAPI"]


def _default_factory(*args: Any, **kwargs: Any) -> FastAPI:
    from mirror.site.api import create_app

    return create_app(*args, **kwargs)


def openapi_document(app: FastAPI | None = None) -> dict[str, Any]:
    """The API's OpenAPI document (of ``app``, or of the API as the code defines it now)."""
    if app is None:
        app = _default_factory(_UNUSED_DSN, "sqlite://")
        try:
            return app.openapi()
        finally:
            app.state.api.close()
    return app.openapi()


def load_openapi(path: Path) -> dict[str, Any]:
    """A pinned document; malformed JSON or a non-document is a :class:`ContractError`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{path}: no pinned OpenAPI document") from None
    return _parse(path, raw)


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    document = parse_json(path, raw, what="OpenAPI document").data
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ContractError(f"{path}: not an OpenAPI document (no 'paths' object)")
    if not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{path}: 'openapi' must be a 3.x version")
    return document


def forbidden_properties(document: Mapping[str, Any]) -> list[str]:
    """``components.schemas.<Schema>.<key>`` for every forbidden key a schema declares."""
    from mirror.site.serializers import FORBIDDEN_FIELDS

    schemas = document.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key in node.get("properties", {}) or {}:
                if key in FORBIDDEN_FIELDS:
                    found.append(f"{where}.{key}")
            for sub in node.values():
                walk(sub, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for name, schema in sorted(schemas.items()):
        walk(schema, f"components.schemas.{name}")
    return sorted(set(found))


# --------------------------------------------------------------------------- diffs


def _where(level: Any) -> str:
    return json_path(level.path(output_format="list"), root="") or "$"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Lines saying how ``new`` differs from ``old``: ``+`` added, ``-`` removed, ``~`` changed."""
    if old == new:
        return []
    diff = DeepDiff(old, new, ignore_order=True, view="tree", verbose_level=2)
    lines: list[str] = []
    for report, levels in diff.items():
        for level in levels:
            where = _where(level)
            if report in ("dictionary_item_added", "iterable_item_added"):
                lines.append(f"+ {where}: {_short(level.t2)}")
            elif report in ("dictionary_item_removed", "iterable_item_removed"):
                lines.append(f"- {where}: {_short(level.t1)}")
            else:
                lines.append(f"~ {where}: {_short(level.t1)} → {_short(level.t2)}")
    return sorted(lines) or ["the order of a list changed"]


# --------------------------------------------------------------------------- observed


@dataclass(frozen=True, slots=True)
class SampleRequest:
    """One request the observed check sends, and the operation of the document it exercises."""

    method: str
    path: str  # as sent
    template: str  # as in the document
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None

    @property
    def label(self) -> str:
        query = "&".join(
            f"{k}={v}"
            for k, vs in self.params.items()
            for v in (vs if isinstance(vs, list) else [vs])
        )
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


def sample_requests(session: Any, now: datetime) -> list[SampleRequest]:
    """Requests covering every operation, with success and error cases, from the mirror's rows."""
    from sqlalchemy import select

    from mirror.site import api
    from mirror.site import billig_models as orm
    from mirror.site.events import Event
    from mirror.site.prefetch import relevant_billig_events

    missing = api.INT4_MAX
    out = [
        SampleRequest("GET", "/health", "/health"),
        SampleRequest("GET", "/events", "/events", {"limit": api.MAX_PAGE}),
        SampleRequest("GET", "/events", "/events", {"limit": 3, "offset": 2}),
        SampleRequest("GET", "/events", "/events", {"offset": api.MAX_OFFSET}),
        SampleRequest("GET", "/events", "/events", {"limit": 0}),
        SampleRequest("GET", f"/events/{missing}", "/events/{event_id}"),
        SampleRequest("GET", "/events/x", "/events/{event_id}"),
        SampleRequest("GET", "/billig/events", "/billig/events", {"limit": api.MAX_PAGE}),
        SampleRequest("GET", "/billig/events", "/billig/events", {"limit": "many"}),
        SampleRequest("GET", f"/billig/events/{missing}", "/billig/events/{event_id}"),
        SampleRequest("GET", "/billig/events/0", "/billig/events/{event_id}"),
        SampleRequest(
            "GET",
            f"/billig/events/{missing}/payment-form",
            "/billig/events/{event_id}/payment-form",
        ),
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": "no-such-session"}),
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": "x" * 65}),
        SampleRequest("GET", "/tickets", "/tickets", {"ref": [f"{missing}00000"]}),
        SampleRequest("GET", "/tickets", "/tickets", {"ref": ["12"]}),
    ]
    site_ids = list(session.scalars(select(Event.id).order_by(Event.id).limit(20)))
    out += [SampleRequest("GET", f"/events/{i}", "/events/{event_id}") for i in site_ids]

    events = relevant_billig_events(session, now)[: api.MAX_PAGE]
    pay = "/billig/events/{event_id}/payment"
    for event in events:
        out.append(SampleRequest("GET", f"/billig/events/{event.id}", "/billig/events/{event_id}"))
        out.append(
            SampleRequest(
                "GET",
                f"/billig/events/{event.id}/payment-form",
                "/billig/events/{event_id}/payment-form",
            )
        )
    buyable = [
        (event, pg)
        for event in events
        if event.purchasable_now(now)
        for group in event.ticket_groups
        if not group.is_sold_out
        for pg in group.price_groups
        if pg.netsale
    ]
    for event, pg in buyable[:1]:
        path = pay.replace("{event_id}", str(event.id))
        paper = {"ticket_type": "paper", "email": "buyer@example.org"}
        out += [
            SampleRequest(
                "POST", path, pay, json={**paper, "tickets": [{"price_group": pg.id, "count": 1}]}
            ),
            # More than any ticket group's limit allows: a 409 with a reason.
            SampleRequest(
                "POST",
                path,
                pay,
                json={**paper, "tickets": [{"price_group": pg.id, "count": api.MAX_COUNT}]},
            ),
            SampleRequest("POST", path, pay, json={**paper, "tickets": []}),
            SampleRequest("POST", path, pay, content=b"{" + b" " * (api.MAX_BODY_BYTES + 1)),
        ]
    out.append(
        SampleRequest(
            "POST",
            pay.replace("{event_id}", str(missing)),
            pay,
            json={
                "ticket_type": "card",
                "membercard": "1",
                "tickets": [{"price_group": 1, "count": 1}],
            },
        )
    )

    keys = list(
        session.scalars(select(orm.BilligPaymentError.error).order_by(orm.BilligPaymentError.error))
    )
    out += [
        SampleRequest("GET", "/payment-errors", "/payment-errors", {"bsession": k}) for k in keys
    ]
    ticket_ids = list(
        session.scalars(select(orm.BilligTicket.id).order_by(orm.BilligTicket.id).limit(5))
    )
    if ticket_ids:
        refs = [f"{t}{i:05d}" for i, t in enumerate(ticket_ids)]
        out.append(SampleRequest("GET", "/tickets", "/tickets", {"ref": refs}))
        out.append(
            SampleRequest(
                "GET", "/tickets", "/tickets", {"ref": [refs[0], f"{ticket_ids[0]}99999"]}
            )
        )
    return out


def _operation(document: Mapping[str, Any], request: SampleRequest) -> Mapping[str, Any] | None:
    operation = document.get("paths", {}).get(request.template, {}).get(request.method.lower())
    return operation if isinstance(operation, Mapping) else None


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = target
    return node


def response_problems(
    document: Mapping[str, Any],
    request: SampleRequest,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
) -> list[str]:
    """Where one real response departs from what the pinned document declares for it."""
    from jsonschema import Draft202012Validator

    from mirror.site.serializers import find_forbidden

    label = f"{request.label} → {status}"
    operation = _operation(document, request)
    if operation is None:
        return [f"{label}: {request.method} {request.template} is not in the document"]
    responses = operation.get("responses", {})
    declared = responses.get(
        str(status), responses.get(f"{str(status)[0]}XX", responses.get("default"))
    )
    if declared is None:
        return [
            f"{label}: status {status} is not declared (declared: {', '.join(sorted(responses))})"
        ]
    declared = _resolve(document, declared)
    problems: list[str] = []
    for name, spec in (declared.get("headers") or {}).items():
        spec = _resolve(document, spec)
        value = headers.get(name.lower())
        if value is None:
            if spec.get("required"):
                problems.append(f"{label}: missing header {name}")
            continue
        allowed = (spec.get("schema") or {}).get("enum")
        if allowed is not None and value not in allowed:
            problems.append(f"{label}: header {name} is {value!r}, declared {allowed}")
    content = declared.get("content") or {}
    if not content:
        return problems
    media = headers.get("content-type", "").split(";")[0].strip()
    if media not in content:
        return [
            *problems,
            f"{label}: content type {media!r} is not declared ({', '.join(content)})",
        ]
    try:
        data = json.loads(body)
    except ValueError:
        return [*problems, f"{label}: body is not JSON"]
    schema = {**(content[media].get("schema") or {}), "components": document.get("components", {})}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = json_path(error.absolute_path)
        problems.append(f"{label}: {where}: {error.message[:200]}")
    problems += [
        f"{label}: {path}: forbidden key in output (SPEC §3)" for path in find_forbidden(data)
    ]
    return problems


async def _send_all(
    app: FastAPI, requests: Sequence[SampleRequest]
) -> list[tuple[int, dict[str, str], bytes]]:
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        for request in requests:
            response = await client.request(
                request.method,
                request.path,
                params=dict(request.params),
                json=request.json,
                content=request.content,
                headers={"content-type": "application/json"} if request.content else None,
            )
            headers = {k.lower(): v for k, v in response.headers.items()}
            out.append((response.status_code, headers, response.content))
    return out


def observe_api(
    document: Mapping[str, Any],
    database: URL,
    now: datetime | None = None,
    factory: AppFactory = _default_factory,
) -> tuple[list[str], int]:
    """Send :func:`sample_requests` to the app over ``database`` in-process: (problems, count)."""
    import httpx  # noqa: F401  (imported before the event loop runs; see _send_all)

    from mirror.site import rules
    from mirror.site.seed import seed_site

    moment = rules.billig_time(now) if now is not None else rules.billig_now()
    app = factory(database, "sqlite://", now=moment)
    state = app.state.api
    try:
        with state.session() as session:
            from sqlalchemy import select

            from mirror.site.billig_models import BilligEvent

            ids = list(session.scalars(select(BilligEvent.id)))
        seed_site(state.site_engine, ids, _SITE_SEED, now=moment)
        with state.session() as session:
            requests = sample_requests(session, moment)
        problems: list[str] = []
        # The app logs each server error; here every one becomes a problem line instead.
        with _quiet(logging.getLogger("mirror.site.api")):
            responses = asyncio.run(_send_all(app, requests))
        for request, (status, headers, body) in zip(requests, responses, strict=True):
            found = response_problems(document, request, status, headers, body)
            if status >= 500 and not found:
                # A declared server error (503) on the seeded mirror is still a failed check,
                # never "answers as declared".
                found = [f"{request.label} → {status}: server error on the seeded mirror"]
            problems += found
        if any(status >= 500 for status, _, _ in responses):
            _mirror_still_there(state)
        return problems, len(requests)
    finally:
        state.close()


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _mirror_still_there(state: Any) -> None:
    """Raise DatabaseError (exit 3) when server errors came from a mirror that went away."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with state.billig_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        raise DatabaseError(f"the seeded mirror went away during the API check: {first}") from None


# --------------------------------------------------------------------------- the snapshot kind


class OpenApiSnapshot:
    """``openapi.json``: the API's OpenAPI document, pinned; checked declared and observed."""

    name = "openapi"

    def __init__(self, factory: AppFactory = _default_factory) -> None:
        self.factory = factory

    def document(self) -> dict[str, Any]:
        app = self.factory(_UNUSED_DSN, "sqlite://")
        try:
            return openapi_document(app)
        finally:
            app.state.api.close()

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        document = self.document()
        exposed = forbidden_properties(document)
        if exposed:
            # The privacy contract cannot be updated away: fix the API instead.
            raise ContractError(f"refusing to pin a forbidden field: {exposed[0]}")
        return {Path(OPENAPI_FILE): dump_json(document)}

    def owned(self, ctx: ContractContext) -> list[Path]:
        return [Path(OPENAPI_FILE)] if (ctx.contracts_dir / OPENAPI_FILE).exists() else []

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        path = ctx.contracts_dir / OPENAPI_FILE
        pinned = load_openapi(path)
        return [self._declared(path, pinned), self._observed(ctx, pinned)]

    def _declared(self, path: Path, pinned: Mapping[str, Any]) -> CheckResult:
        current = self.document()
        problems = [f"forbidden key declared: {p}" for p in forbidden_properties(current)]
        problems += diff_documents(pinned, current)
        operations = sum(len(v) for v in current.get("paths", {}).values())
        return CheckResult(
            self.name,
            f"the API's OpenAPI document equals {path.name}",
            tuple(problems),
            detail=f"{operations} operations",
        )

    def _observed(self, ctx: ContractContext, pinned: Mapping[str, Any]) -> CheckResult:
        problems, count = observe_api(pinned, ctx.database, ctx.now, self.factory)
        return CheckResult(
            self.name,
            "the API on the seeded mirror answers as the pinned document declares",
            tuple(problems),
            detail=f"{count} requests",
        )

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        if old is None:
            return ["new document"]
        if new is None:
            return ["removed"]
        before = _parse(path, old.encode("utf-8"))
        after = _parse(path, new.encode("utf-8"))
        return diff_documents(before, after) or ["formatting only"]


def iter_operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every operation in a document, sorted."""
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    for path, item in sorted(document.get("paths", {}).items()):
        for method in methods:
            if method in item:
                yield method.upper(), path


def operations(document: Mapping[str, Any]) -> Sequence[str]:
    return [f"{m} {p}" for m, p in iter_operations(document)]


register_snapshot_kind(OpenApiSnapshot())
