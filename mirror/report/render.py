"""Rendering a :class:`~mirror.report.model.Report` in any of :data:`~mirror.report.FORMATS`,
and writing the report files.

Rendering is separate from comparing (as in Alembic's compare/render split): each format's
module turns the report into text as a pure function of it; this module picks the module from
the registry and does the writing. The names other layers import from here stay here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from mirror.errors import UsageError
from mirror.files import write_files_atomic
from mirror.report import FORMATS
from mirror.report.destinations import cannot_write, check_destinations
from mirror.report.github import step_summary_path, write_step_summary
from mirror.report.issue import run_url
from mirror.report.markdown import table_cell
from mirror.report.model import RenderOptions, Report
from mirror.report.text import use_color

__all__ = [
    "FORMATS",
    "Report",
    "cannot_write",
    "check_destinations",
    "render",
    "step_summary_path",
    "table_cell",
    "use_color",
    "write_reports",
]


def render(report: Report, fmt: str, *, color: bool = False, link: str | None = None) -> str:
    """Render in one of :data:`~mirror.report.FORMATS`.

    ``color`` colours the text format; ``link`` is where the issue body sends readers for the
    full report (default: the current GitHub Actions run's page, when there is one).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (one of: {', '.join(FORMATS)})")
    module = importlib.import_module(FORMATS[fmt])
    text: str = module.render(report, RenderOptions(color=color, link=link or run_url()))
    return text


def write_reports(
    report: Report, files: Iterable[tuple[str, Path]], step_summary: Path | None = None
) -> None:
    """Write the report files (all or none, atomically) and append the job summary.

    A destination that fails even so (the disk filled up since it was checked) is a
    :class:`~mirror.errors.UsageError`: a report that was not written is never a success.
    """
    rendered = {path: render(report, fmt) for fmt, path in files}
    try:
        write_files_atomic(rendered)
    except OSError as exc:
        where = ", ".join(map(str, rendered))
        raise UsageError(f"--output {where}: cannot write the reports: {exc.strerror}") from None
    if step_summary is not None:
        try:
            write_step_summary(report, {"GITHUB_STEP_SUMMARY": str(step_summary)})
        except OSError as exc:
            raise UsageError(
                f"$GITHUB_STEP_SUMMARY ({step_summary}): cannot append the job summary: "
                f"{exc.strerror}"
            ) from None
