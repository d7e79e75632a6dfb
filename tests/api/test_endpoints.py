"""What each endpoint answers on the seeded mirror: lists, details, the payment form and its
validation, payment errors, tickets, health; and that lists prefetch (one query per level)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.api import ENDPOINT_SERIALIZERS, create_app
from examples.fastapi_site.lineage import billig_lineage
from examples.fastapi_site.payment import DEFAULT_PAY_URL
from examples.fastapi_site.routing import create_billig_engine
from examples.fastapi_site.tickets import DEFAULT_TICKET_URL
from mirror.catalog.model import ColumnRef
from mirror.contracts.openapi import operations
from mirror.provision.mirror import Mirror
from mirror.provision.seed import EVENT_ID_BASE, SCENARIOS

from .conftest import TestClient


def scenario(name: str) -> int:
    """The Billig event id of one of the seed's fixed scenarios."""
    return EVENT_ID_BASE + SCENARIOS.index(name)


def paper(*tickets: tuple[int, int]) -> dict[str, Any]:
    return {
        "ticket_type": "paper",
        "email": "buyer@example.org",
        "tickets": [{"price_group": pg, "count": n} for pg, n in tickets],
    }


def first_netsale_price_group(client: TestClient, event_id: int) -> int:
    form = client.get(f"/billig/events/{event_id}/payment-form").json()
    price_group: int = form["ticket_groups"][0]["price_groups"][0]["id"]
    return price_group


@pytest.fixture
def billig_reader(billig_engine: Engine) -> Iterator[Session]:
    with Session(billig_engine) as session:
        yield session


# --------------------------------------------------------------------------- meta


def test_health_says_both_databases_answer(client: TestClient) -> None:
    response = client.get("/health")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "billig": "ok", "site": "ok"},
    )
    assert response.headers["cache-control"] == "no-store"


def test_health_is_503_when_billig_does_not_answer(api_site_url: str) -> None:
    app = create_app("postgresql+psycopg2://nobody:secret@127.0.0.1:1/billig", api_site_url)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            health = client.get("/health")
            listing = client.get("/billig/events")
    finally:
        app.state.api.close()
    assert (health.status_code, health.json()) == (
        503,
        {"status": "unavailable", "billig": "unreachable", "site": "ok"},
    )
    assert listing.status_code == 503
    assert listing.json() == {
        "error": "unavailable",
        "message": "a database did not answer",
        "reasons": {},
    }
    assert "secret" not in health.text + listing.text


def test_every_route_is_documented_and_named_for_lineage(api_app: FastAPI) -> None:
    assert sorted(operations(api_app.openapi())) == sorted(ENDPOINT_SERIALIZERS)


def test_lineage_names_the_endpoints_that_read_a_column() -> None:
    price = billig_lineage()[ColumnRef("billig", "price_group", "price")].endpoints
    assert {
        "GET /events",
        "GET /billig/events",
        "GET /billig/events/{event_id}/payment-form",
        "POST /billig/events/{event_id}/payment",
        "GET /tickets",
    } <= set(price)
    message = billig_lineage()[ColumnRef("billig", "payment_error", "message")]
    assert message.endpoints == ("GET /payment-errors",)
    assert billig_lineage()[ColumnRef("billig", "purchase", "owner_email")].endpoints == ()


# --------------------------------------------------------------------------- site events


def test_site_events_page_in_start_order_with_the_next_offset(client: TestClient) -> None:
    first = client.get("/events", params={"limit": 4}).json()
    total = first["total"]
    assert total >= 10
    assert (first["limit"], first["offset"], first["next_offset"]) == (4, 0, 4)
    assert len(first["items"]) == 4
    everything = client.get("/events", params={"limit": 100}).json()["items"]
    starts = [(e["start_dt"], e["id"]) for e in everything]
    assert starts == sorted(starts)
    assert [e["id"] for e in first["items"]] == [e["id"] for e in everything[:4]]
    last = client.get("/events", params={"limit": 4, "offset": total - 1}).json()
    assert (len(last["items"]), last["next_offset"]) == (1, None)
    beyond = client.get("/events", params={"offset": total + 5}).json()
    assert (beyond["items"], beyond["total"], beyond["next_offset"]) == ([], total, None)


def test_site_events_nest_their_billig_event_or_null(client: TestClient) -> None:
    items = client.get("/events", params={"limit": 100}).json()["items"]
    by_type: dict[str, list[Any]] = {}
    for item in items:
        by_type.setdefault(item["ticket_type"], []).append(item["billig"])
    assert all(b is None for b in by_type["free"])
    assert any(b is not None and b["ticket_groups"] for b in by_type["billig"])
    assert None in by_type["billig"]  # a billig_id Billig does not have
    assert "billig_id" not in items[0]


def test_site_event_detail_and_unknown_id(client: TestClient) -> None:
    listed = client.get("/events", params={"limit": 1}).json()["items"][0]
    assert client.get(f"/events/{listed['id']}").json() == listed
    missing = client.get("/events/999999")
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "error": "not_found",
            "message": "no such event",
            "reasons": {"event_id": "no event 999999"},
        },
    )


