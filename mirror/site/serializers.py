"""The site API's JSON shapes (SPEC §3): declared pydantic schemas, serializers, and lineage.

The schemas :class:`PriceGroup`, :class:`TicketGroup`, :class:`BilligEvent` and :class:`Event`
*are* the public contract: field names are fixed, later tooling snapshots their JSON Schema, and
the API uses them as response models. Each field declares where its value comes from with a
:class:`Source` (the Billig columns it copies, derives from, or joins on, or the site column), so
:data:`FIELD_LINEAGE` maps every field path such as
``BilligEvent.ticket_groups[].price_groups[].price`` to ``billig.price_group.price``. Every
public schema derives from :class:`PublicModel`, which refuses at class creation any field named
in :data:`FORBIDDEN_FIELDS` and any undeclared key, so forbidden data cannot be emitted.

Timestamps are Billig's naive local times, emitted with the site zone's offset
(:func:`mirror.site.rules.localize`). Serializing a list of site events always prefetches, one query
per level; for a long list, :func:`serialize_events_json` builds the same JSON data straight from
plain rows, without a model or ORM object per row, and :func:`render_events_json` its text.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from mirror.catalog.model import ColumnRef, Usage
from mirror.site import billig_models as orm
from mirror.site import events as site_models
from mirror.site import rules
from mirror.site.prefetch import (
    BilligRows,
    PriceGroupRow,
    TicketGroupRow,
    attach_price_groups,
    attach_ticket_groups,
    billig_ids,
    load_billig_rows,
    prefetch_billig,
)

# Never public (SPEC §3): ticket counts, owner data, card numbers. Pinned by the shape snapshots.
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
                    "are never public (SPEC §3)"
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


# The serializers of SPEC §3 by their contract name.
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


def serialize_event(event: site_models.Event, now: datetime | None = None) -> Event:
    """One site event with its Billig event (loaded lazily for this one event)."""
    return _serialize_event(event, _Clock.at(now), {})


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
    """Site events with nested Billig data: always prefetched, one query per level.

    Builds a model per row, ORM objects included; for the JSON of a long list,
    :func:`serialize_events_json` gives the same data several times faster.
    """
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


# --------------------------------------------------------------------------- list path: JSON

# The list path builds the schemas' JSON from plain rows, without a model or an ORM object per
# row: for 10,000 site events, some 80,000 fewer of each, and fewer objects for every full
# garbage collection to scan. Its keys, their order and its values are those of
# to_json(serialize_events(...)), pinned by the tests for all seeded data; the shapes are still
# declared (and snapshotted) by the models above.

_T = TypeVar("_T")
# JSON text as a list endpoint sends it: compact, UTF-8 kept (as Starlette's JSONResponse).
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
# An Event in that form around its encoded strings, keys in the schema's order (tested).
_EVENT_TEXT = '{"id":%d,"title":%s,"start_dt":%s,"ticket_type":%s,"billig":%s}'


class _Counts(NamedTuple):
    """What the event rules read of a ticket group."""

    num_sold: int
    num: int


def serialize_events_json(
    session: Session, events: Iterable[site_models.Event], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``to_json(serialize_events(session, events, now))``, built without models.

    One query per level into plain rows (:func:`mirror.site.prefetch.load_billig_rows`), then the
    JSON data directly. ``event.billig`` stays as it was. Rows are not validated one by one: a
    column that drifted to NULL shows as ``null`` here where the models would fail; catching
    drift is the drift check's job. Site events of one Billig event share its dict: treat the
    result as read-only.
    """
    clock = _Clock.at(now)
    moment = _JsonMoments(clock.zone)
    events = list(events)
    billig = dict(_billig_events_json(load_billig_rows(session, billig_ids(events)), clock, moment))
    return [
        {
            "id": event.id,
            "title": event.title,
            "start_dt": moment(event.start_dt),
            "ticket_type": event.ticket_type,
            "billig": _billig_of(event, billig),
        }
        for event in events
    ]


def render_events_json(
    session: Session, events: Iterable[site_models.Event], now: datetime | None = None
) -> str:
    """The JSON text of :func:`serialize_events_json`, as a list endpoint sends it.

    Equal to ``json.dumps(serialize_events_json(...), ensure_ascii=False, allow_nan=False,
    separators=(",", ":"))``, but each Billig event is encoded as soon as it is built and its
    dicts dropped, so a long list leaves only strings behind: nothing for the garbage collector
    to scan again and again.
    """
    clock = _Clock.at(now)
    moment = _JsonMoments(clock.zone)
    events = list(events)
    rows = load_billig_rows(session, billig_ids(events))
    billig = {i: _encode(data) for i, data in _billig_events_json(rows, clock, moment)}
    parts = [
        _EVENT_TEXT
        % (
            event.id,
            _encode(event.title),
            _encode(moment(event.start_dt)),
            _encode(event.ticket_type),
            _billig_of(event, billig) or "null",
        )
        for event in events
    ]
    return "[" + ",".join(parts) + "]"


