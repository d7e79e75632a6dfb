"""Options shared by several commands: where the mirror comes from, how it is seeded, which
contracts are checked or read, and the report format."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from mirror.config import MAX_EVENTS, variable
from mirror.provision import PROVIDERS

PROVIDER_CHOICES = ("auto", *PROVIDERS)


def provider_choice(help_text: str) -> Any:
    """``--provider``, defaulting to ``$BILLIG_MIRROR_PROVIDER`` (else auto)."""
    return click.option(
        "--provider",
        type=click.Choice(PROVIDER_CHOICES),
        default=lambda: variable("BILLIG_MIRROR_PROVIDER") or "auto",
        show_default="auto, or $BILLIG_MIRROR_PROVIDER",
        help=help_text,
    )


def _no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:  # the providers' options read it, as they read every BILLIG_MIRROR_* setting
        os.environ["BILLIG_CACHE"] = "0"


def provider_options(func: Any) -> Any:
    """--provider/--dsn/--image/--no-cache options shared by the commands that start a mirror."""
    func = click.option(
        "--no-cache",
        is_flag=True,
        expose_value=False,
        callback=_no_cache,
        help="Build the mirror anew and store nothing (as BILLIG_CACHE=0).",
    )(func)
    func = click.option(
        "--image", default=None, help="Docker image for the docker provider (default postgres:15)."
    )(func)
    func = click.option(
        "--dsn",
        default=None,
        help="Existing server for the dsn provider (default $BILLIG_MIRROR_DSN).",
    )(func)
    return provider_choice("Where the throwaway PostgreSQL comes from.")(func)


def seed_options(func: Any) -> Any:
    """--events/--seed/--now options of the commands that seed a mirror."""
    func = click.option(
        "--now",
        type=click.DateTime(),
        default=None,
        help="Reference time of the seed (naive local time; default today's midnight).",
    )(func)
    func = click.option(
        "--seed",
        "seed",
        type=int,
        default=None,
        help="Random seed (default: [tool.billig] seed, else 1).",
    )(func)
    return click.option(
        "--events",
        type=click.IntRange(min=0, max=MAX_EVENTS),
        default=None,
        help="Number of Billig events to seed (default: [tool.billig] events, else 60).",
    )(func)


def contracts_options(func: Any) -> Any:
    """--contracts/--kind/--schema-file options of the commands that check or update contracts."""
    func = click.option(
        "--kind",
        "kinds",
        multiple=True,
        help="Only this snapshot kind (columns, shapes, …); repeatable. Default: all.",
    )(func)
    func = click.option(
        "--contracts",
        "contracts_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder of the contract files (default: [tool.billig] contracts, else ./contracts).",
    )(func)
    return click.option(
        "--schema-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Schema DDL the mirror is loaded from (default: [tool.billig] schema).",
    )(func)


def contract_option(func: Any) -> Any:
    """--contract: the columns contract the commands that read production compare with."""
    return click.option(
        "--contract",
        type=click.Path(path_type=Path),
        default=None,
        help="Columns contract file, or a folder holding columns.json (default: [tool.billig] "
        "contracts).",
    )(func)


def format_option(formats: Iterable[str], help_text: str) -> Any:
    """--format (into the argument ``fmt``), one of ``formats``, default text."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(formats)),
        default="text",
        show_default=True,
        help=help_text,
    )
