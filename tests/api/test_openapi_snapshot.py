"""The pinned OpenAPI document: update and check, readable diffs, and deliberate breaks that
both the snapshot check and Schemathesis must catch."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, create_model
from schemathesis.core.failures import Failure, FailureGroup

from examples.fastapi_site import serializers
from examples.fastapi_site.api import EventOutput, create_app, payment_error_lookup
from examples.fastapi_site.serializers import PublicModel
from examples.fastapi_site.source import SITE, ReferenceSite
from mirror.contracts.check import check_contracts, update_contracts
from mirror.contracts.kinds import ContractContext
from mirror.contracts.openapi import (
    OPENAPI_FILE,
    diff_documents,
    load_openapi,
    response_problems,
)
from mirror.errors import ContractError
from mirror.provision.mirror import Mirror
from mirror.sources.json_locator import dump_json
from mirror.sources.site import ApiExchange

from .conftest import schema_for


def _failures(results: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    return {r.name: r.problems for r in results if not r.ok}


def failed_checks(app: FastAPI, document: dict[str, Any], method: str, path: str) -> set[str]:
    """The Schemathesis checks that fail on one operation (positive data, 15 cases)."""
    operation = schema_for(app, document)[path][method]
    found: set[str] = set()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        try:
            case.call_and_validate()
        except FailureGroup as group:
            found.update(check for failure in group.exceptions for check in failure.checks)
        except Failure as failure:
            found.update(failure.checks)

    run()
    return found


# --------------------------------------------------------------------------- update and check


def test_committed_document_is_the_one_the_api_generates(project_root: Path) -> None:
    pinned = load_openapi(project_root / "contracts" / OPENAPI_FILE)
    assert diff_documents(pinned, dict(SITE.openapi() or {})) == []
    text = (project_root / "contracts" / OPENAPI_FILE).read_text(encoding="utf-8")
    assert text == dump_json(pinned)  # stable formatting: what update writes


def test_update_then_check_is_clean_and_a_second_update_changes_nothing(
    tmp_path: Path, billig_mirror: Mirror, project_root: Path
) -> None:
    folder = tmp_path / "contracts"
    first = update_contracts(ContractContext(folder, billig_mirror.url, site=SITE), ["openapi"])
    assert [(c.path.name, c.status, c.lines) for c in first] == [
        (OPENAPI_FILE, "added", ("new document",))
    ]
    results = check_contracts(ContractContext(folder, billig_mirror.url, site=SITE), ["openapi"])
    assert [(r.name, r.ok) for r in results] == [
        ("the API's OpenAPI document equals openapi.json", True),
        ("the API on the seeded mirror answers as the pinned document declares", True),
    ]
    again = update_contracts(ContractContext(folder, billig_mirror.url, site=SITE), ["openapi"])
    assert [c.status for c in again] == ["unchanged"]
    assert (folder / OPENAPI_FILE).read_bytes() == (
        project_root / "contracts" / OPENAPI_FILE
    ).read_bytes()


def test_update_says_what_changed_in_the_document(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    path = contracts_copy / OPENAPI_FILE
    document = json.loads(path.read_text())
    del document["components"]["schemas"]["Health"]["properties"]["site"]
    document["info"]["version"] = "0.9.0"
    path.write_text(dump_json(document))
    changes = update_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["openapi"]
    )
    assert [(c.status, c.lines) for c in changes] == [
        (
            "changed",
            (
                '+ components.schemas.Health.properties.site: {"enum": ["ok", "unreachable"], '
                '"title": "Site", "type": "string"}',
                '~ info.version: "0.9.0" → "1.0.0"',
            ),
        )
    ]


def test_missing_or_hand_broken_document_is_a_located_contract_error(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    path = contracts_copy / OPENAPI_FILE
    path.write_text('{\n  "openapi": "3.1.0",\n  "paths": {,}\n}\n')
    with pytest.raises(ContractError, match=r"openapi\.json:3:\d+"):
        check_contracts(ContractContext(contracts_copy, billig_mirror.url, site=SITE), ["openapi"])
    path.write_text('{"openapi": "3.1.0"}')
    with pytest.raises(ContractError, match="not an OpenAPI document"):
        load_openapi(path)
    path.unlink()
    with pytest.raises(ContractError, match="no pinned OpenAPI document"):
        load_openapi(path)


def test_a_forbidden_key_in_a_response_cannot_be_pinned(
    contracts_copy: Path, billig_mirror: Mirror
) -> None:
    class Owner(BaseModel):
        owner_email: str

    def leaky(*args: Any, **kwargs: Any) -> FastAPI:
        app = create_app(*args, **kwargs)
        app.get("/owner", response_model=Owner)(lambda: Owner(owner_email="x@example.org"))
        return app

    ctx = ContractContext(contracts_copy, billig_mirror.url, site=ReferenceSite(app_factory=leaky))
    with pytest.raises(ContractError, match=r"components\.schemas\.Owner\.owner_email"):
        update_contracts(ctx, ["openapi"])
    declared = check_contracts(ctx, ["openapi"])[0]
    assert "forbidden key declared: components.schemas.Owner.owner_email" in declared.problems


# --------------------------------------------------------------------------- diffs and problems


def test_diff_lines_name_paths_and_values() -> None:
    old = {"paths": {"/a/{id}": {"get": {"x": 1}}}, "list": [1, 2], "gone": True}
    new = {"paths": {"/a/{id}": {"get": {"x": 2}}}, "list": [1, 2, 3], "new": "v"}
    assert diff_documents(old, new) == [
        "+ list[2]: 3",
        '+ new: "v"',
        "- gone: true",
        '~ paths["/a/{id}"].get.x: 1 → 2',
    ]
    assert diff_documents(old, old) == []


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/thing": {
            "get": {
                "responses": {
                    "200": {
                        "headers": {"Cache-Control": {"$ref": "#/components/headers/CC"}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/T"}}
                        },
                    }
                }
            }
        }
    },
    "components": {
        "headers": {"CC": {"required": True, "schema": {"type": "string", "enum": ["no-store"]}}},
        "schemas": {
            "T": {
                "type": "object",
                "properties": {"price": {"type": "integer"}},
                "required": ["price"],
                "additionalProperties": False,
            }
        },
    },
}
_FORBIDDEN = SITE.forbidden_fields
_OK = {"content-type": "application/json", "cache-control": "no-store"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "problems"),
    [
        (200, _OK, b'{"price": 1}', []),
        (500, _OK, b"{}", ["GET /thing → 500: status 500 is not declared (declared: 200)"]),
        (200, {"content-type": "application/json"}, b'{"price": 1}', [
            "GET /thing → 200: missing header Cache-Control"
        ]),
        (200, {**_OK, "content-type": "text/html"}, b"<p>", [
            "GET /thing → 200: content type 'text/html' is not declared (application/json)"
        ]),
        (200, _OK, b'{"price": "1"}', ["GET /thing → 200: $.price: '1' is not of type 'integer'"]),
        (200, _OK, b"{}", ["GET /thing → 200: $: 'price' is a required property"]),
        (200, _OK, b'{"price": 1, "num_sold": 2}', [
            "GET /thing → 200: $: Additional properties are not allowed "
            "('num_sold' was unexpected)",
            "GET /thing → 200: $.num_sold: forbidden key in output (never public)",
        ]),
    ],
)  # fmt: skip
def test_response_problems_say_where_a_response_departs_from_the_document(
    status: int, headers: dict[str, str], body: bytes, problems: list[str]
) -> None:
    exchange = ApiExchange("GET", "/thing", "GET /thing", status, headers, body)
    assert response_problems(_DOCUMENT, exchange, _FORBIDDEN) == problems


# --------------------------------------------------------------------------- deliberate breaks


def _rebuilt(model: type[BaseModel], drop: str = "", **annotations: Any) -> type[BaseModel]:
    """``model`` as if someone edited it: one field removed, nested types replaced."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name != drop:
            fields[name] = (annotations.get(name, info.annotation), info)
    built: type[BaseModel] = create_model(model.__name__, __base__=PublicModel, **fields)
    return built


