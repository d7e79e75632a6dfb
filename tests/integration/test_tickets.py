"""Ticket references, the PDF link, and ticket descriptions without owner data."""

from __future__ import annotations

import re
from typing import Any

import pytest

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.routing import RoutedSession
from examples.fastapi_site.serializers import to_json
from examples.fastapi_site.tickets import (
    DEFAULT_TICKET_URL,
    NOT_ONE_PURCHASE,
    TICKET_URL_ENV,
    TicketRef,
    TicketReferenceError,
    TicketsNotFound,
    describe_tickets,
    parse_ticket_refs,
    pdf_url,
    purchase_tickets,
)
from mirror.errors import UsageError

# ``purchases`` (tests/conftest.py): each seeded purchase with its complete ticket set.
Purchase = Any


@pytest.mark.parametrize(
    ("references", "ticket_ids"),
    [
        (["10000112345"], [100001]),
        (["112345", "212345"], [1, 2]),
        ([" 4200000 "], [42]),  # surrounding blanks are ignored
        (["214748364712345"], [2_147_483_647]),  # the largest integer ticket id
    ],
)
def test_parse_takes_the_id_before_the_five_digit_code(references, ticket_ids):
    assert [r.ticket_id for r in parse_ticket_refs(references)] == ticket_ids


@pytest.mark.parametrize(
    ("references", "reasons"),
    [
        ([], {"tickets": "no ticket references"}),
        (["12a45678"], {"ticket0": "must be digits only"}),
        (["-12345678"], {"ticket0": "must be digits only"}),
        (["١٢٣٤٥٦٧"], {"ticket0": "must be digits only"}),  # non-ASCII digits
        ([""], {"ticket0": "must be digits only"}),
        (["12345"], {"ticket0": "too short: a ticket id followed by a 5-digit code"}),
        (["012345"], {"ticket0": "ticket id is zero"}),
        (["0000012345"], {"ticket0": "ticket id is zero"}),
        (["214748364812345"], {"ticket0": "not a ticket id"}),
        (["9" * 5000], {"ticket0": "not a ticket id"}),
        (["112345", "199999"], {"ticket1": "duplicate of ticket0"}),
        (
            ["112345", "x", "112345"],
            {"ticket1": "must be digits only", "ticket2": "duplicate of ticket0"},
        ),
        ([f"{i}12345" for i in range(1, 102)], {"tickets": "at most 100 tickets at once"}),
    ],
)
def test_parse_rejects_bad_references_with_a_reason_each(references, reasons):
    with pytest.raises(TicketReferenceError) as caught:
        parse_ticket_refs(references)
    assert caught.value.reasons == reasons
    assert isinstance(caught.value, UsageError)


def test_errors_never_echo_the_references():
    secret = "98765432154321"
    with pytest.raises(TicketReferenceError) as caught:
        parse_ticket_refs([secret, secret])
    assert secret not in str(caught.value)


def test_pdf_url_numbers_the_references(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(TICKET_URL_ENV, raising=False)
    refs = parse_ticket_refs(["10000112345", "10000254321"])
    assert pdf_url(refs) == f"{DEFAULT_TICKET_URL}ticket0=10000112345&ticket1=10000254321"
    monkeypatch.setenv(TICKET_URL_ENV, "https://billig.test/pdf?")
    assert pdf_url(refs) == "https://billig.test/pdf?ticket0=10000112345&ticket1=10000254321"
    assert pdf_url(refs[:1], "https://x/t?") == "https://x/t?ticket0=10000112345"


def _refs(purchase: Purchase, code: str = "00042") -> list[TicketRef]:
    return [TicketRef(f"{t}{code}", t) for t in purchase.tickets]


def test_describe_shows_price_group_event_and_card_only(
    reader: RoutedSession, purchases: list[Purchase]
):
    shown = [p for p in purchases if p.shown][:6]
    seen_on_card = set()
    for purchase in shown:
        described = describe_tickets(reader, _refs(purchase))
        assert [item.ticket_id for item in described] == list(purchase.tickets)
        for item in described:
            ticket = reader.get(orm.BilligTicket, item.ticket_id)
            assert ticket is not None
            pg = ticket.price_group
            billig_event = reader.get(orm.BilligEvent, pg.ticket_group.event_id)
            assert billig_event is not None
            assert item.reference == f"{ticket.id}00042"
            assert (item.price_group, item.price) == (pg.name, pg.price)
            assert (item.event_id, item.event_name) == (billig_event.id, billig_event.name)
            assert item.event_time is not None and billig_event.time is not None
            assert item.event_time.replace(tzinfo=None) == billig_event.time
            assert item.on_card is ticket.on_card
            seen_on_card.add(item.on_card)
            assert set(to_json(item)) == {
                "reference", "ticket_id", "price_group", "price", "event_id", "event_name",
                "event_time", "on_card",
            }  # fmt: skip
            if ticket.purchase.owner_email:
                assert ticket.purchase.owner_email not in str(to_json(item))
    assert seen_on_card == {True, False}


def test_describe_reads_no_purchase(
    reader: RoutedSession, billig_statements, purchases: list[Purchase]
):
    purchase = next(p for p in purchases if p.shown)
    billig_statements.clear()
    describe_tickets(reader, _refs(purchase))
    assert billig_statements.count == 1
    # The purchase's ticket count comes from billig.ticket; its row (and owner) is never read.
    assert not re.search(r"\bbillig\.purchase\b", billig_statements.statements[0])


def _not_one_purchase(purchases: list[Purchase]) -> dict[str, list[TicketRef]]:
    """Well-formed reference sets that are not exactly one complete shown purchase."""
    shown = [p for p in purchases if p.shown]
    several = next(p for p in shown if len(p.tickets) > 1)
    first, second = shown[0], shown[1]
    hidden = next(p for p in purchases if not p.shown)
    return {
        "one ticket left out": _refs(several)[:-1],
        "a ticket of another purchase added": _refs(several) + _refs(first)[:1],
        "two complete purchases": _refs(first) + _refs(second),
        "a ticket that does not exist": [*_refs(first), TicketRef("99999912345", 999999)],
        "one ticket twice": _refs(first) + _refs(first, "11111")[:1],
        "a purchase for a hidden event": _refs(hidden),
    }


def test_anything_but_one_complete_purchase_is_not_found_alike(
    reader: RoutedSession, purchases: list[Purchase]
):
    for case, refs in _not_one_purchase(purchases).items():
        with pytest.raises(TicketsNotFound) as caught:
            describe_tickets(reader, refs)
        # The same reason whatever was wrong: no answer tells which tickets exist.
        assert caught.value.reasons == {"tickets": NOT_ONE_PURCHASE}, case


def test_purchase_tickets_combines_parse_describe_and_link(
    reader: RoutedSession, purchases: list[Purchase]
):
    purchase = next(p for p in purchases if p.shown and len(p.tickets) > 1)
    refs = purchase.refs("11111")
    result = purchase_tickets(reader, refs, base="https://billig.test/pdf?")
    assert [t.ticket_id for t in result.tickets] == list(purchase.tickets)
    assert result.pdf_url == "https://billig.test/pdf?" + "&".join(
        f"ticket{n}={ref}" for n, ref in enumerate(refs)
    )
    with pytest.raises(TicketReferenceError):
        purchase_tickets(reader, ["nope"])
