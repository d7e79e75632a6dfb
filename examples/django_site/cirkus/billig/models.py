"""Unmanaged models of the Billig relations the site reads (Billig's database is not ours).

Column names are Billig's (``event_name``, ``ticket_group`` ...), field names the site's. Django
has no schema option: ``db_table = 'billig"."price_group'`` is how a model reaches table
``price_group`` in schema ``billig``. ``BilligTicketGroup`` is spelled the other way,
``'billig.ticket_group'``, which Django quotes as one identifier in the search path; the
development schema was made to match it (see ``schema/billig.sql``), production was not.
Foreign keys between these models are joins the site relies on, not constraints.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models

ALMOST_SOLD_OUT_RATIO = 0.8
DEFAULT_TICKET_LIMIT = 9


class BilligEvent(models.Model):
    """An event as the web sees it, read from the view ``billig.event_lim_web``."""

    id = models.IntegerField(primary_key=True, db_column="event")
    name = models.CharField(max_length=140, db_column="event_name")
    location = models.CharField(max_length=255, null=True, db_column="event_location")
    time = models.DateTimeField(null=True, db_column="event_time")
    sale_from = models.DateTimeField(db_column="sale_from")
    sale_to = models.DateTimeField(db_column="sale_to")
    hidden = models.BooleanField(db_column="hidden")

    class Meta:
        managed = False
        db_table = 'billig"."event_lim_web'

    def in_sale_period(self, now: datetime) -> bool:
        return self.sale_from <= now <= self.sale_to

    @property
    def is_sold_out(self) -> bool:
        return all(group.is_sold_out for group in self.ticket_groups.all())

    @property
    def is_almost_sold_out(self) -> bool:
        groups = list(self.ticket_groups.all())
        total = sum(group.num for group in groups)
        sold = sum(group.num_sold for group in groups)
        return total > 0 and sold / total >= ALMOST_SOLD_OUT_RATIO

    def __str__(self) -> str:
        return self.name


class BilligTicketGroup(models.Model):
    id = models.IntegerField(primary_key=True, db_column="ticket_group")
    event = models.ForeignKey(
        BilligEvent,
        models.DO_NOTHING,
        db_column="event",
        db_constraint=False,
        related_name="ticket_groups",
    )
    name = models.CharField(max_length=140, db_column="ticket_group_name")
    is_theater_ticket_group = models.BooleanField(
        default=False, db_column="is_theater_ticket_group"
    )
    ticket_limit = models.IntegerField(null=True, db_column="ticket_limit")
    num_sold = models.IntegerField(db_column="num_sold")
    num = models.IntegerField(db_column="num")

    class Meta:
        managed = False
        db_table = "billig.ticket_group"

    @property
    def is_sold_out(self) -> bool:
        return self.num_sold >= self.num

    @property
    def is_almost_sold_out(self) -> bool:
        # A group without tickets is sold out, not a division by zero.
        return self.num == 0 or self.num_sold / self.num >= ALMOST_SOLD_OUT_RATIO

    @property
    def total_limit(self) -> int:
        """Most tickets of this group in one purchase (NULL or 0: the default limit)."""
        if self.ticket_limit and self.ticket_limit > 0:
            return self.ticket_limit
        return DEFAULT_TICKET_LIMIT * max(len(self.price_groups.all()), 1)

    def __str__(self) -> str:
        return self.name


class BilligPriceGroup(models.Model):
    id = models.IntegerField(primary_key=True, db_column="price_group")
    ticket_group = models.ForeignKey(
        BilligTicketGroup,
        models.DO_NOTHING,
        db_column="ticket_group",
        db_constraint=False,
        related_name="price_groups",
    )
    name = models.CharField(max_length=140, db_column="price_group_name")
    membership_needed = models.BooleanField(db_column="membership_needed")
    can_be_put_on_card = models.BooleanField(db_column="can_be_put_on_card")
    netsale = models.BooleanField(db_column="netsale")
    price = models.IntegerField(db_column="price")

    class Meta:
        managed = False
        db_table = 'billig"."price_group'

    def __str__(self) -> str:
        return self.name


class BilligPurchase(models.Model):
    id = models.IntegerField(primary_key=True, db_column="purchase")
    owner_member_id = models.IntegerField(null=True, db_column="owner_member_id")
    owner_email = models.EmailField(max_length=254, null=True, db_column="owner_email")

    class Meta:
        managed = False
        db_table = 'billig"."purchase'


class BilligTicket(models.Model):
    id = models.IntegerField(primary_key=True, db_column="ticket")
    price_group = models.ForeignKey(
        BilligPriceGroup, models.DO_NOTHING, db_column="price_group", db_constraint=False
    )
    purchase = models.ForeignKey(
        BilligPurchase,
        models.DO_NOTHING,
        db_column="purchase",
        db_constraint=False,
        related_name="tickets",
    )
    used = models.DateTimeField(null=True, db_column="used")
    refunded = models.DateTimeField(null=True, db_column="refunded")
    on_card = models.BooleanField(db_column="on_card")

    class Meta:
        managed = False
        db_table = 'billig"."ticket'


class BilligPaymentError(models.Model):
    """A failed payment, keyed by the session id Billig sends back as ``bsession``."""

    error = models.CharField(max_length=64, primary_key=True, db_column="error")
    failed = models.DateTimeField(null=True, db_column="failed")
    message = models.TextField(db_column="message")

    class Meta:
        managed = False
        db_table = 'billig"."payment_error'
