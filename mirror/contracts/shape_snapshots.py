"""The ``shapes`` contract kind: ``shapes/<Serializer>.json``, each serializer's output shape.

Generated from the site's declared serializer schemas with the keys that must never be public;
checked twice: the declared shapes equal their snapshots, and the serializers' real output on the
seeded mirror matches them. Shapes themselves are :mod:`mirror.contracts.shapes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mirror.contracts.kinds import CheckResult, ContractContext
from mirror.contracts.shapes import (
    SHAPES_DIR,
    ShapeSnapshot,
    diff_snapshots,
    forbidden_in_schema,
    load_shape,
    observed_problems,
    parse_shape,
    shape_file,
    snapshot_of,
)
from mirror.errors import ContractError, ObservationError
from mirror.sources.json_locator import parse_json


class ShapesSnapshot:
    """``shapes/<Serializer>.json``: each serializer's JSON Schema and the forbidden keys."""

    name = "shapes"

    def declared(self, ctx: ContractContext) -> dict[str, ShapeSnapshot]:
        if ctx.site is None:
            return {}
        return {
            name: snapshot_of(name, schema, ctx.forbidden)
            for name, schema in ctx.site.shapes().items()
        }

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        declared = self.declared(ctx)
        exposed = [line for snap in declared.values() for line in forbidden_in_schema(snap)]
        if exposed:
            # The privacy contract cannot be updated away: fix the serializer instead.
            raise ContractError(f"refusing to pin a forbidden field: {exposed[0]}")
        return {shape_file(Path(), name): snap.dump() for name, snap in sorted(declared.items())}

    def owned(self, ctx: ContractContext) -> list[Path]:
        folder = ctx.contracts_dir / SHAPES_DIR
        if not folder.is_dir():
            return []
        return sorted(Path(SHAPES_DIR) / p.name for p in folder.glob("*.json"))

    def validate(self, folder: Path) -> None:
        for path in sorted((folder / SHAPES_DIR).glob("*.json")):
            load_shape(path)

    def stored(self, ctx: ContractContext, name: str) -> ShapeSnapshot | None:
        path = shape_file(ctx.contracts_dir, name)
        return load_shape(path) if path.exists() else None

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        declared = self.declared(ctx)
        if not declared and not self.owned(ctx):
            return []
        stored = {name: self.stored(ctx, name) for name in declared}
        return [self._declared(ctx, declared, stored), self._observed(ctx, stored)]

    def _declared(
        self,
        ctx: ContractContext,
        declared: Mapping[str, ShapeSnapshot],
        stored: Mapping[str, ShapeSnapshot | None],
    ) -> CheckResult:
        problems: list[str] = []
        for name, snap in sorted(declared.items()):
            pinned = stored[name]
            problems += [f"{name}: {line}" for line in forbidden_in_schema(snap)]
            if pinned is None:
                problems.append(f"{name}: no snapshot {SHAPES_DIR}/{name}.json")
                continue
            problems += [f"{name}: {line}" for line in diff_snapshots(pinned, snap)]
        for rel in self.owned(ctx):
            if rel.stem not in declared:
                problems.append(f"{rel}: unused snapshot (no serializer {rel.stem!r})")
        return CheckResult(
            self.name,
            "declared serializer shapes equal their snapshots",
            tuple(problems),
            detail=f"{len(declared)} serializers",
        )

    def _observed(
        self, ctx: ContractContext, stored: Mapping[str, ShapeSnapshot | None]
    ) -> CheckResult:
        name = "real serializer output on the seeded mirror matches the snapshots"
        site = ctx.site
        try:
            outputs = site.observe(ctx.database_url, ctx.moment) if site is not None else None
        except ObservationError as exc:
            return CheckResult(self.name, name, (str(exc),))
        if outputs is None:
            return CheckResult(self.name, name, detail="not observed: the site gives no output")
        problems: list[str] = []
        total = 0
        for serializer, pinned in sorted(stored.items()):
            items = list(outputs.get(serializer, []))
            total += len(items)
            if pinned is None:
                continue  # reported by the declared check
            if not items:
                # A serializer the site gave nothing to serialize: the site says how to.
                hint = getattr(site, "observe_hint", None) if serializer not in outputs else None
                hint = f" ({hint})" if isinstance(hint, str) else ""
                problems.append(f"{serializer}: no output observed on the seeded mirror{hint}")
                continue
            problems += observed_problems(pinned, items, label=serializer)
        return CheckResult(
            self.name,
            name,
            tuple(problems),
            detail=f"{total} objects",
        )

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        if old is None:
            return ["new snapshot"]
        if new is None:
            return ["removed (no such serializer)"]
        before = parse_shape(parse_json(path, old.encode("utf-8")))
        after = parse_shape(parse_json(path, new.encode("utf-8")))
        return diff_snapshots(before, after) or ["formatting only"]
