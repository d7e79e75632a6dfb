"""The seeded mirror: a throwaway server with ``schema/billig.sql`` loaded into a template
database and seeded, plus cheap per-use copies of it (``CREATE DATABASE … TEMPLATE``)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2

from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import HarnessError, ProviderError, SchemaLoadError
from mirror.provision.allowed_values import AllowedValues
from mirror.provision.cache import ClusterCache, Reuse, file_digest
from mirror.provision.providers import ProviderOptions, Server, provision
from mirror.secrets import scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from mirror.provision.seed import SeedResult, SeedWarning

TEMPLATE_DB = "billig_template"
MIRROR_DB = "billig"
DEFAULT_EVENTS = 60
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Mirror:
    """A running, seeded mirror: ``dsn`` is the database to use, ``server`` can clone more.

    ``url`` is the same database as a SQLAlchemy URL, for the parts built on SQLAlchemy.
    """

    server: Server
    dsn: Dsn
    template: str = TEMPLATE_DB
    # What the seed wrote differently from what it knows (see mirror.provision.seed).
    seed_warnings: tuple[SeedWarning, ...] = ()
    # Where the seeded template came from: "cache", "built" (and stored), or "" (no cache).
    origin: str = ""

    @property
    def origin_text(self) -> str:
        """How the mirror came to be, as ``billig check`` says it."""
        return {
            "cache": "from cache",
            "built": "built, cached for the next run",
        }.get(self.origin, "built, cache not used")

    @property
    def provider(self) -> str:
        return self.server.provider

    @property
    def url(self) -> URL:
        return self.dsn.sqlalchemy()

    @property
    def masked_url(self) -> str:
        return self.dsn.masked()

    @property
    def full_url(self) -> str:
        """libpq URL with the password, for psql and other tools (``BILLIG_MIRROR_URL``)."""
        return self.dsn.url()

    def clone(self, name: str | None = None) -> Dsn:
        """A fresh copy of the seeded template; drop it with :meth:`drop`."""
        name = name or f"billig_{secrets.token_hex(6)}"
        return self.server.create_database(name, template=self.template)

    def drop(self, url: Dsn | SqlAlchemyUrl) -> None:
        database = Dsn.of(url).database
        assert database
        self.server.drop_database(database)


def build_template(
    server: Server,
    *,
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    schema_path: Path | None = None,
    name: str = TEMPLATE_DB,
    allowed: AllowedValues | None = None,
) -> Dsn:
    """Create database ``name`` with the schema loaded and Billig seeded; no session stays open."""
    url, _ = _build_template(server, events, seed, now, schema_path, name, allowed)
    return url


def _build_template(
    server: Server,
    events: int,
    seed: int,
    now: datetime | None,
    schema_path: Path | None,
    name: str,
    allowed: AllowedValues | None = None,
) -> tuple[Dsn, SeedResult]:
    # Loading and seeding only when a mirror is built: a cached one needs neither.
    from mirror.provision.schema import load_schema
    from mirror.provision.seed import SeedResult, SeedWarning, seed_billig

    url = server.create_database(name)
    try:
        with contextlib.closing(server.connect(name)) as conn:
            load_schema(conn, schema_path)
            try:
                result = seed_billig(conn, events=events, seed=seed, now=now, allowed=allowed)
            except SchemaLoadError as exc:
                # The schema loaded but holds nothing the seed knows: the mirror stays empty,
                # so that the contract checks still report what the schema lacks.
                result = SeedResult({}, (SeedWarning("billig", None, None, str(exc)),))
    except BaseException:
        with contextlib.suppress(Exception):
            server.drop_database(name)
        raise
    return url, result


@contextlib.contextmanager
def start_mirror(
    provider: str = "auto",
    *,
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    options: ProviderOptions | None = None,
    schema_path: Path | None = None,
    allowed: AllowedValues | None = None,
) -> Iterator[Mirror]:
    """Provision a server, load and seed the template, and hand out a clone as the mirror.

    ``allowed`` are the values the site's readers allow in some columns (their ``choices``):
    the seed writes only those there. A cluster provider starts from a stored, already seeded
    cluster when one was built from the same inputs (:mod:`mirror.provision.cache`), unless
    ``options.cache`` is off.
    """
    options = options or ProviderOptions()
    allowed = allowed or AllowedValues()
    reuse = _reuse(events, seed, now, schema_path, allowed) if options.cache else None
    with provision(provider, options, reuse) as server:
        created: list[str] = []
        try:
            # A dsn server is shared: give our template a unique name and drop all we made.
            template = (
                TEMPLATE_DB if server.provider != "dsn" else f"billig_t_{secrets.token_hex(4)}"
            )
            name = MIRROR_DB if server.provider != "dsn" else f"billig_m_{secrets.token_hex(4)}"
            try:
                if server.prepared is None:
                    _, seeded = _build_template(
                        server, events, seed, now, schema_path, template, allowed
                    )
                    warnings = seeded.warnings
                else:
                    warnings = _warnings(server.prepared.meta)
                created.append(template)
                url = server.create_database(name, template=template)
                created.append(name)
            except psycopg2.Error as exc:  # e.g. the server died while we built the mirror
                raise _server_failed(server, exc) from None
            origin = server.prepared.origin if server.prepared is not None else ""
            yield Mirror(server, url, template, warnings, origin)
        finally:
            # Only a shared server keeps what we made; a throwaway one goes as a whole (and
            # DROP DATABASE would cost it a checkpoint).
            for name in reversed(created if server.provider == "dsn" else []):
                with contextlib.suppress(Exception):
                    server.drop_database(name)


def _server_failed(server: Server, exc: psycopg2.Error) -> ProviderError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ProviderError(
        f"the {server.provider} server failed while the mirror was built: "
        + scrub(first, server.dsn.password)
    )


def _reuse(
    events: int, seed: int, now: datetime | None, schema_path: Path | None, allowed: AllowedValues
) -> Reuse | None:
    """What a cached mirror is keyed by and how it is built; None when there is no cache."""
    cache = ClusterCache.default()
    path = schema_path if schema_path is not None else _configured_schema()
    # Only a regular file has a content to key on; anything else fails in the build, uncached.
    if path is None or not path.is_file() or cache.usable() is not None:
        return None
    # Without ``now`` the seed takes today as its reference day: a new day is a new mirror.
    day = now.isoformat() if now is not None else f"today {date.today().isoformat()}"
    inputs = (file_digest(path), str(events), str(seed), day, allowed.key())

    def build(server: Server) -> dict[str, Any]:
        try:
            _, seeded = _build_template(server, events, seed, now, path, TEMPLATE_DB, allowed)
        except psycopg2.Error as exc:
            raise _server_failed(server, exc) from None
        # A file edited while it loaded is not what the key says: use the mirror, keep nothing.
        keep = file_digest(path) == inputs[0]
        return {"warnings": [list(astuple(w)) for w in seeded.warnings], "keep": keep}

    return Reuse(cache, inputs, build)


def _configured_schema() -> Path | None:
    from mirror.config import load_config

    try:
        return load_config().schema
    except HarnessError:
        return None  # the build reports it


def _warnings(meta: Mapping[str, Any]) -> tuple[SeedWarning, ...]:
    if not meta.get("warnings"):
        return ()
    from mirror.provision.seed import SeedWarning

    return tuple(SeedWarning(*w) for w in meta["warnings"])
