"""How a change of column type affects a reader: widening, narrowing or incompatible."""

from __future__ import annotations

from enum import StrEnum

from mirror.catalog.type_names import ParsedType, parse_type


class TypeChange(StrEnum):
    """How a column type change affects a reader.

    Types are grouped into families by the Python value a reader gets (int, str, Decimal, float,
    naive datetime, aware datetime, …). Within a family a change that loses no value is a
    widening (``varchar(140)`` → ``varchar(255)``, ``varchar`` → ``text``, ``integer`` →
    ``bigint``, ``json`` → ``jsonb``), one that may lose values a narrowing. A change across
    families is incompatible, even where PostgreSQL would cast: ``integer`` → ``numeric`` hands
    a reader ``Decimal`` instead of ``int``, and ``timestamp`` → ``timestamptz`` hands it aware
    datetimes that raise when compared with the naive ones the site uses.
    """

    WIDENING = "widening"
    NARROWING = "narrowing"
    INCOMPATIBLE = "incompatible"


_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_FLOATS = {"real": 1, "double precision": 2}
_STRINGS = {"character varying", "character", "text"}
_FAMILY = {
    **{t: "int" for t in _INTEGERS},
    **{t: "float" for t in _FLOATS},
    **{t: "str" for t in _STRINGS},
    "json": "json",
    "jsonb": "json",
    "bit": "bit",
    "bit varying": "bit",
}
_INFINITE = 1 << 62


def _family(t: ParsedType) -> str:
    return _FAMILY.get(t.base, t.base)


def classify_type_change(old: str, new: str) -> TypeChange:
    """Classify a change of canonical type spelling from ``old`` to ``new`` (see TypeChange)."""
    a, b = parse_type(old), parse_type(new)
    if a is None or b is None or a.dims != b.dims or _family(a) != _family(b):
        return TypeChange.INCOMPATIBLE
    if _family(a) == "int":
        return _order(_INTEGERS[a.base], _INTEGERS[b.base])
    if _family(a) == "float":
        return _order(_FLOATS[a.base], _FLOATS[b.base])
    if _family(a) in ("str", "bit"):
        return _order(_length(a), _length(b))
    if _family(a) == "json":
        return TypeChange.WIDENING
    if a.base == "numeric":
        return _numeric(a.args, b.args)
    if a.base != b.base:
        return TypeChange.INCOMPATIBLE
    if a.base.startswith(("timestamp", "time", "interval")):
        # No precision means the maximum (6 fractional digits).
        return _order(a.args[0] if a.args else 6, b.args[0] if b.args else 6)
    if len(a.args) == 1 and len(b.args) == 1:
        return _order(a.args[0], b.args[0])
    return TypeChange.INCOMPATIBLE


def _order(old: int, new: int) -> TypeChange:
    # Equal capacity under another spelling (char(10) → varchar(10)) loses nothing.
    return TypeChange.WIDENING if new >= old else TypeChange.NARROWING


def _length(t: ParsedType) -> int:
    if t.args:
        return t.args[0]
    # Bare character/bit means length 1; bare varchar/text/varbit is unlimited.
    return 1 if t.base in ("character", "bit") else _INFINITE


def _numeric(old: tuple[int, ...], new: tuple[int, ...]) -> TypeChange:
    if not new:
        return TypeChange.WIDENING
    if not old:
        return TypeChange.NARROWING
    p1, s1 = old[0], old[1] if len(old) > 1 else 0
    p2, s2 = new[0], new[1] if len(new) > 1 else 0
    fits = p2 - s2 >= p1 - s1 and s2 >= s1
    return TypeChange.WIDENING if fits else TypeChange.NARROWING
