"""Fixtures of the reliability suite; its tools are in :mod:`sandbox`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mirror.cli import main

from .sandbox import Result


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``billig ARGS`` inside this process (its exit code, stdout and stderr)."""

    def run(*args: str) -> Result:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out, err = capsys.readouterr()
        code = info.value.code
        return Result(code if isinstance(code, int) else 0 if code is None else 1, out, err)

    return run
