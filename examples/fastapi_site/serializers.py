"""The site API's JSON shapes: declared pydantic schemas, serializers, and lineage.

The schemas :class:`PriceGroup`, :class:`TicketGroup`, :class:`BilligEvent` and :class:`Event`
*are* the public contract: field names are fixed, later tooling snapshots their JSON Schema, and
the API uses them as response models. Each field declares where its value comes from with a
:class:`Source` (the Billig columns it copies, derives from, or joins on, or the site column), so
:data:`FIELD_LINEAGE` maps every field path such as
``BilligEvent.ticket_groups[].price_groups[].price`` to ``billig.price_group.price``. Every
public schema derives from :class:`PublicModel`, which refuses at class creation any field named
in :data:`FORBIDDEN_FIELDS` and any undeclared key, so forbidden data cannot be emitted.

Timestamps are Billig's naive local times, emitted with the site zone's offset
(:func:`rules.localize`). Serializing a list of site events always prefetches, one query
per level.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from examples.fastapi_site import billig_models as orm
from examples.fastapi_site import events as site_models
from examples.fastapi_site import rules
from examples.fastapi_site.prefetch import (
    attach_price_groups,
    attach_ticket_groups,
    prefetch_billig,
)
from mirror.catalog.model import ColumnRef, Usage

# Never public: ticket counts, owner data, card numbers. Pinned by the shape snapshots.
FORBIDDEN_FIELDS: frozenset[str] = frozenset(
    {"num", "num_sold", "owner_email", "owner_member_id", "owner_cardno", "card", "cardno",
     "card_number"}
)  # fmt: skip

SourceKind = Literal["column", "derived", "join", "site", "config", "input"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a serializer field's value comes from.

    ``column``: copied from one Billig column; ``derived``: computed from the columns;
    ``join``: a nested object or list found through the columns; ``site``: the site's own column
    (named by ``site_column``); ``config``: configuration; ``input``: the request. Only the
    first three read Billig.
    """

    kind: SourceKind
    columns: tuple[ColumnRef, ...] = ()
    site_column: str | None = None


def _ref(relation: str, column: str) -> ColumnRef:
    return ColumnRef(orm.BILLIG_SCHEMA, relation, column)


def column(relation: str, name: str) -> Source:
    return Source("column", (_ref(relation, name),))


def derived(*refs: tuple[str, str]) -> Source:
    return Source("derived", tuple(_ref(r, c) for r, c in refs))


def join(*refs: tuple[str, str]) -> Source:
    return Source("join", tuple(_ref(r, c) for r, c in refs))


def site_column(name: str) -> Source:
    return Source("site", site_column=name)


CONFIG = Source("config")
INPUT = Source("input")