def _without_price(billig: dict[str, Any] | None) -> dict[str, Any] | None:
    """A serialized Billig event as it would be without ``price`` in its price groups."""
    if billig is None:
        return None
    groups = [
        {
            **g,
            "price_groups": [
                {k: v for k, v in p.items() if k != "price"} for p in g["price_groups"]
            ],
        }
        for g in billig["ticket_groups"]
    ]
    return {**billig, "ticket_groups": groups}


@pytest.fixture
def price_dropped() -> EventOutput:
    """The event endpoints' output after someone removed ``price`` from PriceGroup."""
    price_group = _rebuilt(serializers.PriceGroup, drop="price")
    ticket_group = _rebuilt(serializers.TicketGroup, price_groups=list[price_group])  # type: ignore[valid-type]
    billig_event = _rebuilt(serializers.BilligEvent, ticket_groups=list[ticket_group])  # type: ignore[valid-type]
    event = _rebuilt(serializers.Event, billig=billig_event | None)

    def billig_output(shown: BaseModel) -> BaseModel:
        return billig_event.model_validate(_without_price(shown.model_dump()))

    def event_output(shown: BaseModel) -> BaseModel:
        dumped = shown.model_dump()
        return event.model_validate({**dumped, "billig": _without_price(dumped["billig"])})

    return EventOutput(
        event=event,
        billig_event=billig_event,
        serialize_events=lambda session, rows, now: [
            event_output(e) for e in serializers.serialize_events(session, rows, now)
        ],
        serialize_billig_events=lambda session, rows, now: [
            billig_output(e) for e in serializers.serialize_billig_events(session, rows, now)
        ],
        serialize_billig_event=lambda row, now: billig_output(
            serializers.serialize_billig_event(row, now)
        ),
    )


