"""``python -m mirror.cli``: the ``billig`` command."""

from __future__ import annotations

from mirror.cli import main

main()
