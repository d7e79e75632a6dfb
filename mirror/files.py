"""Writing files atomically: a reader sees the old file or the new one, never half of either.

Every file the harness writes (contracts, reports, rewritten schema files) goes through
:func:`write_files_atomic`: temporary files in the same directory, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: readers see the old or the new file."""
    write_files_atomic({path: text})


def write_files_atomic(files: Mapping[Path, str]) -> None:
    """Write several files: all temporary files first, then one ``os.replace`` each.

    A failure while writing (disk full, Ctrl-C) leaves every target as it was and removes the
    temporary files and the folders made for them. A writer killed outright cannot: its
    temporary files carry its pid, and the next write of the same target removes those of
    writers no longer running.
    """
    staged: list[tuple[str, Path]] = []
    made: list[Path] = []
    try:
        for path, text in files.items():
            if path.name in ("", ".", ".."):
                raise OSError(errno.EINVAL, "not a file name", str(path))
            if path.exists() and not path.is_file():  # never replace a device such as /dev/null
                raise OSError(errno.EINVAL, "not a regular file", str(path))
            made += _make_folders(path.parent)
            _remove_stale_temporaries(path)
            fd, tmp = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
            )
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(OSError):
                # mkstemp creates 0600 files; contracts are ordinary, reviewable files.
                os.chmod(tmp, 0o644)
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
        made.clear()
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(exist_ok=True)
    return list(reversed(missing))


# A temporary file older than this is stale whoever wrote it (a pid may have been reused).
_STALE_AFTER_S = 24 * 3600


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of ``path`` that writers killed mid-write left behind."""
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            pid = entry.name[len(prefix) :].split(".", 1)[0]
            with contextlib.suppress(OSError):
                old = time.time() - entry.stat(follow_symlinks=False).st_mtime > _STALE_AFTER_S
                if old or (pid.isdigit() and not _running(int(pid))):
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