@pytest.fixture
def counted_app(
    billig_mirror: Mirror, api_site_url: str, api_now: datetime
) -> Iterator[tuple[TestClient, list[str]]]:
    engine = create_billig_engine(billig_mirror.url)
    statements: list[str] = []

    def log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", log)
    app = create_app(engine, api_site_url, now=api_now)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, statements
    finally:
        app.state.api.close()
        engine.dispose()


@pytest.mark.parametrize("path", ["/events", "/billig/events"])
def test_lists_read_billig_with_one_query_per_level_whatever_the_page_size(
    counted_app: tuple[TestClient, list[str]], path: str
) -> None:
    client, statements = counted_app
    counts = []
    for limit in (1, 10, 100):
        statements.clear()
        assert client.get(path, params={"limit": limit}).status_code == 200
        counts.append(len(statements))
    # Events, ticket groups, price groups (and the count of relevant events for Billig's list).
    assert counts == [counts[0]] * 3
    assert counts[0] <= 4


# --------------------------------------------------------------------------- billig events


def test_billig_events_are_the_relevant_ones(client: TestClient) -> None:
    page = client.get("/billig/events", params={"limit": 100}).json()
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids) and page["total"] == len(ids)
    assert scenario("on_sale") in ids and scenario("recently_ended") in ids
    assert scenario("hidden") not in ids and scenario("long_past") not in ids


def test_billig_event_detail_is_the_listed_event(client: TestClient) -> None:
    listed = client.get("/billig/events", params={"limit": 1}).json()["items"][0]
    assert client.get(f"/billig/events/{listed['id']}").json() == listed
    sold_out = client.get(f"/billig/events/{scenario('sold_out')}").json()
    assert sold_out["is_sold_out"] is True
    assert client.get("/billig/events/999999").status_code == 404


# --------------------------------------------------------------------------- payment


def test_payment_form_offers_netsale_price_groups_with_their_limits(client: TestClient) -> None:
    event_id = scenario("limits_and_non_netsale")
    form = client.get(f"/billig/events/{event_id}/payment-form").json()
    assert form["event_id"] == event_id
    assert form["pay_url"] == DEFAULT_PAY_URL
    offered = [pg for group in form["ticket_groups"] for pg in group["price_groups"]]
    assert offered and all(pg["min_count"] == 0 and pg["max_count"] == 9 for pg in offered)
    assert all(pg["input_name"] == f"price_{pg['id']}_count" for pg in offered)
    detail = client.get(f"/billig/events/{event_id}").json()
    netsale = [
        pg["id"] for g in detail["ticket_groups"] for pg in g["price_groups"] if pg["netsale"]
    ]
    assert [pg["id"] for pg in offered] == netsale
    assert len(netsale) < sum(len(g["price_groups"]) for g in detail["ticket_groups"])
    assert client.get("/billig/events/999999/payment-form").status_code == 404


def test_a_valid_selection_gives_exactly_the_fields_billig_expects(client: TestClient) -> None:
    event_id = scenario("on_sale")
    price_group = first_netsale_price_group(client, event_id)
    response = client.post(f"/billig/events/{event_id}/payment", json=paper((price_group, 2)))
    assert (response.status_code, response.json()) == (
        200,
        {
            "action": DEFAULT_PAY_URL,
            "fields": {
                f"price_{price_group}_count": "2",
                "ticket_type": "paper",
                "email": "buyer@example.org",
            },
        },
    )
    card = {"ticket_type": "card", "membercard": "10000000001", "tickets": [
        {"price_group": price_group, "count": 1}
    ]}  # fmt: skip
    on_card = client.post(f"/billig/events/{event_id}/payment", json=card)
    if on_card.status_code == 200:
        assert on_card.json()["fields"]["membercard"] == "10000000001"
        assert "email" not in on_card.json()["fields"]
    else:  # this price group cannot be put on a card: a reason for that field
        assert on_card.json()["reasons"] == {
            f"price_{price_group}_count": "this price group cannot be put on a card; choose paper"
        }


@pytest.mark.parametrize(
    ("scenario_name", "count", "reasons"),
    [
        ("on_sale", 99, lambda pg, n: {f"price_{pg}_count": f"count must be between 0 and {n}"}),
        ("sold_out", 1, lambda pg, limit: {f"price_{pg}_count": "sold out", "event": "sold out"}),
        ("future", 1, lambda pg, limit: {"event": "not in sale period"}),
    ],
)  # fmt: skip
def test_a_selection_the_event_cannot_satisfy_is_409_with_a_reason_per_field(
    client: TestClient, scenario_name: str, count: int, reasons: Any
) -> None:
    event_id = scenario(scenario_name)
    form = client.get(f"/billig/events/{event_id}/payment-form").json()
    price_group = form["ticket_groups"][0]["price_groups"][0]
    response = client.post(
        f"/billig/events/{event_id}/payment", json=paper((price_group["id"], count))
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["message"]) == ("invalid_selection", "invalid selection")
    expected = reasons(price_group["id"], price_group["max_count"])
    assert {k: body["reasons"][k] for k in expected} == expected


