"""The registry of contract kinds, and what every kind works on and returns.

A *contract kind* owns some files under ``contracts/``: it generates them from the schema file's
mirror and the site, checks them, and says what changed between two versions of one (the
:class:`SnapshotKind` protocol). The built-in kinds are rows of :data:`KINDS`, imported on first
use so that a command that checks nothing loads none of them.

To add a kind: write ``mirror/contracts/<kind>.py`` with a class that
has the four methods of :class:`SnapshotKind` (and optionally ``validate(folder)``, reading its
files without a database), then register it with one line in :data:`KINDS`:
``"<kind>": "mirror.contracts.<kind>:<Class>"``. ``billig contracts check|update`` and
``--kind <kind>`` then know it. Code outside the package registers its own kind the same way, by
adding its row to :data:`KINDS` before the commands run.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from mirror.catalog.findings import Finding
from mirror.errors import UsageError
from mirror.sources.site import SiteSource

# name: "module:class" of each kind; checks and updates run kinds in this order.
KINDS: dict[str, str] = {
    "columns": "mirror.contracts.columns:ColumnsSnapshot",
    "shapes": "mirror.contracts.shape_snapshots:ShapesSnapshot",
    "openapi": "mirror.contracts.openapi:OpenApiSnapshot",
    "queries": "mirror.contracts.queries:QueriesSnapshot",
    "assertions": "mirror.contracts.data_assertions:DataAssertionsKind",
}


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


@functools.cache
def _built_in(target: str) -> SnapshotKind:
    module, _, attribute = target.partition(":")
    kind: SnapshotKind = getattr(importlib.import_module(module), attribute)()
    return kind


def _all_kinds() -> dict[str, SnapshotKind]:
    return {name: _built_in(target) for name, target in KINDS.items()}


KindSelection = Sequence["str | SnapshotKind"] | None


def snapshot_kinds(selection: KindSelection = None) -> list[SnapshotKind]:
    """Kinds by name (default: all); kind objects pass through unregistered."""
    known = _all_kinds()
    if selection is None:
        return list(known.values())
    out: list[SnapshotKind] = []
    for item in selection:
        if not isinstance(item, str):
            out.append(item)
        elif item in known:
            out.append(known[item])
        else:
            raise UsageError(f"unknown snapshot kind {item!r} (known: {', '.join(sorted(known))})")
    return out
