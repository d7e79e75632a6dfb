"""The docker provider for real, through Testcontainers.

Run by ``.ci/docker-tests``, which starts an engine and builds a PostgreSQL 15 image without any
registry (``BILLIG_MIRROR_IMAGE``). Without a usable engine and image every test here skips,
unless ``BILLIG_DOCKER_TESTS_REQUIRED=1`` (set by that script) makes it fail.
Containers are checked through the Docker API: what we started must be gone afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import URL

from mirror.errors import ProviderError
from mirror.provision.mirror import start_mirror
from mirror.provision.providers import (
    ProviderOptions,
    connect_url,
    docker_check,
    postgres_container_class,
    provision,
    run_docker,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image() -> str:
    name = ProviderOptions().image
    try:
        docker_check(name)
    except ProviderError as exc:
        # Under .ci/docker-tests a skip would turn "nothing tested" into a green run.
        if os.environ.get("BILLIG_DOCKER_TESTS_REQUIRED") == "1":
            pytest.fail(f"BILLIG_DOCKER_TESTS_REQUIRED=1 but {exc}")
        pytest.skip(f"no Docker engine with image {name}: {exc}")
    return name


@pytest.fixture(scope="module")
def docker_client(image: str) -> Iterator[Any]:
    import docker

    client = docker.from_env()
    yield client
    client.close()


def container_ids(client: Any) -> set[str]:
    # The low-level list needs no per-container inspect, which races with removals.
    return {c["Id"] for c in client.api.containers(all=True)}


def test_docker_mirror_serves_the_seeded_schema_and_removes_its_container(
    image: str, docker_client: Any
) -> None:
    before = container_ids(docker_client)
    with start_mirror("docker", events=12) as mirror:
        assert mirror.provider == "docker"
        with contextlib.closing(connect_url(mirror.url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM billig.event")
            assert cur.fetchone() == (12,)
            cur.execute("SELECT count(*) FROM billig.event_lim_web")
            assert cur.fetchone()[0] > 0  # type: ignore[index]
            cur.execute("SHOW fsync")
            assert cur.fetchone() == ("off",)  # the provider's command line reached postgres
        new = [docker_client.containers.get(i) for i in container_ids(docker_client) - before]
        assert len(new) == 1
        assert new[0].status == "running"
        assert new[0].name.startswith("billig-mirror-")
        assert image in new[0].image.tags
    assert container_ids(docker_client) == before


def test_auto_picks_docker_when_engine_and_image_are_present(
    image: str, docker_client: Any
) -> None:
    before = container_ids(docker_client)
    with provision("auto", ProviderOptions(image=image, disabled=frozenset())) as server:
        assert server.provider == "docker"
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_setting('server_version_num')::int / 10000")
            assert cur.fetchone()[0] >= 15  # type: ignore[index]
    assert container_ids(docker_client) == before


def test_engine_without_the_image_falls_through(image: str, docker_client: Any) -> None:
    absent = f"billig-harness/absent-{secrets.token_hex(4)}:0"
    options = ProviderOptions(image=absent, disabled=frozenset({"local", "embedded"}))
    with pytest.raises(ProviderError) as caught, provision("auto", options):
        pass
    docker_line = str(caught.value).splitlines()[1]
    assert docker_line.startswith(f"  - docker: image {absent} is not present and cannot be pulled")


def test_image_entrypoint_honours_the_official_postgres_variables(
    image: str, docker_client: Any
) -> None:
    # The same variables and command form Testcontainers and the official image use.
    password = secrets.token_urlsafe(12)
    container = postgres_container_class()(
        image, username="alice", password=password, dbname="shop db", driver="psycopg2"
    )
    container.with_command(["postgres", "-c", "work_mem=7MB"])
    container.with_env("POSTGRES_INITDB_ARGS", "--no-sync --data-checksums")
    with container:
        url = URL.create(
            "postgresql+psycopg2",
            username="alice",
            password=password,
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(5432)),
            database="shop db",
        )
        with contextlib.closing(connect_url(url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_user, current_database(), current_setting('work_mem')")
            assert cur.fetchone() == ("alice", "shop db", "7MB")
            cur.execute("SELECT usesuper FROM pg_user WHERE usename = 'alice'")
            assert cur.fetchone() == (True,)
            cur.execute("SHOW data_checksums")
            assert cur.fetchone() == ("on",)


def test_container_that_exits_during_startup_fails_fast_and_is_removed(
    image: str, docker_client: Any
) -> None:
    # An image whose entrypoint dies at once, made from ours without any registry.
    broken = f"billig-harness/broken-{secrets.token_hex(4)}:test"
    repo, tag = broken.split(":")
    seed = docker_client.containers.create(image, entrypoint=["sh", "-c", "echo broken >&2"])
    try:
        seed.commit(repository=repo, tag=tag, changes=['ENTRYPOINT ["sh", "-c", "exit 3"]'])
    finally:
        seed.remove(force=True)
    before = container_ids(docker_client)
    try:
        with pytest.raises(ProviderError) as caught, run_docker(broken):
            pass
        assert f"container from {broken} exited during start-up (code 3)" in str(caught.value)
        assert container_ids(docker_client) == before
    finally:
        docker_client.images.remove(broken, force=True)


def test_image_entrypoint_runs_other_commands_as_given(image: str, docker_client: Any) -> None:
    output = docker_client.containers.run(image, ["psql", "--version"], remove=True)
    assert output.decode().startswith("psql (PostgreSQL) ")


def test_image_entrypoint_refuses_to_start_without_a_password(
    image: str, docker_client: Any
) -> None:
    import docker.errors

    with pytest.raises(docker.errors.ContainerError) as caught:
        docker_client.containers.run(image, remove=True, stderr=True)
    assert caught.value.exit_status == 1
    assert b"POSTGRES_PASSWORD is not set" in caught.value.stderr


KILLED_CHILD = """
import sys, time
from mirror.provision.providers import provision

with provision("docker") as server:
    print(server.detail, flush=True)
    time.sleep(120)
"""


def test_reaper_removes_the_container_of_a_killed_harness(image: str, docker_client: Any) -> None:
    before = container_ids(docker_client)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD],
        stdout=subprocess.PIPE,
        env={**os.environ, "BILLIG_MIRROR_IMAGE": image},
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith(image)
        assert len(container_ids(docker_client) - before) == 1
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    deadline = time.monotonic() + 30
    while container_ids(docker_client) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert container_ids(docker_client) == before
