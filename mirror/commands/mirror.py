"""``billig mirror up|run|seed|cache clear``: throwaway, seeded PostgreSQL mirrors of Billig."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from mirror.commands.console import Echo, echo, echo_warnings, sigterm_as_interrupt
from mirror.config import load_config
from mirror.errors import EXIT_INTERRUPTED, UsageError

if TYPE_CHECKING:
    from mirror.config import Config
    from mirror.provision.allowed_values import AllowedValues
    from mirror.provision.mirror import Mirror
    from mirror.provision.providers import ProviderOptions


# The seed places events, sales and tickets years around its reference time, in dates that
# Python and PostgreSQL can both hold.
EARLIEST_NOW = datetime(1900, 1, 1)
LATEST_NOW = datetime(4999, 12, 31)


def reference_time(now: datetime | None) -> datetime | None:
    """``now`` (the ``--now`` option) when the seed can place data around it, else a
    :class:`UsageError` naming the option and the range."""
    if now is not None and not EARLIEST_NOW <= now.replace(tzinfo=None) <= LATEST_NOW:
        raise UsageError(
            f"--now {now:%Y-%m-%d}: must be from {EARLIEST_NOW:%Y-%m-%d} to {LATEST_NOW:%Y-%m-%d} "
            "(the seed places data years around it)"
        )
    return now


def options_for(provider: str, dsn: str | None, image: str | None) -> ProviderOptions:
    """The providers' options with a command's ``--dsn``/``--image`` applied."""
    from mirror.provision.providers import ProviderOptions

    options = ProviderOptions()
    if dsn:
        options.dsn = dsn
    if image:
        options.image = image
    if provider == "dsn" and not options.dsn:
        raise UsageError("--provider dsn needs --dsn URL or BILLIG_MIRROR_DSN")
    return options


@contextlib.contextmanager
def configured_mirror(
    provider: str,
    config: Config,
    *,
    dsn: str | None = None,
    image: str | None = None,
    now: datetime | None = None,
    allowed: AllowedValues | None = None,
) -> Iterator[Mirror]:
    """A mirror of the configured schema, seeded with the configured events and seed, removed on
    exit; SIGTERM meanwhile is taken as Ctrl-C, so a stopped job cleans up too. Columns whose
    readers allow only some values hold those: ``allowed``, or else the choices the contract
    pins."""
    from mirror.provision.allowed_values import AllowedValues
    from mirror.provision.mirror import start_mirror

    with (
        sigterm_as_interrupt(),
        start_mirror(
            provider,
            events=config.events,
            seed=config.seed,
            now=now,
            options=options_for(provider, dsn, image),
            schema_path=config.schema,
            allowed=allowed if allowed is not None else AllowedValues.pinned(config.contracts),
        ) as m,
    ):
        yield m


@contextlib.contextmanager
def started_mirror(
    provider: str,
    dsn: str | None,
    image: str | None,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    out: Echo,
) -> Iterator[tuple[Mirror, Config]]:
    """A seeded mirror as ``mirror up`` and ``mirror run`` start it (the configuration with the
    command's options applied, the seed's warnings shown), removed on exit."""
    config = load_config(overrides={"events": events, "seed": seed})
    with configured_mirror(provider, config, dsn=dsn, image=image, now=reference_time(now)) as m:
        echo_warnings(out, m.seed_warnings)
        yield m, config


def mirror_up(
    provider: str = "auto",
    *,
    dsn: str | None = None,
    image: str | None = None,
    events: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    show_password: bool = False,
    out: Echo = echo,
) -> int:
    """Start a seeded mirror and keep it until Ctrl-C (or SIGTERM), then remove everything."""
    started = time.monotonic()
    with started_mirror(provider, dsn, image, events, seed, now, out) as (m, config):
        url = m.full_url if show_password else m.masked_url.replace("+psycopg2", "")
        try:  # from here on Ctrl-C is the normal way to stop: exit 0
            out(
                f"mirror ready in {time.monotonic() - started:.2f}s "
                f"(provider {m.provider}, {config.events} events, seed {config.seed}; "
                f"{m.origin_text})"
            )
            out(url)
            out("press Ctrl-C to stop and remove it", err=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out("stopping mirror", err=True)
    return 0


def mirror_run(
    command: Sequence[str],
    provider: str = "auto",
    *,
    dsn: str | None = None,
    image: str | None = None,
    events: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    out: Echo = echo,
) -> int:
    """Run ``command`` with ``BILLIG_MIRROR_URL`` set to a fresh seeded mirror; its exit code."""
    from mirror.provision.providers import client_bindir, run_guarded

    if not command:
        raise UsageError("mirror run needs a COMMAND")
    with started_mirror(provider, dsn, image, events, seed, now, out) as (m, _):
        url = m.dsn
        # libpq variables too, so `psql "$BILLIG_MIRROR_URL"` works even when the calling shell
        # expanded the (then unset) variable to an empty connection string.
        # The server's own psql & co. first: a machine without PostgreSQL has the wheel's.
        bindir, path = client_bindir(m.server), os.environ.get("PATH", os.defpath)
        env = dict(
            os.environ,
            PATH=f"{bindir}{os.pathsep}{path}" if bindir else path,
            BILLIG_MIRROR_URL=m.full_url,
            BILLIG_MIRROR_PROVIDER_USED=m.provider,
            PGHOST=str(url.host),
            PGPORT=str(url.port),
            PGUSER=str(url.username),
            PGPASSWORD=str(url.password),
            PGDATABASE=str(url.database),
        )
        # Substitute a literal $BILLIG_MIRROR_URL argument (the shell expanded nothing yet).
        args = [a.replace("$BILLIG_MIRROR_URL", m.full_url) for a in command]
        try:
            return run_guarded(args, env)
        except FileNotFoundError:
            raise UsageError(f"command not found: {command[0]}") from None
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED


def mirror_seed(
    dsn: str,
    *,
    events: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    quiet: bool = False,
    out: Echo = echo,
) -> int:
    """Load the schema file (unless it was loaded before) and seed a database you own.

    Only the tables the schema file creates are filled (a database you own may hold others).
    """
    import psycopg2

    from mirror.dsn import Dsn
    from mirror.errors import DatabaseUnreachable
    from mirror.provision.allowed_values import AllowedValues
    from mirror.provision.providers import connect_url
    from mirror.provision.schema import created_relations, load_schema
    from mirror.provision.seed import seed_billig, seed_scope
    from mirror.secrets import redact, scrub

    url = Dsn.parse(dsn)
    now = reference_time(now)
    config = load_config(overrides={"events": events, "seed": seed})
    try:
        conn = connect_url(url)
    except psycopg2.Error as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {url.masked()}: {scrub(str(exc).strip(), url.password)}"
        ) from None
    with contextlib.closing(conn):
        created = sorted(str(key) for key in created_relations(config.schema) or ())
        with conn.cursor() as cur:
            # Schema billig, Billig's tables as dotted names ("billig.event" in public), or a
            # table the schema file creates wherever it lives: loaded before.
            cur.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = 'billig' UNION ALL "
                "SELECT 1 FROM pg_class WHERE relname LIKE 'billig.%%' UNION ALL "
                "SELECT 1 FROM unnest(%s::text[]) AS t(name) WHERE to_regclass(t.name) IS NOT NULL"
                " LIMIT 1",
                (created,),
            )
            has_schema = cur.fetchone() is not None
        conn.rollback()
        if not has_schema:
            load_schema(conn, config.schema)
        only = seed_scope(conn, config.schema)
        allowed = AllowedValues.pinned(config.contracts)
        seeded = seed_billig(
            conn, events=config.events, seed=config.seed, now=now, only=only, allowed=allowed
        )
    if not quiet:
        echo_warnings(out, seeded.warnings)
    counts = ", ".join(f"{table} {n}" for table, n in seeded.counts.items())
    out(f"seeded {redact(url)}: {counts}")
    return 0


def clear_cache(*, out: Echo = echo) -> int:
    """Remove the stored mirrors (``billig mirror cache clear``); one in use stays."""
    from mirror.provision.cache import ClusterCache

    cache = ClusterCache.default()
    removed, freed, busy = cache.clear()
    kept = f"; {busy} in use kept" if busy else ""
    out(f"removed {removed} cached clusters ({freed / 1024**2:.0f} MB) from {cache.root}{kept}")
    return 0
