"""``billig drift``: production Billig against the columns contract, with reports and fixes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mirror.commands.console import Echo, echo
from mirror.config import Config, load_config
from mirror.errors import UsageError
from mirror.report import FORMATS
from mirror.report.printable import printable_lines

if TYPE_CHECKING:
    from mirror.drift.check import DriftCheck, Timeouts


def parse_output(value: str, default_format: str) -> tuple[str, str]:
    """``--output`` value ``FORMAT:FILE`` or ``FILE`` (in ``--format``) → (format, file or -)."""
    fmt, sep, target = value.partition(":")
    if sep and fmt in FORMATS:
        if not target:
            raise UsageError(f"--output {value!r}: no file after the format (use - for stdout)")
        return fmt, target
    if not value:
        raise UsageError("--output needs a FILE or FORMAT:FILE")
    return default_format, value


def run_drift(
    dsn: str | None = None,
    *,
    contract: Path | None = None,
    schemas: Sequence[str] = (),
    fail_on: str = "breaking",
    fmt: str = "text",
    outputs: Sequence[str] = (),
    policy: Path | None = None,
    data: bool = False,
    suggest: bool = False,
    write_schema: bool = False,
    schema_file: Path | None = None,
    color: bool | None = None,
    connect_timeout: float = 10.0,
    statement_timeout: int = 10_000,
    lock_timeout: int = 2_000,
    out: Echo = echo,
) -> int:
    """Compare production with the contract; print and write the reports; the verdict's code.

    0: nothing at or above ``fail_on``; 1: drift. Every database read happens before anything is
    written or printed, and a verdict is printed only once every report it promises is written.
    """
    from mirror.drift.check import DSN_ENV, Timeouts, check_drift, default_dsn
    from mirror.report.render import (
        check_destinations,
        render,
        step_summary_path,
        use_color,
        write_reports,
    )

    target = dsn or default_dsn()
    if not target:
        raise UsageError(f"no database to check: pass --dsn URL or set ${DSN_ENV}")
    reports = [parse_output(o, fmt) for o in outputs]
    if not any(path == "-" for _, path in reports):
        reports.insert(0, (fmt, "-"))
    files = [(report_fmt, Path(path)) for report_fmt, path in reports if path != "-"]
    summary = step_summary_path() if any(f == "github" for f, _ in reports) else None
    check_destinations([path for _, path in files], summary)
    config = load_config(overrides={"schema": schema_file, "policy": policy})
    if policy is None and config.origins.get("policy") != "default":
        policy = config.policy  # configured explicitly: it must exist
    bounds = Timeouts(statement_timeout, lock_timeout, connect_timeout)
    check = check_drift(
        target,
        contract=contract or config.contracts,
        schemas=list(schemas) or None,
        policy=policy,
        fail_on=fail_on,
        timeouts=bounds,
        data=data,
    )
    fixing = _fixing(check, config, write_schema, bounds) if suggest or write_schema else None
    report = check.report
    write_reports(report, files, summary)
    for report_fmt, path in reports:
        if path == "-":
            paint = use_color(sys.stdout) if color is None else color
            # click strips ANSI codes off a non-terminal unless told the colour is wanted.
            out(render(report, report_fmt, color=paint), nl=False, color=paint)
    if fixing is not None:
        text = fixing()
        # Keep machine-readable stdout parseable: fixing help then goes to stderr.
        machine = any(f != "text" for f, path in reports if path == "-")
        # Production's names are in it (DDL, model lines): printed escaped, line by line.
        out(printable_lines(text), nl=False, err=machine)
    return report.exit_code


def _fixing(check: DriftCheck, config: Config, write: bool, bounds: Timeouts) -> Callable[[], str]:
    """Read what --suggest/--write-schema need; return a function that writes and renders."""
    from mirror.drift.suggest import (
        model_changes,
        read_production,
        render_suggestions,
        schema_diff,
        updated_schema,
    )
    from mirror.drift.suggest import write_schema as rewrite
    from mirror.sources.site_loading import load_site

    path = config.schema
    site = load_site(config)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the schema file ({exc})") from None
    production = read_production(check.target, check.expected, check.actual, check.findings, bounds)
    update = updated_schema(
        source,
        check.expected,
        check.actual,
        check.findings,
        production.views,
        constraints=production.constraints,
        extra=production.extra,
    )
    changes = model_changes(check.expected, check.actual, check.findings, site) if site else []

    def finish() -> str:
        diff = rewrite(path, update) if write else schema_diff(source, update.text, path.name)
        return render_suggestions(
            update,
            diff,
            changes,
            schema_name=str(path),
            models_file=site.models_file if site else "no site configured",
            written=write,
        )

    return finish