def test_a_serializer_that_drops_a_field_fails_the_snapshot_check_and_schemathesis(
    price_dropped: EventOutput,
    contracts_copy: Path,
    billig_mirror: Mirror,
    api_site_url: str,
    api_now: Any,
    pinned_openapi: dict[str, Any],
) -> None:
    site = ReferenceSite(app_factory=partial(create_app, output=price_dropped))
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=site), ["openapi"]
    )
    failures = _failures(results)
    declared = failures["the API's OpenAPI document equals openapi.json"]
    assert (
        '- components.schemas.PriceGroup.properties.price: {"title": "Price", "type": "integer"}'
        in declared
    )
    observed = failures["the API on the seeded mirror answers as the pinned document declares"]
    assert any(
        p.startswith(
            "GET /billig/events?limit=100 → 200: $.items[0].ticket_groups[0].price_groups[0]"
        )
        and p.endswith("'price' is a required property")
        for p in observed
    ), observed

    app = create_app(billig_mirror.url, api_site_url, now=api_now, output=price_dropped)
    try:
        found = failed_checks(app, pinned_openapi, "GET", "/billig/events")
    finally:
        app.state.api.close()
    assert "response_schema_conformance" in found


def _with_a_broken_lookup(*args: Any, **kwargs: Any) -> FastAPI:
    """The app with a bug in its payment-error lookup."""

    def broken(session: Any, bsession: str | None) -> Any:
        raise RuntimeError("a bug in the payment-error lookup")

    app = create_app(*args, **kwargs)
    app.dependency_overrides[payment_error_lookup] = lambda: broken
    return app


def test_an_endpoint_that_raises_fails_the_snapshot_check_and_schemathesis(
    contracts_copy: Path,
    billig_mirror: Mirror,
    api_site_url: str,
    api_now: Any,
    pinned_openapi: dict[str, Any],
) -> None:
    site = ReferenceSite(app_factory=_with_a_broken_lookup)
    results = check_contracts(
        ContractContext(contracts_copy, billig_mirror.url, site=site), ["openapi"]
    )
    failures = _failures(results)
    assert list(failures) == [
        "the API on the seeded mirror answers as the pinned document declares"
    ]
    problems = failures["the API on the seeded mirror answers as the pinned document declares"]
    assert problems[0].startswith(
        "GET /payment-errors?bsession=no-such-session → 500: status 500 is not declared"
    )
    assert all(p.startswith("GET /payment-errors?") for p in problems)

    app = _with_a_broken_lookup(billig_mirror.url, api_site_url, now=api_now)
    try:
        found = failed_checks(app, pinned_openapi, "GET", "/payment-errors")
    finally:
        app.state.api.close()
    assert "not_a_server_error" in found
