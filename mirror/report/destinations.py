"""Where reports go: asked before a check runs, so that a bad destination is a usage error
rather than a failure after the verdict was printed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from mirror.errors import UsageError


def cannot_write(path: Path, *, append: bool = False) -> str | None:
    """Why a report cannot be written to ``path``, or None when it can.

    A report file is replaced atomically (a temporary file next to it, folders created as
    needed), so the nearest existing folder must take a new file: that is tried, and the trial
    file removed. An appended file (the job summary) is opened for appending, which creates it
    empty if missing and never blocks.
    """
    try:
        if path.is_dir():
            return "it is a directory"
        if append:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
            os.close(fd)
            return None
        if path.exists() and not path.is_file():
            return "it is not a regular file (use - for stdout)"
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a directory"
        fd, trial = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(trial)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_destinations(files: Iterable[Path], step_summary: Path | None = None) -> None:
    """Raise :class:`~mirror.errors.UsageError` for the first report destination that cannot
    be written (see :func:`cannot_write`)."""
    for path in files:
        reason = cannot_write(path)
        if reason is not None:
            raise UsageError(f"--output {path}: cannot write the report there: {reason}")
    if step_summary is not None:
        reason = cannot_write(step_summary, append=True)
        if reason is not None:
            raise UsageError(
                f"$GITHUB_STEP_SUMMARY ({step_summary}): cannot append the job summary: {reason}"
            )