def test_unknown_or_repeated_price_groups_are_409(client: TestClient) -> None:
    event_id = scenario("on_sale")
    price_group = first_netsale_price_group(client, event_id)
    unknown = client.post(f"/billig/events/{event_id}/payment", json=paper((1, 1)))
    assert (unknown.status_code, unknown.json()["reasons"]) == (
        409,
        {"price_1_count": "unknown price group for this event"},
    )
    twice = client.post(
        f"/billig/events/{event_id}/payment", json=paper((price_group, 1), (price_group, 2))
    )
    assert (twice.status_code, twice.json()["reasons"]) == (
        409,
        {"tickets[1]": f"price group {price_group} listed twice"},
    )


def test_a_selection_that_does_not_match_the_document_is_422_with_reasons(
    client: TestClient,
) -> None:
    event_id = scenario("on_sale")
    mixed = {**paper((1, 1)), "membercard": "123"}
    response = client.post(f"/billig/events/{event_id}/payment", json=mixed)
    assert response.status_code == 422
    assert response.json()["reasons"] == {"body.paper.membercard": "Extra inputs are not permitted"}
    no_tickets = client.post(f"/billig/events/{event_id}/payment", json=paper())
    assert list(no_tickets.json()["reasons"]) == ["body.paper.tickets"]
    bad_email = {**paper((1, 1)), "email": "not an address"}
    assert client.post(f"/billig/events/{event_id}/payment", json=bad_email).json()["reasons"] == {
        "body.paper.email": "must be an e-mail address"
    }


def test_pay_and_ticket_urls_are_configuration(
    billig_mirror: Mirror, api_site_url: str, api_now: datetime, purchases: list[Any]
) -> None:
    app = create_app(
        billig_mirror.url,
        api_site_url,
        now=api_now,
        pay_url="https://pay.test/pay",
        ticket_url="https://pdf.test/t?",
    )
    try:
        with TestClient(app) as client:
            form = client.get(f"/billig/events/{scenario('on_sale')}/payment-form").json()
            assert form["pay_url"] == "https://pay.test/pay"
            refs = next(p for p in purchases if p.shown and len(p.tickets) == 1).refs()
            ticket = client.get("/tickets", params={"ref": refs}).json()
            assert ticket["pdf_url"] == f"https://pdf.test/t?ticket0={refs[0]}"
    finally:
        app.state.api.close()


# --------------------------------------------------------------------------- payment errors


def _error_keys(session: Session) -> tuple[str, str]:
    rows = orm.BilligPaymentErrorPriceGroup
    with_rows = session.scalar(select(rows.error).limit(1))
    without = session.scalar(
        select(orm.BilligPaymentError.error).where(
            orm.BilligPaymentError.error.not_in(select(rows.error))
        )
    )
    assert with_rows and without
    return with_rows, without


def test_payment_errors_have_three_outcomes(client: TestClient, billig_reader: Session) -> None:
    refill_key, message_key = _error_keys(billig_reader)
    unknown = client.get("/payment-errors", params={"bsession": "no-such-session"}).json()
    assert (unknown["kind"], unknown["event_id"], unknown["counts"]) == ("unknown", None, [])
    message = client.get("/payment-errors", params={"bsession": message_key}).json()
    assert (message["kind"], message["counts"]) == ("message", [])
    refill = client.get("/payment-errors", params={"bsession": refill_key}).json()
    assert refill["kind"] == "refill" and refill["event_id"] is not None
    assert refill["counts"] and all(
        c["input_name"] == f"price_{c['price_group_id']}_count" for c in refill["counts"]
    )
    missing = client.get("/payment-errors")
    assert (missing.status_code, missing.json()["reasons"]) == (
        422,
        {"query.bsession": "Field required"},
    )


# --------------------------------------------------------------------------- tickets


def test_tickets_are_described_and_linked_in_order(
    client: TestClient, billig_reader: Session, purchases: list[Any]
) -> None:
    purchase = next(p for p in purchases if p.shown and len(p.tickets) >= 3)
    ids = list(reversed(purchase.tickets))  # any order: described in the order asked
    refs = [f"{ticket}{i}1234" for i, ticket in enumerate(ids)]
    response = client.get("/tickets", params={"ref": refs})
    assert response.status_code == 200
    body = response.json()
    assert body["pdf_url"] == DEFAULT_TICKET_URL + "&".join(
        f"ticket{i}={ref}" for i, ref in enumerate(refs)
    )
    assert [t["reference"] for t in body["tickets"]] == refs
    assert [t["ticket_id"] for t in body["tickets"]] == ids
    price = billig_reader.scalar(
        text(
            "SELECT pg.price FROM billig.ticket t JOIN billig.price_group pg USING (price_group) "
            "WHERE t.ticket = :id"
        ),
        {"id": ids[0]},
    )
    assert body["tickets"][0]["price"] == price


def test_the_documented_example_is_a_complete_purchase(
    client: TestClient, pinned_openapi: dict[str, Any]
) -> None:
    (parameter,) = pinned_openapi["paths"]["/tickets"]["get"]["parameters"]
    (example,) = parameter["schema"]["examples"]
    assert client.get("/tickets", params={"ref": example}).status_code == 200
