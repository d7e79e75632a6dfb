"""``billig config``: the resolved configuration and where each value came from."""

from __future__ import annotations

from pathlib import Path

from mirror.commands.console import Echo, echo
from mirror.config import load_config


def show_config(out: Echo = echo, cwd: Path | None = None) -> int:
    """Print every setting with its value and origin; exit code 0."""
    config = load_config(cwd)
    shown = config.pyproject or f"none (defaults, relative to {config.root})"
    out(f"pyproject: {shown}")
    rows = config.describe()
    width = max(len(key) for key, _, _ in rows)
    for key, value, origin in rows:
        out(f"{key:<{width}}  {value or '(not set)'}  [{origin}]")
    return 0
