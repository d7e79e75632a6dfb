"""Deterministic values of any PostgreSQL type a column may have, and record values fitted to it.

``made(…, i)`` is the value of row ``i``: distinct for distinct ``i`` wherever the type has room
(numbers, text within its length, dates, uuids, addresses, bit strings, enum labels while they
last), always within the column's limits (``numeric(p, s)``, ``character(n)``, ``bit(n)``).
Arrays, ranges and multiranges are made of their element or subtype's values; a domain's value
is its base type's. A type the seed cannot make a value of raises :class:`CannotMake`.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

from mirror.provision.seed_tables import SeedColumn, SeedSchema, TypeInfo

_INT_LIMITS = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1, "oid": 2**32 - 1}
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Types whose values of this Python type a column takes unchanged (text within its length limit).
_TAKEN_AS_IS: dict[str, type] = {
    "boolean": bool, "text": str, "character varying": str, "citext": str,
    "timestamp without time zone": datetime, "timestamp with time zone": datetime, "date": date,
}  # fmt: skip


class CannotMake(Exception):
    """No value of the type can be made; the argument says why."""


def limits(column: SeedColumn, schema: SeedSchema) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) of a column, a domain's own limits where the column has none."""
    length, precision, scale = column.length, column.precision, column.scale
    for domain in schema.domains(column.type_oid):
        length = length if length is not None else domain.length
        if precision is None and domain.precision is not None:
            precision, scale = domain.precision, domain.scale
    return length, precision, scale


def made(schema: SeedSchema, column: SeedColumn, ref: datetime, i: int) -> object:
    """The value of row ``i`` for ``column``."""
    return maker(schema, column, ref)(i)


def maker(schema: SeedSchema, column: SeedColumn, ref: datetime) -> Callable[[int], object]:
    """``made`` for one column, its type and limits read once: the value of row ``i``."""
    if column.allowed:  # the values its readers allow, each in turn
        allowed = column.allowed
        return lambda i: allowed[i % len(allowed)]
    info = schema.resolve(column.type_oid)
    length, precision, scale = limits(column, schema)

    def value(i: int) -> object:
        if info is None:
            raise CannotMake(f"the seed makes no values of type {column.type_name}")
        return _value(schema, info, column.name, length, precision, scale, ref, i)

    return value


def _value(
    schema: SeedSchema,
    info: TypeInfo,
    name: str,
    length: int | None,
    precision: int | None,
    scale: int | None,
    ref: datetime,
    i: int,
) -> object:
    n = i + 1
    type_name = info.name
    if info.kind == "e":
        if not info.labels:
            raise CannotMake(f"the enum {type_name} has no label")
        return info.labels[i % len(info.labels)]
    if info.category == "A":
        element = schema.resolve(info.element)
        if element is None:
            raise CannotMake(f"the seed makes no values of type {type_name}")
        value = _value(schema, element, name, None, None, None, ref, i)
        return "{" + _quoted(_text(value)) + "}"
    if info.kind in ("r", "m"):
        sub = schema.resolve(info.subtype)
        if sub is None:
            raise CannotMake(f"the seed makes no values of type {type_name}")
        bound = _quoted(_text(_value(schema, sub, name, None, None, None, ref, i)))
        single = f"[{bound},{bound}]"  # one point: valid whatever the subtype's order
        return "{" + single + "}" if info.kind == "m" else single
    if type_name in _INT_LIMITS:
        return n % _INT_LIMITS[type_name] or 1
    if type_name == "numeric":
        return _numeric(n, precision, scale)
    if type_name in ("real", "double precision"):
        return n + 0.5
    if type_name == "money":
        return f"{n}.00"
    if type_name == "boolean":
        return i % 2 == 1
    if type_name in ("text", "character varying", "character", "name", "citext"):
        return _text_of(name, n, length)
    if type_name == '"char"':
        return _DIGITS[10 + i % 26]
    if type_name == "date":
        return ref.date() + timedelta(days=i)
    if type_name.startswith("timestamp"):
        return ref + timedelta(hours=i)
    if type_name.startswith("time"):
        clock = f"{i % 24:02d}:{i // 24 % 60:02d}:00"
        return clock + "+00" if "with time zone" in type_name else clock
    if type_name == "interval":
        return f"{n} hours"
    if type_name == "uuid":
        return str(uuid.UUID(int=n))
    if type_name in ("json", "jsonb"):
        return json.dumps({name: n})
    if type_name == "bytea":
        return f"\\x{n:08x}"
    if type_name in ("inet", "cidr"):
        return f"{ipaddress.IPv4Address(0x0A000000 + n % 2**24)}/32"
    if type_name in ("macaddr", "macaddr8"):
        size = 6 if type_name == "macaddr" else 8
        return ":".join(f"{b:02x}" for b in n.to_bytes(size, "big"))
    if type_name in ("bit", "bit varying"):
        bits = format(n, "b")
        if type_name == "bit":
            size = length or 1
            return format(n % 2**size, f"0{size}b")
        return bits if length is None else bits[-length:]
    if type_name == "xml":
        return f"<{name}>{n}</{name}>" if name.isidentifier() else f"<v>{n}</v>"
    if type_name == "tsvector":
        return f"w{n}"
    if type_name == "point":
        return f"({n},{n})"
    raise CannotMake(f"the seed makes no values of type {type_name}")


