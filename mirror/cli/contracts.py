"""``billig contracts check|update|snapshot``, and ``billig check``, the same as the first."""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.options import contracts_options, provider_options
from mirror.commands import contracts as commands

REPORT_HELP = "Also write a Markdown report to this file."


@click.group()
def contracts() -> None:
    """Pinned contract files: Billig columns, serializer shapes (and more kinds)."""


def _check(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    contracts_path: Path | None,
    schema_file: Path | None,
    kinds: tuple[str, ...],
    report: Path | None,
) -> None:
    config = commands.contracts_config(contracts_path, schema_file)
    code = commands.check_contracts(
        config, provider, dsn=dsn, image=image, kinds=kinds, report=report, out=click.echo
    )
    ctx.exit(code)


# What both spellings do; `billig check` is the short name of the main job.
_CHECK_BODY = (
    "Starts a mirror from the schema file, runs every check of every contract kind and prints "
    "one summary. Exit 0: all contracts hold; 1: a mismatch; 2: usage or contract error; 3: no "
    "mirror."
)


def _check_command(name: str, summary: str) -> click.Command:
    report = click.option(
        "--report", type=click.Path(dir_okay=False, path_type=Path), help=REPORT_HELP
    )
    callback = click.pass_context(_check)
    command = click.command(name, help=f"{summary}\n\n{_CHECK_BODY}")
    return command(provider_options(contracts_options(report(callback))))


check = _check_command(
    "check", "Same as `billig contracts check`: mirror up, every contract check, one summary."
)
contracts.add_command(
    _check_command(
        "check", "Verify the contract files against a fresh mirror; writes nothing but --report."
    )
)


@contracts.command("update")
@provider_options
@contracts_options
@click.pass_context
def update(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    contracts_path: Path | None,
    schema_file: Path | None,
    kinds: tuple[str, ...],
) -> None:
    """Rewrite the contract files from the schema file and the site; print what changed."""
    config = commands.contracts_config(contracts_path, schema_file)
    ctx.exit(
        commands.update_contracts(
            config, provider, dsn=dsn, image=image, kinds=kinds, out=click.echo
        )
    )


@contracts.command("snapshot")
@click.option("--dsn", required=True, help="Database to pin (read-only access is enough).")
@click.option(
    "--schema", "schemas", multiple=True, required=True, help="Schema to pin; repeatable."
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Contract file to write (atomically).",
)
@click.pass_context
def snapshot(ctx: click.Context, dsn: str, schemas: tuple[str, ...], output: Path) -> None:
    """Pin every relation of the given schemas of any database as a columns contract.

    The contract has no lineage: every pinned column counts as read by `billig drift`.
    """
    ctx.exit(commands.snapshot_contract(dsn, schemas, output, out=click.echo))