class PublicModel(BaseModel):
    """Base of every public output schema: frozen, exactly its fields, none of them forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, info in cls.model_fields.items():
            emitted = {n for n in (name, info.alias, info.serialization_alias) if n}
            if emitted & FORBIDDEN_FIELDS:
                raise TypeError(
                    f"{cls.__name__}.{name}: field names {sorted(emitted & FORBIDDEN_FIELDS)} "
                    "are never public"
                )


# --------------------------------------------------------------------------- declared schemas

_PG, _TG, _EV = "price_group", "ticket_group", "event_lim_web"
_COUNTS = ((_TG, "num_sold"), (_TG, "num"))


class PriceGroup(PublicModel):
    id: Annotated[int, column(_PG, "price_group")]
    name: Annotated[str, column(_PG, "price_group_name")]
    can_be_put_on_card: Annotated[bool, column(_PG, "can_be_put_on_card")]
    membership_needed: Annotated[bool, column(_PG, "membership_needed")]
    netsale: Annotated[bool, column(_PG, "netsale")]
    price: Annotated[int, column(_PG, "price")]


class TicketGroup(PublicModel):
    id: Annotated[int, column(_TG, "ticket_group")]
    name: Annotated[str, column(_TG, "ticket_group_name")]
    is_sold_out: Annotated[bool, derived(*_COUNTS)]
    is_almost_sold_out: Annotated[bool, derived(*_COUNTS)]
    ticket_limit: Annotated[int | None, column(_TG, "ticket_limit")]
    price_groups: Annotated[list[PriceGroup], join((_PG, "ticket_group"))]


class BilligEvent(PublicModel):
    id: Annotated[int, column(_EV, "event")]
    name: Annotated[str, column(_EV, "event_name")]
    ticket_groups: Annotated[list[TicketGroup], join((_TG, "event"))]
    sale_from: Annotated[datetime, column(_EV, "sale_from")]
    sale_to: Annotated[datetime, column(_EV, "sale_to")]
    in_sale_period: Annotated[bool, derived((_EV, "sale_from"), (_EV, "sale_to"))]
    is_almost_sold_out: Annotated[bool, derived(*_COUNTS)]
    is_sold_out: Annotated[bool, derived(*_COUNTS)]


class Event(PublicModel):
    """A site event with its Billig event (null when not sold through Billig or not found)."""

    id: Annotated[int, site_column("id")]
    title: Annotated[str, site_column("title")]
    start_dt: Annotated[datetime, site_column("start_dt")]
    ticket_type: Annotated[str, site_column("ticket_type")]
    billig: Annotated[BilligEvent | None, join((_EV, "event"))]


# The site's serializers by their contract name.
SERIALIZER_SCHEMAS: Mapping[str, type[PublicModel]] = types.MappingProxyType(
    {
        "PriceGroup": PriceGroup,
        "TicketGroup": TicketGroup,
        "BilligEvent": BilligEvent,
        "Event": Event,
    }
)


# --------------------------------------------------------------------------- serializing


def serialize_price_group(price_group: orm.BilligPriceGroup) -> PriceGroup:
    return PriceGroup(
        id=price_group.id,
        name=price_group.name,
        can_be_put_on_card=price_group.can_be_put_on_card,
        membership_needed=price_group.membership_needed,
        netsale=price_group.netsale,
        price=price_group.price,
    )


def serialize_ticket_group(group: orm.BilligTicketGroup) -> TicketGroup:
    return TicketGroup(
        id=group.id,
        name=group.name,
        is_sold_out=group.is_sold_out,
        is_almost_sold_out=group.is_almost_sold_out,
        ticket_limit=group.ticket_limit,
        price_groups=[serialize_price_group(pg) for pg in group.price_groups],
    )


@dataclass(frozen=True, slots=True)
class _Clock:
    """ "Now" in Billig time and the site zone, fixed once per serialization."""

    now: datetime
    zone: ZoneInfo

    @classmethod
    def at(cls, now: datetime | None) -> _Clock:
        zone = rules.billig_zone()
        return cls(rules.billig_now(zone) if now is None else rules.billig_time(now, zone), zone)


def serialize_billig_event(event: orm.BilligEvent, now: datetime | None = None) -> BilligEvent:
    """One Billig event; groups and prices load lazily unless prefetched."""
    return _serialize_billig_event(event, _Clock.at(now))


def _serialize_billig_event(event: orm.BilligEvent, clock: _Clock) -> BilligEvent:
    groups = event.ticket_groups
    sale_from, sale_to = event.sale_from, event.sale_to
    return BilligEvent(
        id=event.id,
        name=event.name,
        ticket_groups=[serialize_ticket_group(g) for g in groups],
        sale_from=rules.localize(sale_from, clock.zone),
        sale_to=rules.localize(sale_to, clock.zone),
        in_sale_period=rules.in_sale_period(sale_from, sale_to, clock.now),
        is_almost_sold_out=rules.event_is_almost_sold_out(groups),
        is_sold_out=rules.event_is_sold_out(groups),
    )


def serialize_billig_events(
    session: Session, events: Iterable[orm.BilligEvent], now: datetime | None = None
) -> list[BilligEvent]:
    """Billig events, loading missing groups and prices in one query per level."""
    clock = _Clock.at(now)
    events = list(events)
    if any(_unloaded(e, "ticket_groups") for e in events):
        attach_ticket_groups(session, events)
    elif any(_unloaded(g, "price_groups") for e in events for g in e.ticket_groups):
        attach_price_groups(session, [g for e in events for g in e.ticket_groups])
    return [_serialize_billig_event(e, clock) for e in events]


def _serialize_event(
    event: site_models.Event, clock: _Clock, cache: dict[int, BilligEvent]
) -> Event:
    billig = event.billig
    nested: BilligEvent | None = None
    if billig is not None:
        nested = cache.get(billig.id)
        if nested is None:
            nested = cache[billig.id] = _serialize_billig_event(billig, clock)
    return Event(
        id=event.id,
        title=event.title,
        start_dt=rules.localize(event.start_dt, clock.zone),
        ticket_type=event.ticket_type,
        billig=nested,
    )


def serialize_events(
    session: Session, events: Iterable[site_models.Event], now: datetime | None = None
) -> list[Event]:
    """Site events with nested Billig data: always prefetched, one query per level."""
    clock = _Clock.at(now)
    events = list(events)
    prefetch_billig(session, events)
    # Many site events may share one Billig event; its (immutable) model is built once.
    cache: dict[int, BilligEvent] = {}
    return [_serialize_event(e, clock, cache) for e in events]


def to_json(value: BaseModel | Iterable[BaseModel]) -> Any:
    """JSON-ready data (dicts, lists, ISO datetimes) of one schema instance or a list of them."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return [item.model_dump(mode="json") for item in value]