def _numeric(n: int, precision: int | None, scale: int | None) -> str:
    if precision is None:
        return str(n)
    scale = scale or 0
    whole = precision - scale
    if whole > 0:
        return str(n % 10**whole or 1)
    digits = str(n % 10**precision or 1).zfill(precision)
    return "0." + "0" * (scale - precision) + digits


def _text_of(name: str, n: int, length: int | None) -> str:
    text = f"{name} {n}"
    if length is None or len(text) <= length:
        return text
    digits, rest = "", n
    while rest:
        rest, d = divmod(rest, 36)
        digits = _DIGITS[d] + digits
    return digits[-length:]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _quoted(text: str) -> str:
    """An element of an array or a bound of a range, quoted as their input syntax reads it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fitted(schema: SeedSchema, column: SeedColumn, value: object) -> tuple[bool, object]:
    """A record's value as ``column`` can hold it: (True, value) or (False, None) when it cannot."""
    return fitter(schema, column)(value)


def fitter(schema: SeedSchema, column: SeedColumn) -> Callable[[object], tuple[bool, object]]:
    """``fitted`` for one column, its type and limits read once."""
    if column.allowed:  # a record's value only where its readers allow it (or NULL, if it may)
        allowed = frozenset(column.allowed) | ({None} if not column.not_null else set())
        return lambda value: (value in allowed, value)
    info = schema.resolve(column.type_oid)
    length, precision, scale = limits(column, schema)
    slow = partial(_fit, info, column.not_null, length, precision, scale)
    name = info.name if info is not None and info.kind != "e" else None
    exact, limit = _TAKEN_AS_IS.get(name or ""), length  # text: its length limit, if any
    if name in _INT_LIMITS:
        exact, limit = int, _INT_LIMITS[name]
    nullable = not column.not_null

    def fit(value: object) -> tuple[bool, object]:
        # Most values are NULL or of the column's own Python type within its limit: as they are.
        if value is None:
            return nullable, None
        if type(value) is exact:
            if limit is None:
                return True, value
            if (len(value) if exact is str else abs(value)) <= limit:  # type: ignore[arg-type]
                return True, value
        return slow(value)

    return fit


def _fit(
    info: TypeInfo | None,
    not_null: bool,
    length: int | None,
    precision: int | None,
    scale: int | None,
    value: object,
) -> tuple[bool, object]:
    if value is None:
        return not not_null, None
    if info is None:
        return False, None
    type_name = info.name
    if info.kind == "e":
        return (value in info.labels, value)
    if isinstance(value, bool):
        if type_name == "boolean":
            return True, value
        return (info.category == "S", _text(value))
    if isinstance(value, int):
        if type_name in _INT_LIMITS:
            return abs(value) <= _INT_LIMITS[type_name], value
        if type_name == "numeric":
            room = precision is None or abs(value) < 10 ** (precision - (scale or 0))
            return room, value
        if type_name in ("real", "double precision", "money"):
            return True, value
    if isinstance(value, datetime):
        if type_name.startswith("timestamp"):
            return True, value
        if type_name == "date":
            return True, value.date()
    elif isinstance(value, date):
        if type_name == "date":
            return True, value
        if type_name.startswith("timestamp"):
            return True, datetime.combine(value, datetime.min.time())
    if info.category == "S" and type_name != '"char"':
        text = _text(value)
        return True, text if length is None else text[:length]
    return False, None
