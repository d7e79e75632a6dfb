"""Read-only SQLAlchemy models of the nine Billig relations the site reads.

Column names are production's (``event_name``, ``price_group`` …); Python attribute names are
the site's (``name``, ``id`` …). Every table names its schema as ``schema="billig"`` and never as
a dotted table name, which would quote to a different relation. Events are read through the view
``billig.event_lim_web`` (:class:`BilligEvent`); the table ``billig.event`` is mapped too
(:class:`BilligEventTable`) because it is what the foreign keys point at. Relations without a
primary key in the database (the view, ``payment_error_price_group``) get one on the mapper only,
so the table metadata stays faithful. All relationships are view-only: nothing here writes, and
:mod:`routing` refuses flushes of these models in production.
"""

from __future__ import annotations

from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Select,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    foreign,
    mapped_column,
    relationship,
)

from examples.fastapi_site import rules
from mirror.catalog.model import ColumnRef, RelationKey

BILLIG_SCHEMA = "billig"


class BilligBase(DeclarativeBase):
    """Declarative base of the Billig models; its own metadata, never ``create_all``-ed."""

    metadata = MetaData(schema=BILLIG_SCHEMA)


class _EventColumns:
    """The columns of ``billig.event``, shared by the table and the ``event_lim_web`` view."""

    name: Mapped[str] = mapped_column("event_name", String(140))
    location: Mapped[str | None] = mapped_column("event_location", String(255))
    note: Mapped[str | None] = mapped_column("event_note", Text)
    time: Mapped[datetime | None] = mapped_column("event_time", DateTime)
    event_type: Mapped[str | None] = mapped_column("event_type", String(255))
    external_id: Mapped[int | None] = mapped_column("external_id", Integer)
    organisation: Mapped[int | None] = mapped_column("organisation", Integer)
    a4_ticket_layout: Mapped[int | None] = mapped_column("a4_ticket_layout", Integer)
    receipt_ticket_layout: Mapped[int | None] = mapped_column("receipt_ticket_layout", Integer)
    tp_ticket_layout: Mapped[int | None] = mapped_column("tp_ticket_layout", Integer)
    ticket_fee: Mapped[int | None] = mapped_column("ticket_fee", Integer)
    sale_from: Mapped[datetime] = mapped_column("sale_from", DateTime)
    sale_to: Mapped[datetime] = mapped_column("sale_to", DateTime)
    hidden: Mapped[bool] = mapped_column("hidden", Boolean)


