"""``billig serve``."""

from __future__ import annotations

from datetime import datetime

import click

from mirror.cli.options import provider_choice, seed_options
from mirror.commands.serve import serve_site


@click.command("serve", context_settings={"ignore_unknown_options": True})
@click.option(
    "--dsn", default=None, help="Billig database to read (read-only). Default: a fresh mirror."
)
@click.option(
    "--site-db",
    default=None,
    help="The site's database URL. Default: a temporary SQLite file seeded with site events.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@provider_choice("Where the fresh mirror comes from when --dsn is not given.")
@seed_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def serve(
    ctx: click.Context,
    dsn: str | None,
    site_db: str | None,
    host: str,
    port: int,
    provider: str,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    command: tuple[str, ...],
) -> None:
    """Serve the site's Billig API (OpenAPI at /openapi.json) until Ctrl-C.

    With `-- COMMAND`, run COMMAND against the running API instead (BILLIG_API_URL is set, and
    a literal $BILLIG_API_URL argument is replaced), then stop; exits with COMMAND's code:

    \b
    billig serve --port 0 -- schemathesis run contracts/openapi.json \\
        --url '$BILLIG_API_URL'
    """
    ctx.exit(
        serve_site(
            dsn=dsn,
            site_db=site_db,
            host=host,
            port=port,
            provider=provider,
            events=events,
            seed=seed,
            now=now,
            command=command,
            out=click.echo,
        )
    )