def _billig_of(event: site_models.Event, found: Mapping[int, _T]) -> _T | None:
    """What ``event.billig`` is, looked up in data loaded for many site events."""
    if event.billig_id is None or not event.sold_through_billig:
        return None
    return found.get(event.billig_id)


def _billig_events_json(
    rows: BilligRows, clock: _Clock, moment: _JsonMoments
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(id, BilligEvent JSON) of every event in ``rows``, one at a time, in id order."""
    for (id_, name, sale_from, sale_to), groups in rows.nested():
        is_almost_sold_out, is_sold_out = _event_sold_out([group for group, _ in groups])
        yield (
            id_,
            {
                "id": id_,
                "name": name,
                "ticket_groups": [_ticket_group_json(group, prices) for group, prices in groups],
                "sale_from": moment(sale_from),
                "sale_to": moment(sale_to),
                "in_sale_period": rules.in_sale_period(sale_from, sale_to, clock.now),
                "is_almost_sold_out": is_almost_sold_out,
                "is_sold_out": is_sold_out,
            },
        )


def _ticket_group_json(group: TicketGroupRow, prices: list[PriceGroupRow]) -> dict[str, Any]:
    id_, _, name, ticket_limit, num_sold, num = group
    return {
        "id": id_,
        "name": name,
        "is_sold_out": rules.group_is_sold_out(num_sold, num),
        "is_almost_sold_out": rules.group_is_almost_sold_out(num_sold, num),
        "ticket_limit": ticket_limit,
        "price_groups": [
            {
                "id": pg_id,
                "name": pg_name,
                "can_be_put_on_card": on_card,
                "membership_needed": membership_needed,
                "netsale": netsale,
                "price": price,
            }
            for pg_id, _, pg_name, on_card, membership_needed, netsale, price in prices
        ],
    }


def _event_sold_out(groups: Sequence[TicketGroupRow]) -> tuple[bool, bool]:
    """(is_almost_sold_out, is_sold_out) of an event with these ticket groups."""
    counts = [_Counts(num_sold, num) for *_, num_sold, num in groups]
    return rules.event_is_almost_sold_out(counts), rules.event_is_sold_out(counts)


# The schemas' own JSON form of a datetime, so that the direct JSON cannot differ from theirs.
_DATETIME = TypeAdapter(datetime)


class _JsonMoments:
    """Naive Billig timestamps as the schemas' JSON writes them, in the site zone.

    Converted once per distinct time: Billig's times repeat (sale starts, round hours), 10,000
    events have a few hundred distinct ones.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.seen: dict[datetime, str] = {}

    def __call__(self, moment: datetime) -> str:
        # Naive times compare equal whatever their fold, their offsets need not: no cache key.
        if moment.tzinfo is not None or moment.fold:
            return self._dump(moment)
        text = self.seen.get(moment)
        if text is None:
            text = self.seen[moment] = self._dump(moment)
        return text

    def _dump(self, moment: datetime) -> str:
        text: str = _DATETIME.dump_python(rules.localize(moment, self.zone), mode="json")
        return text


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


def declared_forbidden(schema: type[BaseModel]) -> list[str]:
    """Forbidden keys anywhere in a schema's declared JSON Schema (its properties, nested)."""

    def walk(node: Any, path: str) -> Iterator[str]:
        if isinstance(node, Mapping):
            for key in node.get("properties", {}):
                if key in FORBIDDEN_FIELDS:
                    yield f"{path}.{key}"
            for key, sub in node.items():
                yield from walk(sub, f"{path}.{key}" if key != "properties" else path)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, path)

    return sorted(set(walk(schema.model_json_schema(mode="serialization"), schema.__name__)))


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


def output_schemas() -> dict[str, type[PublicModel]]:
    """Every public output schema of the integration layer by name: the four serializers, the
    payment form and validation, payment-error outcomes and ticket descriptions."""
    # Imported here because those modules build on this one.
    from mirror.site.payment import PAYMENT_SCHEMAS
    from mirror.site.payment_errors import PAYMENT_ERROR_SCHEMAS
    from mirror.site.tickets import TICKET_SCHEMAS

    return {**SERIALIZER_SCHEMAS, **PAYMENT_SCHEMAS, **PAYMENT_ERROR_SCHEMAS, **TICKET_SCHEMAS}


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
