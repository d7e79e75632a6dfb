"""Reuse across runs of what does not change between them: initialized and seeded clusters.

An entry is the data directory of a cleanly stopped cluster, stored under a key that hashes
everything it was built from (the PostgreSQL binaries and version, the harness's own files, and
for a seeded cluster the schema file's content and the seed's parameters), so a change of any
of them builds anew and an entry is never stale. Entries are immutable: written to a staging
folder and renamed into place, so a reader sees a whole entry or none, and several processes
starting at once each get a correct cluster (the first to finish stores it). A reader holds a
shared lock on the entry while it copies; eviction and ``billig mirror cache clear`` take it
exclusively and leave an entry in use alone. The cache lives in the user's cache folder
(``$XDG_CACHE_HOME``, else ``~/.cache``), never in the installed package or the project, and is
bounded on disk (least recently used entries go first).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.config import variable

if TYPE_CHECKING:
    from mirror.provision.server import Server

CACHE_ENV = "BILLIG_CACHE"  # "0" turns the cache off
MAX_ENV = "BILLIG_CACHE_MAX_MB"
DEFAULT_MAX_BYTES = 1024**3
# Bumped when the layout of an entry changes: older entries are then simply not found.
LAYOUT = "v1"


def cache_enabled() -> bool:
    """False when ``BILLIG_CACHE`` turns the cache off (``0``, ``no``, ``false``, ``off``)."""
    return variable(CACHE_ENV) is not False


def cache_home() -> Path:
    """The cache folder: ``$XDG_CACHE_HOME/billig-harness``, else ``~/.cache/billig-harness``."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    # The XDG convention: a relative value is invalid and ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "billig-harness"


def digest(*parts: object) -> str:
    """A key from its parts: any change of any part gives another key."""
    text = json.dumps([str(p) for p in parts])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def file_digest(path: Path) -> str:
    """The content of a file (a schema), by its SHA-256."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def harness_digest() -> str:
    """The harness's own files (name, size, modification time): an edited harness builds anew.

    An installed release changes these with its version; an editable install with every edit.
    """
    package = Path(__file__).resolve().parent.parent
    parts = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".sql")):
                info = os.stat(os.path.join(folder, name))
                parts.append(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return digest(*parts)


@dataclass(frozen=True)
class Entry:
    """A stored cluster: ``data`` to copy, ``meta`` saved with it."""

    key: str
    data: Path
    meta: Mapping[str, Any]


@dataclass(frozen=True)
class ClusterCache:
    """The stored clusters under ``root``, at most ``max_bytes`` of them."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def default(cls) -> ClusterCache:
        """The user's cache, bounded by ``BILLIG_CACHE_MAX_MB`` (default 1024)."""
        megabytes = variable(MAX_ENV)
        max_bytes = DEFAULT_MAX_BYTES if megabytes is None else int(megabytes * 1024**2)
        return cls(cache_home() / LAYOUT, max_bytes)

    def usable(self) -> str | None:
        """None when entries can be stored here, else why not (the run then builds as usual)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = self.root.stat()
        except OSError as exc:
            return f"cannot create {self.root}: {exc.strerror}"
        # Entries hold clusters we start as trusted: nobody else may plant or change one.
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return f"{self.root} is not owned by this user or is writable by others"
        return None

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[Entry | None]:
        """The entry stored under ``key``, or None; it stays in place while the context lasts."""
        folder = self.root / key
        with self._locked(key, shared=True) as held:
            if not held or not (folder / "meta.json").is_file():
                yield None
                return
            try:
                meta = json.loads((folder / "meta.json").read_text())
            except (OSError, ValueError):
                yield None
                return
            os.utime(folder)  # last use, for eviction
            yield Entry(key, folder / "data", meta)

    def store(
        self,
        key: str,
        data: Path,
        meta: Mapping[str, Any],
        announce: Callable[[str], None] | None = None,
    ) -> None:
        """Copy the stopped cluster ``data`` in as ``key`` (unless there already), then evict.

        Best effort: a cache that cannot take the entry (a full disk) costs the next run a
        build, never this run its result. ``announce`` tells a reaper of the staging folder,
        so that a run killed while storing leaves nothing behind.
        """
        folder = self.root / key
        if folder.exists():
            return
        staging = self.root / f".staging-{key}-{secrets.token_hex(4)}"
        if announce is not None:
            announce(f"dir {staging}")
        try:
            staging.mkdir(mode=0o700)
            copy_data(data, staging / "data")
            size = _size(staging)
            (staging / "meta.json").write_text(json.dumps({**meta, "bytes": size}))
            os.rename(staging, folder)  # atomic: a concurrent store wins or we do
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()

    def entries(self) -> list[tuple[float, int, str]]:
        """(last use, bytes, key) of every stored entry, least recently used first."""
        found = []
        with contextlib.suppress(FileNotFoundError):
            for folder in self.root.iterdir():
                if folder.name.startswith(".") or not folder.is_dir():
                    continue
                try:
                    meta = json.loads((folder / "meta.json").read_text())
                    found.append((folder.stat().st_mtime, int(meta["bytes"]), folder.name))
                except (OSError, ValueError, KeyError, TypeError):
                    found.append((0.0, _size(folder), folder.name))  # broken: goes first
        return sorted(found)

    def evict(self) -> None:
        """Remove least recently used entries until the rest fits ``max_bytes``."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for _, size, key in entries:
            if total <= self.max_bytes:
                break
            if self.remove(key):
                total -= size

    def clear(self) -> tuple[int, int, int]:
        """Remove every entry not in use: (entries removed, bytes freed, entries in use kept)."""
        removed = freed = busy = 0
        for _, size, key in self.entries():
            if self.remove(key):
                removed, freed = removed + 1, freed + size
            else:
                busy += 1
        for pattern in (".staging-*", ".removing-*"):  # of runs killed while storing, removing
            for leftover in self.root.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)
        return removed, freed, busy

    def remove(self, key: str) -> bool:
        """Remove one entry unless a run is copying it; True when it is gone."""
        with self._locked(key, shared=False, wait=False) as held:
            if not held:
                return False
            trash = self.root / f".removing-{key}-{secrets.token_hex(4)}"
            try:
                os.rename(self.root / key, trash)
            except FileNotFoundError:
                return True
            except OSError:
                return False
            shutil.rmtree(trash, ignore_errors=True)
            with contextlib.suppress(OSError):
                (self.root / f".{key}.lock").unlink()
            return True

    @contextlib.contextmanager
    def _locked(self, key: str, shared: bool, wait: bool = True) -> Iterator[bool]:
        try:
            fd = os.open(self.root / f".{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield False
            return
        try:
            mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            try:
                fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Reuse:
    """What a cluster may start from: the ``cache``, and for a seeded cluster the ``inputs``
    of the seed (schema content, parameters) and the ``build`` that loads and seeds it,
    returning what to keep with it (e.g. the seed's warnings; ``keep`` false: store nothing,
    the inputs changed while it was built)."""

    cache: ClusterCache
    inputs: tuple[str, ...]
    build: Callable[[Server], Mapping[str, Any]]


def copy_data(source: Path, target: Path) -> None:
    """Copy a data directory as it is, owners and modes included (``cp -a``: several times
    faster than a copy file by file from Python, which matters on every warm start)."""
    subprocess.run(
        ["cp", "-a", "--", str(source), str(target)], check=True, capture_output=True, timeout=300
    )


def _size(folder: Path) -> int:
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(path, name)).st_size
    return total
