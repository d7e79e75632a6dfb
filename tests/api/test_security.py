"""Security of the API: no owner data, bounded and typed input, 4xx JSON for anything a client
sends wrong, no echo of what was sent, and a Billig connection that cannot write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.api import MAX_BODY_BYTES
from examples.fastapi_site.serializers import find_forbidden

from .conftest import TestClient


@pytest.fixture
def billig_reader(billig_engine: Engine) -> Iterator[Session]:
    with Session(billig_engine) as session:
        yield session


def assert_json_error(response: object, status: int | tuple[int, ...]) -> dict[str, object]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "message", "reasons"}
    return body


# --------------------------------------------------------------------------- owner data


def test_ticket_responses_never_reveal_owners_or_cards(
    client: TestClient, billig_reader: Session, purchases: list[Any]
) -> None:
    emails = set(billig_reader.scalars(select(orm.BilligPurchase.owner_email))) - {None}
    cards = {str(c) for c in billig_reader.scalars(select(orm.BilligTicketCard.card))}
    assert emails and cards
    shown = [p for p in purchases if p.shown]
    assert len(shown) > 50
    for purchase in shown:
        response = client.get("/tickets", params={"ref": purchase.refs("00000")})
        assert response.status_code == 200
        body = response.json()
        assert find_forbidden(body) == []
        assert not any(email in response.text for email in emails)
        assert not any(card in response.text for card in cards)
        assert [t["ticket_id"] for t in body["tickets"]] == list(purchase.tickets)
        for ticket in body["tickets"]:
            assert set(ticket) == {
                "reference", "ticket_id", "price_group", "price", "event_id", "event_name",
                "event_time", "on_card",
            }  # fmt: skip


# --------------------------------------------------------------------------- enumeration

NOT_FOUND = {
    "error": "not_found",
    "message": "no such purchase",
    "reasons": {"ref": "not the complete ticket set of one purchase"},
}


def test_sweeping_ticket_ids_reveals_no_ticket(client: TestClient, purchases: list[Any]) -> None:
    # The attack that listed every seeded ticket: all ids, as many references as allowed.
    ids = sorted(t for p in purchases for t in p.tickets)
    span = range(ids[0] - 50, ids[-1] + 50)
    answers = [
        client.get("/tickets", params={"ref": [f"{i}00000" for i in span[start : start + 100]]})
        for start in range(0, len(span), 100)
    ]
    assert len(answers) > 3
    assert [(a.status_code, a.json()) for a in answers] == [(404, NOT_FOUND)] * len(answers)


def _not_one_purchase(purchases: list[Any]) -> dict[str, list[str]]:
    shown = [p for p in purchases if p.shown]
    several = next(p for p in shown if len(p.tickets) > 1)
    first, second = shown[0], shown[1]
    hidden = next(p for p in purchases if not p.shown)
    return {
        "one ticket left out": several.refs()[:-1],
        "a ticket of another purchase added": several.refs() + first.refs()[:1],
        "two complete purchases": first.refs() + second.refs(),
        "a ticket that does not exist": [*first.refs(), "99999912345"],
        "one ticket twice": first.refs() + first.refs("11111")[:1],
        "a purchase for a hidden event": hidden.refs(),
    }


def test_anything_but_one_complete_purchase_is_the_same_404(
    client: TestClient, purchases: list[Any]
) -> None:
    for case, refs in _not_one_purchase(purchases).items():
        response = client.get("/tickets", params={"ref": refs})
        assert (response.status_code, response.json()) == (404, NOT_FOUND), case


def test_payment_error_responses_never_reveal_the_failed_buyer(
    client: TestClient, billig_reader: Session
) -> None:
    rows = billig_reader.execute(
        select(
            orm.BilligPaymentError.error,
            orm.BilligPaymentError.owner_cardno,
            orm.BilligPaymentError.owner_email,
        )
    ).all()
    assert any(card for _, card, _ in rows) and any(email for _, _, email in rows)
    for key, card, email in rows:
        response = client.get("/payment-errors", params={"bsession": key})
        assert response.status_code == 200
        assert find_forbidden(response.json()) == []
        for secret in (card, email, key):
            assert not secret or secret not in response.text


def test_no_documented_response_can_carry_a_forbidden_key(api_app: FastAPI) -> None:
    from examples.fastapi_site.source import SITE
    from mirror.contracts.openapi import forbidden_properties

    assert forbidden_properties(api_app.openapi(), SITE.forbidden_fields) == []


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/events", {"limit": "10" * 40}, None),
        ("GET", "/events", {"limit": "-1"}, None),
        ("GET", "/events", {"offset": "1e9"}, None),
        ("GET", "/events/" + "9" * 400, None, None),
        ("GET", "/events/1.5", None, None),
        ("GET", "/billig/events/-3", None, None),
        ("GET", "/billig/events/2147483648", None, None),
        ("GET", "/billig/events/NaN/payment-form", None, None),
        ("GET", "/payment-errors", {"bsession": "k" * 10_000}, None),
        ("GET", "/payment-errors", {"bsession": ""}, None),
        ("GET", "/tickets", {"ref": ["1000010000"] * 101}, None),
        ("GET", "/tickets", {"ref": ["0000100000"]}, None),
        ("GET", "/tickets", {"ref": ["214748364800000"]}, None),
        ("GET", "/tickets", {"ref": ["１２３４５６７"]}, None),
        ("GET", "/tickets", {}, None),
        ("POST", "/billig/events/1000/payment", None, {"ticket_type": "card"}),
        ("POST", "/billig/events/1000/payment", None, {"ticket_type": "bus", "tickets": []}),
        ("POST", "/billig/events/1000/payment", None, [1, 2, 3]),
        ("POST", "/billig/events/1000/payment", None, "paper"),
        ("POST", "/billig/events/1000/payment", None, None),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "paper", "email": "a@b.no",
            "tickets": [{"price_group": "5001", "count": 1}],
        }),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "paper", "email": "a@b.no",
            "tickets": [{"price_group": 5001, "count": True}],
        }),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "paper", "email": "a@b.no",
            "tickets": [{"price_group": 5001, "count": 1.5}],
        }),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "paper", "email": "a@b.no",
            "tickets": [{"price_group": 5001, "count": 1}] * 51,
        }),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "card", "membercard": "1" * 20,
            "tickets": [{"price_group": 5001, "count": 1}],
        }),
        ("POST", "/billig/events/1000/payment", None, {
            "ticket_type": "paper", "email": "a" * 250 + "@b.no",
            "tickets": [{"price_group": 5001, "count": 1}],
        }),
    ],
)  # fmt: skip
def test_malformed_input_is_a_422_json_error(
    client: TestClient, method: str, path: str, params: dict[str, object] | None, body: object
) -> None:
    response = client.request(method, path, params=params, json=body)
    reasons = assert_json_error(response, 422)["reasons"]
    assert reasons  # says which field and why


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"ticket_type": "paper"' + b" " * 100 + b"}", "text/plain"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),
        (b'{"ticket_type": NaN}', "application/json"),
    ],
)
def test_bodies_that_are_not_json_objects_are_422(
    client: TestClient, content: bytes, content_type: str
) -> None:
    response = client.post(
        "/billig/events/1000/payment", content=content, headers={"content-type": content_type}
    )
    assert_json_error(response, 422)


def test_a_huge_body_is_refused_with_413_before_it_is_read(client: TestClient) -> None:
    huge = json.dumps(
        {"ticket_type": "paper", "email": "a@b.no", "pad": "x" * (MAX_BODY_BYTES * 64)}
    )
    response = client.post(
        "/billig/events/1000/payment", content=huge, headers={"content-type": "application/json"}
    )
    body = assert_json_error(response, 413)
    assert body["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"pad": "'
        for _ in range(64):
            yield b"x" * MAX_BODY_BYTES
        yield b'"}'

    streamed = client.post(
        "/billig/events/1000/payment",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert assert_json_error(streamed, 413)["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "path",
    [
        "/events/2147483647",
        "/billig/events/2147483647",
        "/billig/events/1/payment-form",
        "/nowhere",
        "/events/",
    ],
)
def test_unknown_ids_and_paths_are_404_json(client: TestClient, path: str) -> None:
    assert assert_json_error(client.get(path), 404)["error"] == "not_found"


def test_an_undocumented_method_is_405_json_with_allow(client: TestClient) -> None:
    response = client.delete("/billig/events/1000")
    assert assert_json_error(response, 405)["error"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_errors_never_echo_what_was_sent(client: TestClient) -> None:
    secret = "7" * 25
    sent = [
        client.get("/payment-errors", params={"bsession": "s3cr3t-" + "q" * 70}),
        client.get("/tickets", params={"ref": [secret]}),
        client.post(
            "/billig/events/1000/payment",
            json={"ticket_type": "card", "membercard": secret, "tickets": []},
        ),
        client.post(
            "/billig/events/1000/payment",
            json={"ticket_type": "paper", "email": f"{secret}@x", "tickets": []},
        ),
    ]
    for response in sent:
        assert_json_error(response, 422)
        assert secret not in response.text and "s3cr3t" not in response.text


def test_every_response_says_not_to_cache(client: TestClient) -> None:
    for response in (
        client.get("/health"),
        client.get("/tickets"),
        client.get("/nowhere"),
        client.post("/billig/events/1000/payment", content=b"x" * (MAX_BODY_BYTES + 1)),
    ):
        assert response.headers["cache-control"] == "no-store"


# --------------------------------------------------------------------------- read-only Billig


def test_the_api_cannot_write_to_billig(api_app: FastAPI) -> None:
    engine = api_app.state.api.billig_engine
    with engine.connect() as conn, pytest.raises(DBAPIError, match="read-only transaction"):
        conn.execute(text("UPDATE billig.ticket_group SET num_sold = 0"))
    with api_app.state.api.session() as session, pytest.raises(DBAPIError, match="read-only"):
        session.execute(
            text("DELETE FROM billig.ticket"), bind_arguments={"mapper": orm.BilligTicket}
        )
