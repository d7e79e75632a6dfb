"""``billig config``."""

from __future__ import annotations

import click

from mirror.commands.config import show_config


@click.command("config")
@click.pass_context
def config(ctx: click.Context) -> None:
    """Print the resolved configuration and where each value came from."""
    ctx.exit(show_config(click.echo))
