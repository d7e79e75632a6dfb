"""``billig mirror up|run|seed|cache clear``."""

from __future__ import annotations

from datetime import datetime

import click

from mirror.cli.options import provider_options, seed_options
from mirror.commands import mirror as commands


@click.group()
def mirror() -> None:
    """Throwaway, seeded PostgreSQL mirrors of Billig."""


@mirror.command("up")
@provider_options
@seed_options
@click.option("--show-password", is_flag=True, help="Print the URL with its password.")
@click.pass_context
def up(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    show_password: bool,
) -> None:
    """Start a seeded mirror in the foreground; Ctrl-C stops it and removes everything."""
    ctx.exit(
        commands.mirror_up(
            provider,
            dsn=dsn,
            image=image,
            events=events,
            seed=seed,
            now=now,
            show_password=show_password,
            out=click.echo,
        )
    )


@mirror.command("run", context_settings={"ignore_unknown_options": True})
@provider_options
@seed_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND with BILLIG_MIRROR_URL set to a fresh seeded mirror; always tear it down.

    Exits with COMMAND's exit code. Example:
    billig mirror run -- psql "$BILLIG_MIRROR_URL" -c 'select 1'
    (quote the variable so the shell does not expand it early: use sh -c '…').
    """
    ctx.exit(
        commands.mirror_run(
            command,
            provider,
            dsn=dsn,
            image=image,
            events=events,
            seed=seed,
            now=now,
            out=click.echo,
        )
    )


@mirror.command("seed")
@click.option("--dsn", required=True, help="Database you own; the schema file is loaded first.")
@seed_options
@click.option("--quiet", is_flag=True, help="Do not print what the seed could not fill.")
@click.pass_context
def seed(
    ctx: click.Context,
    dsn: str,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    quiet: bool,
) -> None:
    """Load the schema file ([tool.billig] schema) unless it was loaded before, and seed a
    database you own."""
    ctx.exit(
        commands.mirror_seed(dsn, events=events, seed=seed, now=now, quiet=quiet, out=click.echo)
    )


@mirror.group("cache")
def cache() -> None:
    """The stored clusters that let a mirror start in a blink."""


@cache.command("clear")
@click.pass_context
def clear(ctx: click.Context) -> None:
    """Remove every stored cluster (one a running mirror is copying stays)."""
    ctx.exit(commands.clear_cache(out=click.echo))
