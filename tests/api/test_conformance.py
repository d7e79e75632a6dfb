"""Schemathesis drives the API in-process from the pinned document, ``contracts/openapi.json``.

The document is the pinned one, not the one the app serves, so a code change the contract does
not allow fails here. Every built-in check runs and none is excluded (see
``test_every_built_in_check_is_enabled``): not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance, response_headers_conformance,
negative_data_rejection, positive_data_acceptance, missing_required_header, unsupported_method,
allow_header_conformance, use_after_free, ensure_resource_availability, ignored_auth and
object_level_authorization. Data is generated in positive and negative mode, in the examples,
coverage and fuzzing phases (``MAX_EXAMPLES`` fuzzed cases per operation), and the stateful test
follows the document's links (event list → detail → payment form → payment).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

DOCUMENT = Path(__file__).resolve().parents[2] / "contracts" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("BILLIG_API_MAX_EXAMPLES", "300"))
STATEFUL_EXAMPLES = int(os.environ.get("BILLIG_API_STATEFUL_EXAMPLES", "60"))

BUILT_IN_CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
}
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The app is real (a database behind every request); speed is not what is being tested.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


class _AppSlot:
    """The ASGI app Schemathesis calls: the schema is built at import, the app by a fixture."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


_slot = _AppSlot()
schema = schemathesis.openapi.from_path(DOCUMENT)
schema.app = _slot
_cases: Counter[str] = Counter()


def _takes_input(method: str, path: str) -> bool:
    operation = schema.raw_schema["paths"][path][method.lower()]
    return bool(operation.get("parameters") or operation.get("requestBody"))


@pytest.fixture(autouse=True)
def _serve(api_app: FastAPI, request: pytest.FixtureRequest) -> Any:
    _slot.target = api_app
    _cases.clear()
    yield
    label = request.node.name.partition("[")[2].rstrip("]")
    if label and " " in label and _takes_input(*label.split(" ", 1)):
        # An operation with inputs gets at least MAX_EXAMPLES generated cases; one without any
        # (GET /health) has only a handful of distinct requests to make.
        assert _cases[label] >= MAX_EXAMPLES, f"{label}: only {_cases[label]} cases ran"


@schema.parametrize()
@SETTINGS
def test_api_conforms_to_the_pinned_document(case: Any) -> None:
    _cases[f"{case.method.upper()} {case.path}"] += 1
    case.call_and_validate()


def test_every_built_in_check_is_enabled() -> None:
    load_all_checks()
    names = {c.__name__ for c in CHECKS.get_all() if not isinstance(c, type)}
    assert names >= BUILT_IN_CHECKS
    disabled = {n for n in names if not schema.config.checks.get_by_name(name=n).enabled}
    assert disabled == set()
    modes = {m.value for m in schema.config.generation.modes}
    assert modes == {"positive", "negative"}
    phases = schema.config.phases
    assert phases.examples.enabled and phases.coverage.enabled and phases.fuzzing.enabled
    assert phases.stateful.enabled


def test_stateful_workflows_follow_the_documents_links(api_app: FastAPI) -> None:
    calls: Counter[tuple[str, int]] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: Any) -> None:
            label = case.operation.label
            if isinstance(case.body, dict) and case.body.get("email") == "buyer@example.org":
                label += " (Buy link)"  # the body the payment form's link builds
            calls[(label, response.status_code)] += 1

    Workflow.run(
        settings=settings(
            SETTINGS,
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=8,
            # Reproducible walks: the same seeded mirror gives the same sequences every run.
            derandomize=True,
        )
    )
    # The links carry real ids: details and forms are found, and a form's own first price
    # group is posted back (accepted, or refused for this event's stock or sale period).
    assert calls[("GET /billig/events/{event_id}", 200)] > 0
    assert calls[("GET /billig/events/{event_id}/payment-form", 200)] > 0
    assert calls[("GET /events/{event_id}", 200)] > 0
    bought = {status for (label, status) in calls if label.endswith("(Buy link)")}
    assert bought & {200, 409}, calls
