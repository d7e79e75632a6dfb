"""Contract checks and the update workflow over a registry of snapshot kinds.

A *snapshot kind* owns some files under ``contracts/``, knows how to generate them from the code
and the seeded mirror, how to check them, and how to say what changed between two versions:
``columns`` (``columns.json``: the Billig relations, from the mirror loaded from
``schema/billig.sql``, with lineage) and ``shapes`` (``shapes/<Serializer>.json``). Other kinds
(the API's OpenAPI document) plug in with :func:`register_snapshot_kind`. ``check_contracts``
verifies without writing; ``update_contracts`` rewrites every file atomically, removes files no
kind generates any more, and returns what changed. Catalog checks use the one comparator
(:func:`~mirror.catalog.compare.compare_catalogs`); shapes by :mod:`~mirror.contracts.shapes`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from deepdiff import DeepDiff

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import Catalog, ColumnRef, Usage
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
from mirror.errors import ContractError, ObservationError, UsageError
from mirror.report.render import table_cell
from mirror.sources.contract_file import (
    COLUMNS_FILE,
    catalog_to_json,
    dump_contract,
    load_contract,
    parse_contract,
    with_lineage,
    write_files_atomic,
)
from mirror.sources.json_locator import JsonDocument, parse_json
from mirror.sources.site import SiteSource

BILLIG_SCHEMA = "billig"
# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: passed when it has no problems; ``problems`` are compact diff lines."""

    kind: str
    name: str
    problems: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