def _unloaded(obj: object, attribute: str) -> bool:
    return attribute in sa_inspect(obj).unloaded


# --------------------------------------------------------------------------- privacy


def find_forbidden(value: Any, path: str = "$") -> list[str]:
    """Paths of every forbidden key anywhere in JSON-like ``value`` (dicts, lists)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in FORBIDDEN_FIELDS:
                found.append(f"{path}.{key}")
            found.extend(find_forbidden(item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(find_forbidden(item, f"{path}[{index}]"))
    return found


# --------------------------------------------------------------------------- lineage


@dataclass(frozen=True, slots=True)
class FieldLineage:
    """One serializer field: its path, where its value comes from, and whether it may be null."""

    path: str
    source: Source
    non_null: bool

    @property
    def columns(self) -> tuple[ColumnRef, ...]:
        return self.source.columns


def _unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(inner type, declared non-null, is a list) of a field annotation."""
    non_null = True
    is_list = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        non_null = len(args) == len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
        origin = typing.get_origin(annotation)
    if origin is list:
        is_list = True
        annotation = typing.get_args(annotation)[0]
    return annotation, non_null, is_list


def field_lineage(schema: type[BaseModel], root: str | None = None) -> dict[str, FieldLineage]:
    """Every field path of ``schema`` (nested ones too) with its :class:`Source`.

    Paths read like ``BilligEvent.ticket_groups[].price_groups[].price``. A field without a
    ``Source`` is a programming error: lineage must be complete to judge drift.
    """
    out: dict[str, FieldLineage] = {}
    prefix = root or schema.__name__
    for name, info in schema.model_fields.items():
        sources = [m for m in info.metadata if isinstance(m, Source)]
        if len(sources) != 1:
            raise TypeError(f"{schema.__name__}.{name} must declare exactly one Source")
        inner, non_null, is_list = _unwrap(info.annotation)
        path = f"{prefix}.{name}" + ("[]" if is_list else "")
        out[path] = FieldLineage(path, sources[0], non_null)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out.update(field_lineage(inner, path))
    return out


def lineage_of(schemas: Mapping[str, type[BaseModel]]) -> dict[str, FieldLineage]:
    out: dict[str, FieldLineage] = {}
    for name, schema in schemas.items():
        out.update(field_lineage(schema, name))
    return dict(sorted(out.items()))


# Every field path of the four serializers → its lineage.
FIELD_LINEAGE: Mapping[str, FieldLineage] = types.MappingProxyType(lineage_of(SERIALIZER_SCHEMAS))


def column_usage(
    fields: Mapping[str, FieldLineage] = FIELD_LINEAGE, *, models: bool = True
) -> dict[ColumnRef, Usage]:
    """Per Billig column, the serializer fields (and model attributes) that read it.

    ``requires_not_null`` is set when a non-null field reads the column, or when a model
    attribute declares it non-null.
    """
    readers: dict[ColumnRef, tuple[list[str], list[str], bool]] = {}

    def entry(ref: ColumnRef) -> tuple[list[str], list[str], bool]:
        return readers.setdefault(ref, ([], [], False))

    for path, lineage in fields.items():
        for ref in lineage.columns:
            model_names, field_names, not_null = entry(ref)
            field_names.append(path)
            readers[ref] = (model_names, field_names, not_null or lineage.non_null)
    if models:
        nullable = _model_nullability()
        for ref, names in orm.model_columns().items():
            model_names, field_names, not_null = entry(ref)
            model_names.extend(names)
            readers[ref] = (model_names, field_names, not_null or not nullable[ref])
    return {
        ref: Usage(models=tuple(sorted(m)), fields=tuple(sorted(f)), requires_not_null=not_null)
        for ref, (m, f, not_null) in sorted(readers.items())
    }


def _model_nullability() -> dict[ColumnRef, bool]:
    out: dict[ColumnRef, bool] = {}
    for model in orm.BILLIG_MODELS:
        key = orm.relation_key(model)
        for col in model.__table__.columns:
            out[ColumnRef(key.schema, key.name, str(col.name))] = bool(col.nullable)
    return out
