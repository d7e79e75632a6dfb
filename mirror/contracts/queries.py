"""Billig statements per serializer as a pinned contract (``contracts/queries.json``).

A contract kind (:mod:`mirror.contracts.kinds`). For every serializer the site can measure
(its source's optional ``queries()``), ``billig contracts update`` serializes a few seeded
objects and then more (:data:`SIZES`), counts the statements sent to the Billig database, and
pins per serializer the objects, the counts and whether the count is constant in the number of
objects. ``billig check`` measures again and fails when a constant count starts to grow (a
prefetch removed, a field reading Billig lazily: the N+1 that output shapes never show), or a
count exceeds the pinned one; it names each repeating statement, the relation it reads and,
where the lineage knows it, the serializer field and model behind it. A lower count passes and
is reported as an improvement for ``update`` to pin. A count pinned as growing is an accepted
N+1: it passes while it grows no further. Statements to the site's other databases are shown,
never pinned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirror.contracts.kinds import CheckResult, ContractContext
from mirror.contracts.statements import Profile, profile, triggers
from mirror.errors import ObservationError
from mirror.sources.json_locator import JsonDocument, dump_json, parse_json

QUERIES_FILE = "queries.json"
FORMAT_VERSION = 1
SIZES = (3, 30)  # objects serialized: few, then ten times as many


@dataclass(frozen=True, slots=True)
class Pin:
    """One serializer's pinned counts: statements per size of objects, and whether constant."""

    objects: tuple[int, ...]
    statements: tuple[int, ...]
    constant: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "constant": self.constant,
            "objects": list(self.objects),
            "statements": list(self.statements),
        }

    @classmethod
    def of(cls, measured: Profile) -> Pin:
        return cls(measured.objects, measured.billig, measured.constant)


def parse_pins(path: Path | str, raw: bytes | str) -> dict[str, Pin]:
    """The pins of a ``queries.json``; anything malformed is a located :class:`ContractError`."""
    document = parse_json(path, raw, what="queries contract")
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), "expected an object with format_version and serializers")
    unknown = sorted(set(data) - {"format_version", "serializers"})
    if unknown:
        raise document.error((unknown[0],), "unknown key", at_key=True)
    if data.get("format_version") != FORMAT_VERSION:
        raise document.error(("format_version",), f"expected {FORMAT_VERSION}")
    serializers = data.get("serializers")
    if not isinstance(serializers, dict):
        raise document.error(("serializers",), "expected an object of serializers")
    return {name: _pin(document, name, entry) for name, entry in serializers.items()}


def _pin(document: JsonDocument, name: str, entry: Any) -> Pin:
    where = ("serializers", name)
    if not isinstance(entry, dict) or set(entry) != {"constant", "objects", "statements"}:
        raise document.error(where, "expected constant, objects and statements")
    if not isinstance(entry["constant"], bool):
        raise document.error((*where, "constant"), "expected true or false")
    counts: list[list[int]] = []
    for key in ("objects", "statements"):
        value = entry[key]
        if (
            not isinstance(value, list)
            or not value
            or not all(type(v) is int and v >= 0 for v in value)
        ):
            raise document.error((*where, key), "expected a list of counts (integers ≥ 0)")
        counts.append(value)
    if len(counts[0]) != len(counts[1]):
        raise document.error((*where, "statements"), "expected one count per size of objects")
    return Pin(tuple(counts[0]), tuple(counts[1]), entry["constant"])


def dump_pins(pins: Mapping[str, Pin]) -> str:
    serializers = {name: pin.as_json() for name, pin in sorted(pins.items())}
    return dump_json({"format_version": FORMAT_VERSION, "serializers": serializers})


def _sizes(objects: Sequence[int], counts: Sequence[int]) -> str:
    return f"{' → '.join(map(str, counts))} for {' → '.join(map(str, objects))} objects"


def summary(pin: Pin) -> str:
    """``constant: 3 statements for 3 → 30 objects`` or ``grows …: 4 → 31 for 3 → 30 objects``."""
    if pin.constant:
        objects = " → ".join(map(str, pin.objects))
        return f"constant: {max(pin.statements)} statements for {objects} objects"
    return f"grows with the objects (N+1): {_sizes(pin.objects, pin.statements)}"


