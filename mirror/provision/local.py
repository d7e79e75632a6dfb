"""The ``local`` provider: a private cluster from PostgreSQL binaries installed on the machine."""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
from pathlib import Path

from mirror.errors import ProviderError
from mirror.provision.cluster import can_execute, unprivileged_user


def local_bindirs() -> list[Path]:
    """Candidate server binary directories: pg_config --bindir, PATH, Debian's layout."""
    found: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            if out:
                found.append(Path(out))
    for exe in (shutil.which("initdb"), shutil.which("postgres")):
        if exe:
            found.append(Path(exe).resolve().parent)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    found.extend(Path(p) for p in debian)
    unique: list[Path] = []
    for path in found:
        if path not in unique and (path / "initdb").exists() and (path / "postgres").exists():
            unique.append(path)
    return unique


def local_bindir(user_name: str | None = None) -> Path:
    dirs = local_bindirs()
    if not dirs:
        raise ProviderError(
            "no PostgreSQL server binaries (initdb, postgres) found via pg_config, PATH or "
            "/usr/lib/postgresql/*/bin"
        )
    user = unprivileged_user(user_name)
    reasons = []
    for path in dirs:
        why = can_execute(path / "postgres", user)
        if why is None:
            return path
        reasons.append(why)
    raise ProviderError("; ".join(reasons))
