"""What the API shows and what it does not: a hidden Billig event is not found anywhere the site
shows events, and only the pinned document is served (no interactive pages by default)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine

from examples.fastapi_site.api import create_app
from examples.fastapi_site.seed import seed_site
from mirror.provision.mirror import Mirror
from mirror.provision.providers import connect_url
from mirror.provision.seed import EVENT_ID_BASE, SCENARIOS

from .conftest import TestClient

HIDDEN = EVENT_ID_BASE + SCENARIOS.index("hidden")
NOT_FOUND = {
    "error": "not_found",
    "message": "no such Billig event",
    "reasons": {"event_id": f"no Billig event {HIDDEN}"},
}


@pytest.fixture
def hidden_site(tmp_path: Path, api_now: datetime) -> str:
    """A site database whose events all sell through the hidden Billig event."""
    url = f"sqlite:///{tmp_path / 'hidden.sqlite3'}"
    engine = create_engine(url)
    try:
        seed_site(engine, [HIDDEN], seed=3, events=12, now=api_now)
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def app_client(billig: URL, site: str, now: datetime, **options: Any) -> Iterator[TestClient]:
    app = create_app(billig, site, now=now, **options)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.api.close()


def test_the_hidden_scenario_is_hidden_in_the_mirror(billig_engine: Engine) -> None:
    with billig_engine.connect() as conn:
        assert conn.scalar(text(f"SELECT hidden FROM billig.event_lim_web WHERE event = {HIDDEN}"))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/billig/events/{HIDDEN}", None),
        ("GET", f"/billig/events/{HIDDEN}/payment-form", None),
        (
            "POST",
            f"/billig/events/{HIDDEN}/payment",
            {
                "ticket_type": "paper",
                "email": "a@b.no",
                "tickets": [{"price_group": 1, "count": 1}],
            },
        ),
    ],
)
def test_a_hidden_event_is_not_found_by_id(
    client: TestClient, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_site_events_of_a_hidden_event_carry_no_billig_data(
    billig_mirror: Mirror, hidden_site: str, api_now: datetime
) -> None:
    with app_client(billig_mirror.url, hidden_site, api_now) as client:
        page = client.get("/events", params={"limit": 100}).json()
        sold = [e for e in page["items"] if e["ticket_type"] == "billig"]
        assert sold and all(e["billig"] is None for e in sold)
        for event in sold:
            detail = client.get(f"/events/{event['id']}")
            assert detail.status_code == 200 and detail.json()["billig"] is None


def test_a_payment_error_of_a_hidden_event_refills_nothing(
    billig_mirror: Mirror, billig_database: URL, api_site_url: str, api_now: datetime
) -> None:
    with contextlib.closing(connect_url(billig_database)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO billig.payment_error (error, message) VALUES ('hidden-err', 'Avvist.');"
            "INSERT INTO billig.payment_error_price_group (error, price_group, number_of_tickets)"
            " SELECT 'hidden-err', pg.price_group, 1 FROM billig.price_group AS pg"
            " JOIN billig.ticket_group AS tg USING (ticket_group) WHERE tg.event = %s",
            (HIDDEN,),
        )
        assert cur.rowcount > 0
        conn.commit()
    with app_client(billig_database, api_site_url, api_now) as client:
        outcome = client.get("/payment-errors", params={"bsession": "hidden-err"}).json()
    assert outcome == {"kind": "message", "message": "Avvist.", "event_id": None, "counts": []}


# --------------------------------------------------------------------------- served documents


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_interactive_pages_are_off_by_default(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


def test_interactive_pages_are_served_when_asked_for_and_stay_out_of_the_document(
    billig_mirror: Mirror, api_site_url: str, api_now: datetime, api_app: FastAPI
) -> None:
    with app_client(billig_mirror.url, api_site_url, api_now, docs=True) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200
        assert client.get("/openapi.json").json() == api_app.openapi()


def test_the_served_document_is_the_pinned_one(
    client: TestClient, pinned_openapi: dict[str, Any]
) -> None:
    assert client.get("/openapi.json").json() == pinned_openapi
