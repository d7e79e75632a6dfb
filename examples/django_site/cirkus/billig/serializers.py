"""DRF serializers of Billig data: what the site's API shows of Billig, and nothing more.

Ticket counts (``num``, ``num_sold``) are read by the properties but never emitted. A serializer
may be given ``now`` in its context (a naive local datetime); it defaults to the clock.
"""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

from cirkus.billig.models import (
    BilligEvent,
    BilligPaymentError,
    BilligPriceGroup,
    BilligTicketGroup,
)


def context_now(context: dict[str, object]) -> datetime:
    now = context.get("now")
    return now if isinstance(now, datetime) else datetime.now()


class PriceGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = BilligPriceGroup
        fields = ("id", "name", "can_be_put_on_card", "membership_needed", "netsale", "price")


class TicketGroupSerializer(serializers.ModelSerializer):
    is_sold_out = serializers.BooleanField(read_only=True)
    is_almost_sold_out = serializers.BooleanField(read_only=True)
    price_groups = PriceGroupSerializer(many=True, read_only=True)

    class Meta:
        model = BilligTicketGroup
        fields = ("id", "name", "is_sold_out", "is_almost_sold_out", "ticket_limit", "price_groups")


class BilligEventSerializer(serializers.ModelSerializer):
    ticket_groups = TicketGroupSerializer(many=True, read_only=True)
    in_sale_period = serializers.SerializerMethodField()
    is_sold_out = serializers.BooleanField(read_only=True)
    is_almost_sold_out = serializers.BooleanField(read_only=True)

    class Meta:
        model = BilligEvent
        fields = (
            "id",
            "name",
            "ticket_groups",
            "sale_from",
            "sale_to",
            "in_sale_period",
            "is_almost_sold_out",
            "is_sold_out",
        )

    def get_in_sale_period(self, event: BilligEvent) -> bool:
        return event.in_sale_period(context_now(self.context))


class PaymentErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = BilligPaymentError
        fields = ("message", "failed")
