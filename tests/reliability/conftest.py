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


# Figures the load tests measured, shown after the run (pytest -m slow, run by tox -e load).
FIGURES: list[str] = []


@pytest.fixture
def figure(record_property: Callable[[str, object], None]) -> Callable[[str, str], None]:
    """Record a measured figure: in the terminal summary and as a JUnit property."""

    def note(name: str, value: str) -> None:
        FIGURES.append(f"{name}: {value}")
        record_property(name, value)

    return note


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
