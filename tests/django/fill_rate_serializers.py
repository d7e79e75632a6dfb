"""A serializer with a bug the seed exposes: a ticket group without tickets divides by zero."""

from __future__ import annotations

from cirkus.billig.models import BilligTicketGroup
from rest_framework import serializers


class FillRateSerializer(serializers.ModelSerializer):
    fill_rate = serializers.SerializerMethodField()

    class Meta:
        model = BilligTicketGroup
        fields = ("id", "fill_rate")

    def get_fill_rate(self, group: BilligTicketGroup) -> float:
        return group.num_sold / group.num
