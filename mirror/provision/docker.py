"""The ``docker`` provider: a PostgreSQL container through Testcontainers.

The engine and the image are checked cheaply first (``auto`` probes docker on every machine,
most of which have none); the container is removed on exit, and by the reaper if we are killed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

from mirror.dsn import Dsn
from mirror.errors import ProviderError
from mirror.provision.process import reaper
from mirror.provision.server import READY_TIMEOUT, Server, wait_ready
from mirror.secrets import scrub

DEFAULT_IMAGE = "postgres:15"
# A probe must be cheap: auto runs it first on every machine, most of which have no engine.
PING_TIMEOUT = 1.0
PULL_TIMEOUT = 600.0


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _docker_socket() -> str | None:
    host = _docker_host()
    return host[len("unix://") :] if host.startswith("unix://") else None


def split_image(image: str) -> tuple[str, str | None]:
    """``repo[:tag]`` or ``repo@digest`` → (repository, tag); a registry port is not a tag."""
    if "@" in image:
        return image, None
    slash, colon = image.rfind("/"), image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, "latest"


def docker_check(image: str) -> None:
    """Raise ProviderError unless an engine answers a ping and the image is present or pullable.

    Through the Docker SDK, for every ``DOCKER_HOST`` form (Unix socket, tcp, ssh, TLS settings).
    """
    socket_path = _docker_socket()
    if socket_path is not None and not os.path.exists(socket_path):
        # Most machines have no engine: say so before loading the Docker SDK (a tenth of a
        # second of imports that ``auto`` would pay on every run).
        raise ProviderError(f"no Docker engine answers at {socket_path} (no such socket)")
    where = socket_path or scrub(_docker_host())
    try:
        import docker
        from docker.errors import DockerException, ImageNotFound
    except ImportError as exc:
        raise ProviderError(f"the docker package is not installed ({exc})") from None
    try:
        client = docker.from_env(timeout=int(PING_TIMEOUT) or 1)
    except DockerException as exc:
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    try:
        client.ping()
        try:
            client.images.get(image)
            return
        except ImageNotFound:
            pass
        client.api.timeout = PULL_TIMEOUT
        repo, tag = split_image(image)
        try:
            client.images.pull(repo, tag=tag)
        except DockerException as exc:
            raise ProviderError(
                f"image {image} is not present and cannot be pulled ({exc})"
            ) from None
    except DockerException as exc:
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    except OSError as exc:  # requests' timeouts and connection errors
        raise ProviderError(f"no Docker engine answers at {where} ({exc})") from None
    finally:
        client.close()


def postgres_container_class() -> type[Any]:
    """Testcontainers' PostgresContainer with a readiness wait that notices a dead container.

    Upstream waits up to its full timeout for ``psql`` to succeed even when the container has
    already exited (a broken image, a bad setting); we fail at once and show the container's log.
    """
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise ProviderError(f"testcontainers is not installed ({exc})") from None

    _ryuk_off_unless_asked()

    class _Container(PostgresContainer):
        def _connect(self) -> None:
            from docker.errors import APIError

            wrapped = self.get_wrapped_container()
            # The same check upstream runs: psql inside the container over TCP.
            probe = [
                "psql", "--username", self.username, "--dbname", self.dbname,
                "--host", "127.0.0.1", "-c", "select version();",
            ]  # fmt: skip
            deadline = time.monotonic() + READY_TIMEOUT
            last = ""
            while time.monotonic() < deadline:
                wrapped.reload()
                if wrapped.status in ("exited", "dead"):
                    code = wrapped.attrs.get("State", {}).get("ExitCode")
                    tail = wrapped.logs(tail=5).decode(errors="replace").strip().splitlines()
                    raise ProviderError(
                        f"container from {self.image} exited during start-up (code {code}): "
                        + scrub(" | ".join(tail), self.password)
                    )
                try:
                    result = wrapped.exec_run(probe, environment={"PGPASSWORD": self.password})
                except APIError as exc:  # e.g. 409 when it stopped between reload and exec
                    last = str(exc)
                else:
                    if result.exit_code == 0:
                        return
                    last = result.output.decode(errors="replace").strip()
                time.sleep(0.1)
            raise ProviderError(
                f"container from {self.image} not ready within {READY_TIMEOUT:.0f}s: "
                + scrub(last, self.password)[:200]
            )

    return _Container


def _ryuk_off_unless_asked() -> None:
    # Ryuk's image cannot be pulled without a registry, and we remove our containers ourselves.
    if "TESTCONTAINERS_RYUK_DISABLED" not in os.environ:
        from testcontainers.core.config import testcontainers_config

        testcontainers_config.ryuk_disabled = True


@contextlib.contextmanager
def run_docker(image: str) -> Iterator[Server]:
    """A PostgreSQL container through Testcontainers; removed on exit (also on failure/Ctrl-C)."""
    docker_check(image)
    container_class = postgres_container_class()
    password = secrets.token_urlsafe(18)
    # A unique name lets us find and remove the container even when we are interrupted
    # between the engine creating it and testcontainers handing it to us.
    name = f"billig-mirror-{secrets.token_hex(6)}"
    container = container_class(
        image, username="postgres", password=password, dbname="postgres", driver="psycopg2"
    )
    container.with_name(name)
    container.with_command("postgres -c fsync=off -c max_locks_per_transaction=1024")
    # A throwaway cluster needs no fsync at initdb either (seconds on a busy disk); the official
    # image and ours both pass POSTGRES_INITDB_ARGS to initdb.
    container.with_env("POSTGRES_INITDB_ARGS", "--no-sync")
    with reaper() as announce:
        sock = _docker_socket()
        if sock is not None:
            announce(f"container {name} {sock}")
        with _container(container, image, name, password) as server:
            yield server


@contextlib.contextmanager
def _container(container: Any, image: str, name: str, password: str) -> Iterator[Server]:
    try:
        try:
            container.start()
            wrapped = container.get_wrapped_container()
            url = Dsn(
                host=container.get_container_host_ip(),
                port=str(int(container.get_exposed_port(5432))), username="postgres",
                password=password, database="postgres",
            )  # fmt: skip
        except ProviderError:
            raise
        except Exception as exc:  # docker.errors.*, timeouts: all mean "not this provider"
            raise ProviderError(
                f"container from {image} did not start: {scrub(str(exc), password)[:300]}"
            ) from None

        def died() -> bool:
            wrapped.reload()
            return wrapped.status in ("exited", "dead")

        wait_ready(url, died, None)
        yield Server(provider="docker", dsn=url, detail=f"{image} ({name})")
    finally:
        _remove_container(container, name)


def _remove_container(container: Any, name: str) -> None:
    with contextlib.suppress(Exception):
        container.stop()
    with contextlib.suppress(Exception):
        # Created but never handed to testcontainers (interrupted mid-start): remove by name.
        container.get_docker_client().client.containers.get(name).remove(force=True, v=True)