ChangeStatus = Literal["added", "changed", "removed", "unchanged"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """What an update did to one contract file, with the lines describing the change."""

    path: Path
    status: ChangeStatus
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractContext:
    """What checks and updates work on: the contracts folder, the seeded mirror, the site.

    ``database`` is a mirror loaded from the schema file and seeded; it is only read. ``site`` is
    the site under contract (None: only the schema is pinned, without lineage or shapes).
    """

    contracts_dir: Path
    database: Any  # a Dsn, a SQLAlchemy URL or a libpq URL string
    now: datetime | None = None
    site: SiteSource | None = None
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """Compute ``make()`` once per context (introspection, observed output)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def database_url(self) -> str:
        """The mirror as a libpq URL with its password, for the site's own code."""
        from mirror.dsn import Dsn

        return Dsn.of(self.database).url()  # a Dsn's str() would be masked

    @property
    def moment(self) -> datetime:
        """The reference time of observations (now, unless the context fixes it)."""
        return self.now or datetime.now(UTC)

    @property
    def forbidden(self) -> frozenset[str]:
        return self.site.forbidden_fields if self.site is not None else frozenset()


class SnapshotKind(Protocol):
    """A kind of contract file: generate, check, and describe changes."""

    name: str

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        """Every file of this kind as it should be, by path relative to the contracts folder."""
        ...

    def owned(self, ctx: ContractContext) -> list[Path]:
        """Existing files of this kind (relative paths), to find ones no longer generated."""
        ...

    def check(self, ctx: ContractContext) -> list[CheckResult]: ...

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        """Lines saying how file ``path`` changes from ``old`` to ``new`` text."""
        ...


_KINDS: dict[str, SnapshotKind] = {}
# Modules that register more kinds when imported (the API's OpenAPI snapshot); loaded on first
# use so that every command sees every kind, and skipped while a module does not exist yet.
KIND_MODULES: tuple[str, ...] = ("mirror.contracts.openapi",)


def register_snapshot_kind(kind: SnapshotKind) -> None:
    """Add (or replace) a snapshot kind; checks and updates run kinds in registration order."""
    _KINDS[kind.name] = kind


KindSelection = Sequence["str | SnapshotKind"] | None


def snapshot_kinds(selection: KindSelection = None) -> list[SnapshotKind]:
    """Registered kinds by name (default: all); kind objects pass through unregistered."""
    _load_kind_modules()
    if selection is None:
        return list(_KINDS.values())
    out: list[SnapshotKind] = []
    for item in selection:
        if not isinstance(item, str):
            out.append(item)
        elif item in _KINDS:
            out.append(_KINDS[item])
        else:
            known = ", ".join(sorted(_KINDS))
            raise UsageError(f"unknown snapshot kind {item!r} (known: {known})")
    return out


# --------------------------------------------------------------------------- workflow


def check_contracts(ctx: ContractContext, kinds: KindSelection = None) -> list[CheckResult]:
    """Run every check of the given kinds (default: all); never writes."""
    results: list[CheckResult] = []
    for kind in snapshot_kinds(kinds):
        results += kind.check(ctx)
    return results


def _load_kind_modules() -> None:
    for name in KIND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def validate_contracts(folder: Path, kinds: KindSelection = None) -> None:
    """Fail fast, before any database work, on a malformed or missing contract file.

    A kind may offer ``validate(folder)``, reading its files without a database; kinds without
    it are validated when they are checked.
    """
    for kind in snapshot_kinds(kinds):
        validate = getattr(kind, "validate", None)
        if callable(validate):
            validate(folder)


def update_contracts(ctx: ContractContext, kinds: KindSelection = None) -> list[FileChange]:
    """Regenerate the contract files atomically; returns one change per file, sorted by path.

    Everything is generated before anything is written: a failure (a forbidden field in a
    serializer, an unreachable mirror) leaves every file as it was.
    """
    planned: dict[Path, tuple[SnapshotKind, str]] = {}
    stale: dict[Path, SnapshotKind] = {}
    selected = snapshot_kinds(kinds)
    for kind in selected:
        for rel, text in kind.generate(ctx).items():
            planned[rel] = (kind, text)
    for kind in selected:
        for rel in kind.owned(ctx):
            if rel not in planned:
                stale[rel] = kind
    changes: list[FileChange] = []
    writes: dict[Path, str] = {}
    for rel, (kind, text) in sorted(planned.items()):
        path = ctx.contracts_dir / rel
        old = _read_text(path)
        if old == text:
            changes.append(FileChange(path, "unchanged"))
            continue
        status: ChangeStatus = "added" if old is None else "changed"
        changes.append(FileChange(path, status, tuple(_describe(kind, path, old, text))))
        writes[path] = text
    write_files_atomic(writes)
    for rel, kind in sorted(stale.items()):
        path = ctx.contracts_dir / rel
        lines = tuple(_describe(kind, path, _read_text(path), None))
        path.unlink()
        changes.append(FileChange(path, "removed", lines))
    return sorted(changes, key=lambda c: str(c.path))


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable: rewritten like a changed file


def _describe(kind: SnapshotKind, path: Path, old: str | None, new: str | None) -> list[str]:
    try:
        return kind.describe(path, old, new)
    except ContractError as exc:  # the old file was broken by hand: say so, then replace it
        return [f"replaces an invalid file ({exc})"]


# --------------------------------------------------------------------------- columns


def _finding_line(finding: Finding) -> str:
    return f"[{finding.severity.label}] {finding.message}"


def mirror_catalog(ctx: ContractContext) -> Catalog:
    """The Billig relations of the mirror, as loaded from the schema file (cached): schema
    ``billig``, and each relation the site's models read wherever it is (a site's own dev
    schema may hold one as ``public."billig.ticket_group"``, to match a dotted table name)."""
    from mirror.sources.introspect import introspect

    def read() -> Catalog:
        read_by_site = [m.relation for m in ctx.site.models()] if ctx.site is not None else []
        return introspect(
            ctx.database, relations=read_by_site, schemas=[BILLIG_SCHEMA], namesakes=False
        ).catalog

    catalog: Catalog = ctx.cached("mirror_catalog", read)
    return catalog


def expected_columns_contract(ctx: ContractContext) -> Catalog:
    """The columns contract as it should be: the mirror's Billig relations with the site's
    lineage (without a site: no lineage)."""
    catalog = mirror_catalog(ctx)
    if ctx.site is None:
        return catalog
    lineage = ctx.site.lineage()
    pinned = {
        ColumnRef(rel.key.schema, rel.key.name, col.name) for rel in catalog for col in rel.columns
    }
    return with_lineage(catalog, {ref: u for ref, u in lineage.items() if ref in pinned})


# What a model cannot know or does not promise: whether a relation is a view; a database column
# narrower than the model's type, or NOT NULL where the model allows NULL, is fine to read.
def _model_incompatible(finding: Finding) -> bool:
    if finding.kind is FindingKind.RELATION_KIND_CHANGED:
        return False
    if finding.kind is FindingKind.TYPE_CHANGED and finding.change == "narrowing":
        return False
    return not (finding.kind is FindingKind.NULLABILITY_CHANGED and finding.change == "tightened")


def check_models_in_contract(contract: Catalog, models: Catalog) -> list[Finding]:
    """Findings where a model column is missing from the contract or incompatible with it.

    Subset semantics: the contract may have more relations and columns than the models read.
    """
    found = compare_catalogs(models, contract, report_added=False)
    return [f for f in found if _model_incompatible(f)]


def lineage_changes(
    expected: Mapping[ColumnRef, Usage], actual: Mapping[ColumnRef, Usage]
) -> list[str]:
    """Lines for each column whose readers differ (``+``/``-`` per reader kind)."""
    lines: list[str] = []
    for ref in sorted(set(expected) | set(actual)):
        old, new = expected.get(ref, Usage()), actual.get(ref, Usage())
        if old == new:
            continue
        parts: list[str] = []
        for label in ("models", "fields", "endpoints"):
            before, after = set(getattr(old, label)), set(getattr(new, label))
            parts += [f"+ {label[:-1]} {r}" for r in sorted(after - before)]
            parts += [f"- {label[:-1]} {r}" for r in sorted(before - after)]
        if old.requires_not_null != new.requires_not_null:
            parts.append(f"requires_not_null {old.requires_not_null} → {new.requires_not_null}")
        lines.append(f"lineage of {ref}: " + "; ".join(parts))
    return lines


def residual_differences(expected: Catalog, actual: Catalog) -> list[str]:
    """Differences the comparator does not judge (e.g. unique constraints), by JSON path."""
    old = catalog_to_json(with_lineage(expected, None))
    new = catalog_to_json(with_lineage(actual.restrict(expected.relations), None))
    old["schemas"] = new["schemas"] = []
    diff = DeepDiff(old, new, view="tree")
    lines = []
    for report, levels in sorted(diff.items()):
        for level in levels:
            where = level.path(output_format="str").replace("root", "$", 1)
            lines.append(f"{where}: {report.replace('_', ' ')}")
    return sorted(lines)


class ColumnsSnapshot:
    """``columns.json``: the Billig relations of ``schema/billig.sql`` with lineage."""

    name = "columns"

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        return {Path(COLUMNS_FILE): dump_contract(expected_columns_contract(ctx))}

    def owned(self, ctx: ContractContext) -> list[Path]:
        return [Path(COLUMNS_FILE)] if (ctx.contracts_dir / COLUMNS_FILE).exists() else []

    def validate(self, folder: Path) -> None:
        load_contract(folder / COLUMNS_FILE)

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        path = ctx.contracts_dir / COLUMNS_FILE
        contract = load_contract(path)
        results = [self._schema_sql(ctx, path, contract)]
        if ctx.site is not None:
            results += [
                self._models(ctx.site, path, contract),
                self._lineage(ctx.site, path, contract),
            ]
        return results

    def _schema_sql(self, ctx: ContractContext, path: Path, contract: Catalog) -> CheckResult:
        actual = mirror_catalog(ctx)
        findings = compare_catalogs(contract, actual)
        problems = [_finding_line(f) for f in findings]
        if not problems:
            problems = residual_differences(contract, actual)
        return CheckResult(
            self.name,
            f"schema.sql in the mirror satisfies {path.name} exactly",
            tuple(problems),
            tuple(findings),
            f"{len(contract)} relations",
        )

    def _models(self, site: SiteSource, path: Path, contract: Catalog) -> CheckResult:
        models = site.catalog()
        findings = check_models_in_contract(contract, models)
        return CheckResult(
            self.name,
            f"every model column is in {path.name} with a compatible type and nullability",
            tuple(_finding_line(f) for f in findings),
            tuple(findings),
            f"{sum(len(r.columns) for r in models)} model columns",
        )

    def _lineage(self, site: SiteSource, path: Path, contract: Catalog) -> CheckResult:
        pinned = {
            ColumnRef(rel.key.schema, rel.key.name, col.name)
            for rel in contract
            for col in rel.columns
        }
        current = {ref: u for ref, u in site.lineage().items() if ref in pinned}
        stored = dict(contract.lineage or {})
        problems = (
            lineage_changes(stored, current)
            if contract.lineage is not None
            else [f"{path.name} has no lineage; run `billig contracts update`"]
        )
        return CheckResult(
            self.name,
            f"lineage in {path.name} matches the models, serializers and endpoints",
            tuple(problems),
            detail=f"{sum(1 for u in current.values() if u.read)} columns read",
        )

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        if old is None:
            return ["new file"]
        if new is None:
            return ["removed"]
        before = parse_contract(_document(path, old))
        after = parse_contract(_document(path, new))
        lines = [_finding_line(f) for f in compare_catalogs(with_lineage(before, None), after)]
        if not lines:
            lines = residual_differences(before, after)
        lines += lineage_changes(dict(before.lineage or {}), dict(after.lineage or {}))
        return lines or ["formatting only"]


def _document(path: Path, text: str) -> JsonDocument:
    return parse_json(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- shapes


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
                problems.append(f"{serializer}: no output observed on the seeded mirror")
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
        before = parse_shape(_document(path, old))
        after = parse_shape(_document(path, new))
        return diff_snapshots(before, after) or ["formatting only"]


register_snapshot_kind(ColumnsSnapshot())
register_snapshot_kind(ShapesSnapshot())


# --------------------------------------------------------------------------- summaries


def render_results(results: Sequence[CheckResult], *, title: str = "contracts") -> str:
    """Plain text: one line per check, its problems indented below it, then a verdict."""
    failed = [r for r in results if not r.ok]
    width = max((len(r.kind) for r in results), default=0)
    lines = []
    for r in results:
        detail = f" ({r.detail})" if r.detail else ""
        lines.append(f"{'ok  ' if r.ok else 'FAIL'}  {r.kind:<{width}}  {r.name}{detail}")
        lines += [f"        {p}" for p in r.problems]
    verdict = "all contracts hold" if not failed else f"{len(failed)} of {len(results)} failed"
    lines.append(f"{title}: {len(results)} checks, {verdict}")
    return "\n".join(lines) + "\n"


def render_results_markdown(results: Sequence[CheckResult], *, title: str = "Contracts") -> str:
    failed = sum(1 for r in results if not r.ok)
    verdict = "all contracts hold" if not failed else f"**{failed} of {len(results)} failed**"
    out = [f"## {title}", "", f"{len(results)} checks, {verdict}.", ""]
    out += ["| | kind | check | detail |", "|---|---|---|---|"]
    for r in results:
        mark = "✅" if r.ok else "❌"
        out.append(f"| {mark} | {r.kind} | {table_cell(r.name)} | {table_cell(r.detail)} |")
    for r in results:
        if r.problems:
            out += ["", f"### {r.kind}: {r.name}", "", "```"]
            out += list(r.problems)
            out.append("```")
    return "\n".join(out) + "\n"


def render_changes(changes: Sequence[FileChange], root: Path | None = None) -> str:
    """What an update did, one line per file and the change lines below it."""
    lines = []
    for change in changes:
        shown = change.path
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = Path(os.path.relpath(change.path, root))
        lines.append(f"{change.status:<9} {shown}")
        lines += [f"          {line}" for line in change.lines]
    touched = sum(1 for c in changes if c.status != "unchanged")
    lines.append(
        f"contracts: {touched} file(s) updated" if touched else "contracts: already up to date"
    )
    return "\n".join(lines) + "\n"