class QueriesSnapshot:
    """``queries.json``: Billig statements per serializer, pinned; a site that cannot measure
    (no ``queries()``, or it returns None) has no file of this kind."""

    name = "queries"

    def measure(self, ctx: ContractContext) -> dict[str, Profile] | None:
        def run() -> dict[str, Profile] | None:
            measure = getattr(ctx.site, "queries", None)
            if measure is None:
                return None
            runs = measure(ctx.database_url, ctx.moment, SIZES)
            if runs is None:
                return None
            return {name: profile(name, list(sized)) for name, sized in runs.items()}

        measured: dict[str, Profile] | None = ctx.cached("queries", run)
        return measured

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        measured = self.measure(ctx)
        if measured is None:
            return {}
        return {Path(QUERIES_FILE): dump_pins({n: Pin.of(p) for n, p in measured.items()})}

    def owned(self, ctx: ContractContext) -> list[Path]:
        return [Path(QUERIES_FILE)] if (ctx.contracts_dir / QUERIES_FILE).exists() else []

    def validate(self, folder: Path) -> None:
        path = folder / QUERIES_FILE
        if path.exists():
            parse_pins(path, path.read_bytes())

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        path = ctx.contracts_dir / QUERIES_FILE
        try:
            measured = self.measure(ctx)
        except ObservationError as exc:  # site code failed on the mirror: a failed check
            return [CheckResult(self.name, "Billig statements per serializer", (str(exc),))]
        if measured is None:
            if path.exists():
                problem = f"{QUERIES_FILE}: unused (the site measures no serializer)"
                return [CheckResult(self.name, "Billig statements per serializer", (problem,))]
            return []
        if not path.exists():
            problem = f"no {QUERIES_FILE}: run billig contracts update to pin the counts"
            return [CheckResult(self.name, "Billig statements per serializer", (problem,))]
        pins = parse_pins(path, path.read_bytes())
        lineage = ctx.site.lineage() if ctx.site is not None else {}
        results = []
        for name in sorted(set(pins) | set(measured)):
            check = f"{name}: Billig statements as pinned"
            if name not in measured:
                problem = f"pinned in {QUERIES_FILE} but no longer measured"
                results.append(CheckResult(self.name, check, (problem,)))
            elif name not in pins:
                problem = f"not pinned in {QUERIES_FILE}: run billig contracts update"
                results.append(CheckResult(self.name, check, (problem,)))
            else:
                results.append(_compare(self.name, check, pins[name], measured[name], lineage))
        return results

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        after = parse_pins(path, new) if new is not None else {}
        if old is None:
            return [f"{name}: {summary(pin)}" for name, pin in sorted(after.items())]
        before = parse_pins(path, old)
        lines = []
        for name in sorted(set(before) | set(after)):
            was, now = before.get(name), after.get(name)
            if now is None:
                lines.append(f"{name}: no longer measured")
            elif was is None:
                lines.append(f"{name}: {summary(now)}")
            elif was.as_json() != now.as_json():
                lines.append(f"{name}: {summary(was)} → {summary(now)}")
        return lines or (["removed"] if new is None else ["formatting only"])


def _compare(
    kind: str, check: str, pin: Pin, measured: Profile, lineage: Mapping[Any, Any]
) -> CheckResult:
    problems: list[str] = []
    now = _sizes(measured.objects, measured.billig)
    if not measured.constant and pin.constant:
        problems.append(
            f"grows with the number of objects: {now} (pinned: constant, "
            f"{max(pin.statements)} statements)"
        )
    elif pin.objects == measured.objects:
        if any(m > p for m, p in zip(measured.billig, pin.statements, strict=True)):
            problems.append(
                f"more statements than pinned: {now} (pinned {_sizes(pin.objects, pin.statements)})"
            )
    elif max(measured.billig) > max(pin.statements):
        problems.append(
            f"more statements than pinned: {now} (pinned at most {max(pin.statements)})"
        )
    if problems:
        for repeat in measured.repeats:
            reads = ", ".join(repeat.statement.tables) or "an unknown relation"
            via = triggers(measured.serializer, repeat.statement.tables, lineage)
            problems.append(
                f"repeats {' → '.join(map(str, repeat.counts))} times: "
                f"{repeat.statement.shown} (reads {reads}"
                + (f"; via {', '.join(via)})" if via else ")")
            )
    detail = summary(Pin.of(measured))
    if not measured.constant and not pin.constant:
        detail += ", as pinned"
    if any(measured.other):
        detail += f"; other databases: {' → '.join(map(str, measured.other))}"
    if (
        not problems
        and sum(measured.billig) < sum(pin.statements)
        and pin.objects == measured.objects
    ):
        detail += f"; fewer than pinned ({_sizes(pin.objects, pin.statements)}): update pins it"
    if not measured.measured:
        detail += "; one size only (too few seeded objects to tell growth)"
    return CheckResult(kind, check, tuple(problems), detail=detail)
