"""The contract workflow: check every kind's files, or regenerate them, over the kind registry.

``check_contracts`` verifies without writing; ``update_contracts`` rewrites every file
atomically, removes files no kind generates any more, and returns what changed. The kinds and
how to add one are in :mod:`mirror.contracts.kinds`; the text of results in
:mod:`mirror.contracts.render`.
"""

from __future__ import annotations

from pathlib import Path

from mirror.contracts.kinds import (
    ChangeStatus,
    CheckResult,
    ContractContext,
    FileChange,
    KindSelection,
    SnapshotKind,
    snapshot_kinds,
)
from mirror.errors import ContractError
from mirror.files import write_files_atomic


def check_contracts(ctx: ContractContext, kinds: KindSelection = None) -> list[CheckResult]:
    """Run every check of the given kinds (default: all); never writes."""
    results: list[CheckResult] = []
    for kind in snapshot_kinds(kinds):
        results += kind.check(ctx)
    return results


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
    try:
        write_files_atomic(writes)
    except OSError as exc:
        raise ContractError(
            f"{ctx.contracts_dir}: cannot write the contract files ({exc.strerror or exc}); "
            "every file is as it was"
        ) from None
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
