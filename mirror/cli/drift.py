"""``billig drift``."""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.options import contract_option, format_option
from mirror.commands.drift import run_drift
from mirror.report import FORMATS


@click.command("drift")
@click.option(
    "--dsn", default=None, help="Production Billig database URL (default $BILLIG_PROD_DSN)."
)
@contract_option
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="Check only the contracted relations of schema NAME and read all of it (relations "
    "added there are reported); repeatable.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "warning", "info"]),
    default="breaking",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@format_option(FORMATS, "Report format on stdout, and of an --output FILE given without FORMAT:.")
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write a report to FILE (- is stdout; folders are created); repeatable. "
    "Stdout shows the --format report unless some --output goes to -.",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Drift policy file (default: [tool.billig] policy, else drift-policy.json next to "
    "the contract, if present).",
)
@click.option(
    "--data",
    is_flag=True,
    help="Also count, in production's rows, NULLs and values the site's readers do not expect "
    "(bounded aggregate reads; counts only, never a value).",
)
@click.option("--suggest", is_flag=True, help="Print the schema.sql and model changes to follow.")
@click.option(
    "--write-schema",
    is_flag=True,
    help="Rewrite the schema file for the contracted relations from production (atomically, "
    "printing the diff).",
)
@click.option(
    "--schema-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Schema file for --suggest/--write-schema (default: [tool.billig] schema).",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: on a TTY)."
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a connection.",
)
@click.option(
    "--statement-timeout",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Milliseconds any catalog statement may take.",
)
@click.option(
    "--lock-timeout",
    type=click.IntRange(min=1),
    default=2_000,
    show_default=True,
    help="Milliseconds to wait for a catalog lock.",
)
@click.pass_context
def drift(
    ctx: click.Context,
    dsn: str | None,
    contract: Path | None,
    schemas: tuple[str, ...],
    fail_on: str,
    fmt: str,
    outputs: tuple[str, ...],
    policy: Path | None,
    data: bool,
    suggest: bool,
    write_schema: bool,
    schema_file: Path | None,
    color: bool | None,
    connect_timeout: float,
    statement_timeout: int,
    lock_timeout: int,
) -> None:
    """Compare production Billig with the columns contract.

    Exit 0: nothing at or above --fail-on; 1: drift; 2: usage, contract or policy error;
    3: database unreachable, authentication failed, timeout or introspection failed.
    """
    ctx.exit(
        run_drift(
            dsn,
            contract=contract,
            schemas=schemas,
            fail_on=fail_on,
            fmt=fmt,
            outputs=outputs,
            policy=policy,
            data=data,
            suggest=suggest,
            write_schema=write_schema,
            schema_file=schema_file,
            color=color,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            lock_timeout=lock_timeout,
            out=click.echo,
        )
    )