class BilligEventTable(_EventColumns, BilligBase):
    """``billig.event``: the base table. The site reads events through :class:`BilligEvent`."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column("event", Integer, primary_key=True, autoincrement=False)


class BilligEvent(_EventColumns, BilligBase):
    """An event as the web sees it, read from the view ``billig.event_lim_web``."""

    __tablename__ = "event_lim_web"

    id: Mapped[int] = mapped_column("event", Integer)

    # A view has no primary key; identify rows by event id on the mapper only.
    __mapper_args__ = MappingProxyType({"primary_key": ["id"]})

    ticket_groups: Mapped[list[BilligTicketGroup]] = relationship(
        primaryjoin=lambda: BilligEvent.id == foreign(BilligTicketGroup.event_id),
        order_by=lambda: BilligTicketGroup.id,
        back_populates="event",
        viewonly=True,
    )

    def in_sale_period(self, now: datetime) -> bool:
        return rules.event_in_sale_period(self, now)

    def purchasable_now(self, now: datetime) -> bool:
        return rules.purchasable_now(self, now)

    def is_relevant(self, now: datetime) -> bool:
        return rules.is_relevant(self.hidden, self.sale_to, now)

    @property
    def is_sold_out(self) -> bool:
        return rules.event_is_sold_out(self.ticket_groups)

    @property
    def is_almost_sold_out(self) -> bool:
        return rules.event_is_almost_sold_out(self.ticket_groups)

    def __repr__(self) -> str:
        return f"BilligEvent(id={self.id!r}, name={self.name!r})"


class BilligTicketGroup(BilligBase):
    __tablename__ = "ticket_group"

    id: Mapped[int] = mapped_column("ticket_group", Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column("event", ForeignKey(BilligEventTable.id))
    name: Mapped[str] = mapped_column("ticket_group_name", String(140))
    is_theater_ticket_group: Mapped[bool] = mapped_column(
        "is_theater_ticket_group", Boolean, server_default=false()
    )
    ticket_limit: Mapped[int | None] = mapped_column("ticket_limit", Integer)
    num_sold: Mapped[int] = mapped_column("num_sold", Integer)
    num: Mapped[int] = mapped_column("num", Integer)

    event: Mapped[BilligEvent] = relationship(
        primaryjoin=lambda: foreign(BilligTicketGroup.event_id) == BilligEvent.id,
        back_populates="ticket_groups",
        viewonly=True,
    )
    price_groups: Mapped[list[BilligPriceGroup]] = relationship(
        order_by=lambda: BilligPriceGroup.id, back_populates="ticket_group", viewonly=True
    )

    @property
    def is_sold_out(self) -> bool:
        return rules.group_is_sold_out(self.num_sold, self.num)

    @property
    def is_almost_sold_out(self) -> bool:
        return rules.group_is_almost_sold_out(self.num_sold, self.num)

    @property
    def price_group_limit(self) -> int:
        """Most tickets of any one of its price groups in one purchase."""
        return rules.price_group_limit(self.ticket_limit)

    @property
    def total_limit(self) -> int:
        """Most tickets of this group in one purchase."""
        return rules.ticket_group_limit(self.ticket_limit, len(self.price_groups))

    def __repr__(self) -> str:
        return f"BilligTicketGroup(id={self.id!r}, event_id={self.event_id!r})"


class BilligPriceGroup(BilligBase):
    __tablename__ = "price_group"

    id: Mapped[int] = mapped_column("price_group", Integer, primary_key=True, autoincrement=False)
    ticket_group_id: Mapped[int] = mapped_column("ticket_group", ForeignKey(BilligTicketGroup.id))
    name: Mapped[str] = mapped_column("price_group_name", String(140))
    membership_needed: Mapped[bool] = mapped_column("membership_needed", Boolean)
    can_be_put_on_card: Mapped[bool] = mapped_column("can_be_put_on_card", Boolean)
    netsale: Mapped[bool] = mapped_column("netsale", Boolean)
    price: Mapped[int] = mapped_column("price", Integer)

    ticket_group: Mapped[BilligTicketGroup] = relationship(
        back_populates="price_groups", viewonly=True
    )

    def __repr__(self) -> str:
        return f"BilligPriceGroup(id={self.id!r}, ticket_group_id={self.ticket_group_id!r})"


class BilligPurchase(BilligBase):
    __tablename__ = "purchase"

    id: Mapped[int] = mapped_column("purchase", Integer, primary_key=True, autoincrement=False)
    owner_member_id: Mapped[int | None] = mapped_column("owner_member_id", Integer)
    owner_email: Mapped[str | None] = mapped_column("owner_email", String(254))

    tickets: Mapped[list[BilligTicket]] = relationship(
        order_by=lambda: BilligTicket.id, back_populates="purchase", viewonly=True
    )

    def __repr__(self) -> str:
        return f"BilligPurchase(id={self.id!r})"  # never the owner


class BilligTicketCard(BilligBase):
    __tablename__ = "ticket_card"

    card: Mapped[int] = mapped_column("card", BigInteger, primary_key=True, autoincrement=False)
    owner_member_id: Mapped[int | None] = mapped_column("owner_member_id", Integer)
    membership_ends: Mapped[date | None] = mapped_column("membership_ends", Date)

    def __repr__(self) -> str:
        return "BilligTicketCard(...)"  # a card number is private


class BilligTicket(BilligBase):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column("ticket", Integer, primary_key=True, autoincrement=False)
    price_group_id: Mapped[int] = mapped_column("price_group", ForeignKey(BilligPriceGroup.id))
    purchase_id: Mapped[int] = mapped_column("purchase", ForeignKey(BilligPurchase.id))
    used: Mapped[datetime | None] = mapped_column("used", DateTime)
    refunded: Mapped[datetime | None] = mapped_column("refunded", DateTime)
    on_card: Mapped[bool] = mapped_column("on_card", Boolean)
    refunder: Mapped[str | None] = mapped_column("refunder", Text)
    point_of_refund: Mapped[int | None] = mapped_column("point_of_refund", Integer)

    price_group: Mapped[BilligPriceGroup] = relationship(viewonly=True)
    purchase: Mapped[BilligPurchase] = relationship(back_populates="tickets", viewonly=True)

    def __repr__(self) -> str:
        return f"BilligTicket(id={self.id!r}, price_group_id={self.price_group_id!r})"


class BilligPaymentError(BilligBase):
    """A failed payment, keyed by the session id Billig sends back as ``bsession``."""

    __tablename__ = "payment_error"

    error: Mapped[str] = mapped_column("error", String(64), primary_key=True)
    failed: Mapped[datetime | None] = mapped_column("failed", DateTime)
    owner_cardno: Mapped[str | None] = mapped_column("owner_cardno", String(140))
    owner_email: Mapped[str | None] = mapped_column("owner_email", String(254))
    message: Mapped[str] = mapped_column("message", Text)

    price_groups: Mapped[list[BilligPaymentErrorPriceGroup]] = relationship(
        order_by=lambda: BilligPaymentErrorPriceGroup.price_group_id,
        back_populates="payment_error",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return "BilligPaymentError(...)"  # the key is a session secret


class BilligPaymentErrorPriceGroup(BilligBase):
    """Tickets chosen in a failed payment. No primary key, and ``price_group`` is no FK."""

    __tablename__ = "payment_error_price_group"

    error: Mapped[str] = mapped_column("error", ForeignKey(BilligPaymentError.error))
    price_group_id: Mapped[int] = mapped_column("price_group", Integer)
    number_of_tickets: Mapped[int] = mapped_column("number_of_tickets", Integer)

    __mapper_args__ = MappingProxyType({"primary_key": ["error", "price_group_id"]})

    payment_error: Mapped[BilligPaymentError] = relationship(
        back_populates="price_groups", viewonly=True
    )
    price_group: Mapped[BilligPriceGroup | None] = relationship(
        primaryjoin=lambda: (
            foreign(BilligPaymentErrorPriceGroup.price_group_id) == BilligPriceGroup.id
        ),
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"BilligPaymentErrorPriceGroup(price_group_id={self.price_group_id!r})"


# Every model, in the order Billig's schema defines them.
BILLIG_MODELS: tuple[type[BilligBase], ...] = (
    BilligEventTable,
    BilligEvent,
    BilligTicketGroup,
    BilligPriceGroup,
    BilligPurchase,
    BilligTicketCard,
    BilligTicket,
    BilligPaymentError,
    BilligPaymentErrorPriceGroup,
)


def relation_key(model: type[BilligBase]) -> RelationKey:
    """The (schema, name) a model reads, never a dotted string."""
    table = model.__table__
    return RelationKey(table.schema or BILLIG_SCHEMA, table.name)  # type: ignore[attr-defined]


def model_columns() -> dict[ColumnRef, tuple[str, ...]]:
    """Every mapped Billig column and the model attributes that read it (``Model.attr``)."""
    from sqlalchemy import inspect

    out: dict[ColumnRef, list[str]] = {}
    for model in BILLIG_MODELS:
        key = relation_key(model)
        for prop in inspect(model).column_attrs:
            for col in prop.columns:
                ref = ColumnRef(key.schema, key.name, str(col.name))
                out.setdefault(ref, []).append(f"{model.__name__}.{prop.key}")
    return {ref: tuple(names) for ref, names in out.items()}


def select_relevant_events(now: datetime) -> Select[BilligEvent]:
    """Billig events the site shows: not hidden, sale ended less than 31 days before ``now``."""
    return (
        select(BilligEvent)
        .where(BilligEvent.hidden.is_(False), BilligEvent.sale_to > rules.relevant_since(now))
        .order_by(BilligEvent.id)
    )
