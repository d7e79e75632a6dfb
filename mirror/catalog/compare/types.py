"""How a change of column type affects a reader: widening, narrowing or incompatible."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from mirror.catalog.compare.impact import Reading, column_finding, judge
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Column, ColumnRef, RelationKey
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


def type_change_verb(change: TypeChange) -> str:
    return {
        TypeChange.WIDENING: "widened",
        TypeChange.NARROWING: "narrowed",
        TypeChange.INCOMPATIBLE: "changed incompatibly",
    }[change]


def compare_type_content(
    key: RelationKey, old: Column, new: Column, reading: Reading
) -> Iterator[Finding]:
    """What changed inside a type: an enum's labels, a domain's base type (under the same name).

    Unknown on either side (None: a model without choices, or a contract pinned before labels
    were) says nothing. A removed label is breaking for a reader (a value it filters or compares
    with is gone, and rows it knew change); a new one is a warning (a value its code may not
    expect).
    """
    yield from _domain_base(key, old, new, reading)
    yield from _enum_labels(key, old, new, reading)


def _domain_base(key: RelationKey, old: Column, new: Column, reading: Reading) -> Iterator[Finding]:
    ref = ColumnRef(*key, old.name)
    if (
        old.type == new.type
        and old.base_type is not None
        and new.base_type is not None
        and old.base_type != new.base_type
    ):
        change = classify_type_change(old.base_type, new.base_type)
        base = Severity.WARNING if change is TypeChange.WIDENING else Severity.BREAKING
        yield column_finding(
            FindingKind.TYPE_CHANGED,
            judge(base, reading),
            key,
            old.name,
            old.base_type,
            new.base_type,
            f"column {ref} type {type_change_verb(change)}: domain {old.type} now over "
            f"{new.base_type}, was {old.base_type}",
            reading,
            change.value,
            evidence=f"the domain {old.type} kept its name",
        )


def _enum_labels(key: RelationKey, old: Column, new: Column, reading: Reading) -> Iterator[Finding]:
    if old.labels is None or new.labels is None or old.labels == new.labels:
        return
    ref = ColumnRef(*key, old.name)
    kept = set(new.labels)
    removed = [label for label in old.labels if label not in kept]
    known = set(old.labels)
    added = [label for label in new.labels if label not in known]
    if removed:
        severity, change = judge(Severity.BREAKING, reading), "changed" if added else "removed"
    elif added:
        severity, change = Severity.WARNING, "added"
    else:
        severity, change = Severity.INFO, "reordered"
    what = "; ".join(
        part
        for part in (
            f"removed {_labels(removed)}" if removed else "",
            f"added {_labels(added)}" if added else "",
            "reordered" if change == "reordered" else "",
        )
        if part
    )
    yield column_finding(
        FindingKind.ENUM_LABELS_CHANGED,
        severity,
        key,
        old.name,
        _labels(old.labels),
        _labels(new.labels),
        f"column {ref}: enum {old.type} {what}",
        reading,
        change,
    )


def _labels(labels: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"'{label}'" for label in labels)


def read_as(column: Column) -> str | None:
    """The type whose values a reader of ``column`` gets: an enum's labels are text as long as
    the longest label, a domain's values those of its base type; None for a type the harness
    cannot place (a user type pinned without labels or base type)."""
    if column.labels is not None:
        longest = max((len(label) for label in column.labels), default=1)
        return f"character varying({longest})" + "[]" * column.type.count("[]")
    if column.base_type is not None:
        return column.base_type
    return column.type if parse_type(column.type) is not None else None
