"""The payment form and validating a selection into Billig's ``/pay`` fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site.payment import (
    DEFAULT_PAY_URL,
    PAY_URL_ENV,
    Selection,
    pay_url,
    payment_form,
    validate_selection,
)
from examples.fastapi_site.prefetch import get_billig_event
from examples.fastapi_site.routing import RoutedSession

from .conftest import scenario_id

NOW = datetime(2024, 6, 15, 12, 0)


def pg(id: int, *, netsale: bool = True, card: bool = True, member: bool = False):
    return orm.BilligPriceGroup(
        id=id, name=f"pg{id}", membership_needed=member, can_be_put_on_card=card,
        netsale=netsale, price=100,
    )  # fmt: skip


def group(id: int, limit: int | None, sold: int, num: int, prices: list[orm.BilligPriceGroup]):
    return orm.BilligTicketGroup(
        id=id, name=f"tg{id}", ticket_limit=limit, num_sold=sold, num=num, price_groups=prices
    )


def event(*, sold_out: bool = False, period: tuple[datetime, datetime] | None = None):
    sale_from, sale_to = period or (NOW - timedelta(days=1), NOW + timedelta(days=1))
    sold = 100 if sold_out else 0
    return orm.BilligEvent(
        id=1,
        name="Konsert",
        sale_from=sale_from,
        sale_to=sale_to,
        hidden=False,
        ticket_groups=[
            # NULL limit: 9 per price group; 11 on card, 12 paper only, 13 not sold on the web.
            group(1, None, sold, 100, [pg(11), pg(12, card=False), pg(13, netsale=False)]),
            group(2, 4, sold, 100, [pg(21), pg(22, member=True)]),
            group(3, 0, 50, 50, [pg(31)]),  # sold out
        ],
    )  # fmt: skip


CARD = {"ticket_type": "card", "membercard": "123456"}
PAPER = {"ticket_type": "paper", "email": "buyer@example.org"}


@pytest.mark.parametrize(
    ("submitted", "fields"),
    [
        (
            {"counts": {11: 2}, **CARD},
            {"price_11_count": "2", "ticket_type": "card", "membercard": "123456"},
        ),
        (
            {"counts": {12: 1, 21: 2}, **PAPER},
            {
                "price_12_count": "1",
                "price_21_count": "2",
                "ticket_type": "paper",
                "email": "buyer@example.org",
            },
        ),
        (
            {"counts": {11: 1, 12: 0}, **PAPER},  # zero counts are not sent
            {"price_11_count": "1", "ticket_type": "paper", "email": "buyer@example.org"},
        ),
        (
            {"counts": {11: 9, 12: 9, 21: 2, 22: 2}, **PAPER},  # exactly at every limit
            {
                "price_11_count": "9",
                "price_12_count": "9",
                "price_21_count": "2",
                "price_22_count": "2",
                "ticket_type": "paper",
                "email": "buyer@example.org",
            },
        ),
        (
            {"counts": {11: 1}, "ticket_type": "card", "membercard": " 123456 "},
            {"price_11_count": "1", "ticket_type": "card", "membercard": "123456"},
        ),
    ],
)
def test_valid_selection_gives_exactly_the_pay_fields(submitted: dict[str, Any], fields: dict):
    result = validate_selection(event(), Selection(**submitted), NOW, url="https://b/pay")
    assert result.errors == {}
    assert result.valid and result.fields == fields
    assert result.pay_url == "https://b/pay"


@pytest.mark.parametrize(
    ("submitted", "errors"),
    [
        ({"counts": {999: 1}, **CARD}, {"price_999_count": "unknown price group for this event"}),
        ({"counts": {13: 1}, **PAPER},
         {"price_13_count": "this price group is not sold on the web"}),
        ({"counts": {11: -1}, **CARD}, {"price_11_count": "count must be between 0 and 9"}),
        ({"counts": {11: 10}, **CARD}, {"price_11_count": "count must be between 0 and 9"}),
        ({"counts": {21: 5}, **PAPER}, {"price_21_count": "count must be between 0 and 4"}),
        ({"counts": {21: 3, 22: 3}, **PAPER},
         {"ticket_group_2": "at most 4 tickets in 'tg2' per purchase"}),
        ({"counts": {31: 1}, **PAPER}, {"price_31_count": "sold out"}),
        ({"counts": {12: 1}, **CARD},
         {"price_12_count": "this price group cannot be put on a card; choose paper"}),
        ({"counts": {}, **CARD}, {"tickets": "choose at least one ticket"}),
        ({"counts": {11: 0}, **CARD}, {"tickets": "choose at least one ticket"}),
        ({"counts": {11: 1}, "ticket_type": "pdf", "email": "a@b.no"},
         {"ticket_type": "must be 'card' or 'paper'"}),
        ({"counts": {11: 1}, "ticket_type": "pdf"},
         {"ticket_type": "must be 'card' or 'paper'",
          "contact": "give membercard (card) or email (paper)"}),
        ({"counts": {11: 1}, "ticket_type": "card", "membercard": "1", "email": "a@b.no"},
         {"membercard": "give exactly one of membercard (card) or email (paper), not both",
          "email": "give exactly one of membercard (card) or email (paper), not both"}),
        ({"counts": {11: 1}, "ticket_type": "card"},
         {"membercard": "tickets on card need a member card number"}),
        ({"counts": {11: 1}, "ticket_type": "card", "membercard": "  "},
         {"membercard": "tickets on card need a member card number"}),
        ({"counts": {11: 1}, "ticket_type": "card", "email": "a@b.no"},
         {"email": "tickets on card need membercard, not email"}),
        ({"counts": {11: 1}, "ticket_type": "card", "membercard": "12ab"},
         {"membercard": "must be the digits of a member card number"}),
        ({"counts": {11: 1}, "ticket_type": "paper"},
         {"email": "paper tickets need an e-mail address"}),
        ({"counts": {11: 1}, "ticket_type": "paper", "membercard": "1"},
         {"membercard": "paper tickets need email, not membercard"}),
        ({"counts": {11: 1}, "ticket_type": "paper", "email": "nope"},
         {"email": "not a valid e-mail address"}),
        ({"counts": {11: 1}, "ticket_type": "paper", "email": "a" * 250 + "@b.no"},
         {"email": "not a valid e-mail address"}),
    ],
)  # fmt: skip
def test_invalid_selection_gives_a_reason_per_field(submitted: dict[str, Any], errors: dict):
    result = validate_selection(event(), Selection(**submitted), NOW)
    assert not result.valid
    assert result.fields == {}
    assert result.errors == errors


def test_selection_outside_sale_period_is_refused():
    late = event(period=(NOW - timedelta(days=3), NOW - timedelta(days=1)))
    result = validate_selection(late, Selection(counts={11: 1}, **CARD), NOW)
    assert result.errors == {"event": "not in sale period"}


def test_selection_for_sold_out_event_is_refused():
    result = validate_selection(event(sold_out=True), Selection(counts={11: 1}, **CARD), NOW)
    assert result.errors == {"price_11_count": "sold out", "event": "sold out"}


def test_several_problems_are_all_reported():
    result = validate_selection(
        event(), Selection(counts={11: 12, 13: 1}, ticket_type="paper"), NOW
    )
    assert set(result.errors) == {"price_11_count", "price_13_count", "email"}


def test_selection_accepts_json_shaped_input():
    selection = Selection.model_validate(
        {"counts": {"11": "2"}, "ticket_type": "card", "membercard": "42"}
    )
    assert selection.counts == {11: 2}
    with pytest.raises(ValueError, match="extra"):
        Selection.model_validate({"counts": {}, "ticket_type": "card", "num": 1})


def test_pay_url_is_configuration(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(PAY_URL_ENV, raising=False)
    assert pay_url() == DEFAULT_PAY_URL
    monkeypatch.setenv(PAY_URL_ENV, "https://billig.test/pay")
    assert pay_url() == "https://billig.test/pay"
    assert payment_form(event(), NOW).pay_url == "https://billig.test/pay"
    assert pay_url("https://explicit/pay") == "https://explicit/pay"


def test_form_lists_netsale_price_groups_with_count_ranges():
    form = payment_form(event(), NOW)
    assert form.purchasable_now and form.in_sale_period and not form.is_sold_out
    first, second, third = form.ticket_groups
    assert [p.id for p in first.price_groups] == [11, 12]  # 13 is not sold on the web
    assert [(p.min_count, p.max_count) for p in first.price_groups] == [(0, 9), (0, 9)]
    assert first.max_total == 27  # no limit: 9 × all 3 price groups
    assert [(p.max_count, p.input_name) for p in second.price_groups] == [
        (4, "price_21_count"),
        (4, "price_22_count"),
    ]
    assert second.max_total == 4
    assert second.price_groups[1].membership_needed
    assert third.is_sold_out


# --------------------------------------------------------------------------- on the mirror


def load(reader: RoutedSession, scenario: str) -> orm.BilligEvent:
    found = get_billig_event(reader, scenario_id(scenario))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("scenario", "purchasable"),
    [
        ("on_sale", True),
        ("almost_sold_out", True),
        ("sold_out", False),
        ("recently_ended", False),
        ("future", False),
        ("no_ticket_groups", False),
    ],
)
def test_purchasable_now_on_seeded_events(
    reader: RoutedSession, seed_now: datetime, scenario: str, purchasable: bool
):
    assert payment_form(load(reader, scenario), seed_now).purchasable_now is purchasable


def test_form_of_seeded_event_with_default_limits(reader: RoutedSession, seed_now: datetime):
    billig_event = load(reader, "limits_and_non_netsale")
    form = payment_form(billig_event, seed_now)
    for group, form_group in zip(
        [g for g in billig_event.ticket_groups if any(p.netsale for p in g.price_groups)],
        form.ticket_groups,
        strict=True,
    ):
        assert group.ticket_limit in (None, 0)
        assert form_group.max_total == 9 * len(group.price_groups)
        assert {p.id for p in form_group.price_groups} == {
            p.id for p in group.price_groups if p.netsale
        }
        assert all(p.max_count == 9 for p in form_group.price_groups)


def test_valid_selection_on_seeded_event(reader: RoutedSession, seed_now: datetime):
    billig_event = load(reader, "on_sale")
    choice = next(
        p
        for g in billig_event.ticket_groups
        if not g.is_sold_out
        for p in g.price_groups
        if p.netsale
    )
    result = validate_selection(billig_event, Selection(counts={choice.id: 1}, **PAPER), seed_now)
    assert result.errors == {}
    assert result.fields == {
        f"price_{choice.id}_count": "1",
        "ticket_type": "paper",
        "email": "buyer@example.org",
    }


@pytest.mark.parametrize(
    ("scenario", "reason"), [("sold_out", "sold out"), ("recently_ended", "not in sale period")]
)
def test_seeded_events_that_cannot_be_bought(
    reader: RoutedSession, seed_now: datetime, scenario: str, reason: str
):
    billig_event = load(reader, scenario)
    choice = next(p for g in billig_event.ticket_groups for p in g.price_groups if p.netsale)
    result = validate_selection(billig_event, Selection(counts={choice.id: 1}, **PAPER), seed_now)
    assert result.errors["event"] == reason
