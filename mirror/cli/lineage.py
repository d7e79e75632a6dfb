"""``billig lineage``."""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.options import contract_option, format_option
from mirror.commands.lineage import FORMATS, run_lineage


@click.command("lineage")
@click.argument("columns", nargs=-1)
@contract_option
@format_option(FORMATS, "A text tree, or a Mermaid flowchart.")
@click.pass_context
def lineage(ctx: click.Context, columns: tuple[str, ...], contract: Path | None, fmt: str) -> None:
    """Show which model fields, serializer fields and endpoints read Billig columns.

    COLUMNS are [schema.]relation[.column] names of the contract (default: every column the
    site reads); * matches any part.
    """
    ctx.exit(run_lineage(columns, contract=contract, fmt=fmt))
