"""``billig init``: adopt the harness in a project folder."""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.options import provider_options


@click.command("init")
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), default=".", required=False
)
@click.option("--site", default=None, metavar="MODULE:ATTR", help="A site source (not Django).")
@click.option("--settings", default=None, help="Django settings module (default: manage.py's).")
@click.option(
    "--database", default=None, help="Django alias of Billig (default: the routers' choice)."
)
@click.option(
    "--schema", "schemas", multiple=True, metavar="NAME", help="Billig schema; repeatable."
)
@click.option(
    "--schema-from",
    metavar="DSN",
    default=None,
    help="Write the schema file from this database's catalog (read-only, bounded).",
)
@click.option(
    "--schema-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The schema file (default: the project's .sql file creating the models' relations).",
)
@click.option(
    "--install",
    "requirement",
    default=None,
    metavar="REQUIREMENT",
    help="What the workflows pip-install as billig-harness (default: this version).",
)
@click.option("--force", is_flag=True, help="Replace files that exist with other content.")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--no-contracts", is_flag=True, help="Do not run billig contracts update at the end.")
@provider_options
@click.pass_context
def init(
    ctx: click.Context,
    folder: Path,
    site: str | None,
    settings: str | None,
    database: str | None,
    schemas: tuple[str, ...],
    schema_from: str | None,
    schema_file: Path | None,
    requirement: str | None,
    force: bool,
    dry_run: bool,
    no_contracts: bool,
    provider: str,
    dsn: str | None,
    image: str | None,
) -> None:
    """Adopt billig here: configuration, schema file, CI workflows, a first test.

    Writes [tool.billig] into pyproject.toml (edited in place), finds the schema file or writes
    it from a database (--schema-from), writes GitHub workflows for pull requests and for the
    nightly drift job and a first test, then pins the contracts. Never overwrites a file
    without --force; --dry-run prints instead of writing.
    """
    from mirror.commands.init import init_project
    from mirror.init.project import InitOptions

    options = InitOptions(
        root=folder,
        site=site,
        settings=settings,
        database=database,
        schemas=schemas,
        schema_from=schema_from,
        schema_file=schema_file,
        requirement=requirement,
        force=force,
    )
    ctx.exit(
        init_project(
            options,
            dry_run=dry_run,
            update_contracts=not no_contracts,
            provider=provider,
            dsn=dsn,
            image=image,
            out=click.echo,
        )
    )
