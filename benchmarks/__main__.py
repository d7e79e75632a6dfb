"""``python -m benchmarks [--smoke] [--json FILE]``: run the benchmarks, print, write JSON.

Exit codes: 0 when every benchmark ran (targets missed are reported, not failed, unless
``--check-targets``), 1 with ``--check-targets`` when a measured target is missed, 2 for a usage
error, 3 when no PostgreSQL could be started. A smoke run never fails on timings.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from benchmarks import check, drift, isolation, prefetch, processes, startup
from benchmarks.results import Result, document, results_from_json, write_json
from benchmarks.settings import Settings
from benchmarks.table import markdown, print_tables
from benchmarks.targets import judge
from mirror.errors import HarnessError
from mirror.provision.providers import PROVIDERS, Server, provision

BENCHMARKS = ("startup", "check", "processes", "isolation", "drift", "prefetch")
DEFAULT_JSON = Path("benchmarks/results.json")


def _server_version(server: Server) -> str:
    with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        row = cur.fetchone()
    return str(row[0]).split()[0] if row else "?"


def _run(
    settings: Settings, only: Sequence[str], console: Console
) -> tuple[list[Result], dict[str, Any]]:
    results: list[Result] = []
    # Other work on the machine skews timings: say how busy it was.
    servers: dict[str, Any] = {
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        # Clusters live under the temporary directory; its file system shows in the timings.
        "temp_dir": tempfile.gettempdir(),
    }
    if "startup" in only:
        console.print("[bold]startup[/]: starting mirrors per provider …")
        found, skipped = startup.run(settings)
        results += found
        for provider, reason in skipped.items():
            servers[f"startup: {provider} skipped"] = reason
    if "check" in only:
        console.print("[bold]check[/]: billig check against its floor, cold and warm cache …")
        results += check.run(settings)
    shared = [b for b in only if b not in ("startup", "check")]
    if not shared:
        return results, servers
    with provision(settings.provider) as server:
        servers["benchmark server"] = f"{server.provider}, PostgreSQL {_server_version(server)}"
        modules = {
            "processes": processes,
            "isolation": isolation,
            "drift": drift,
            "prefetch": prefetch,
        }
        for name in shared:
            console.print(f"[bold]{name}[/] on the {server.provider} server …")
            results += modules[name].run(server, settings)
    return results, servers


def _render(path: Path, markdown_path: Path | None) -> None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        results = results_from_json(doc)
        # Judged again from the numbers, so that a file renders like a fresh run.
        verdicts = [] if doc.get("smoke") else judge(results)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.UsageError(f"{path}: not a benchmark results file ({exc})") from None
    print_tables(_console(), results, verdicts)
    if markdown_path is not None:
        markdown_path.write_text(markdown(results, verdicts), encoding="utf-8")


def _console() -> Console:
    # Wide enough for the tables when the output is a file or a CI log.
    return Console(width=None if sys.stdout.isatty() else 130)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--smoke", is_flag=True, help="Smallest sizes and fewest repeats only (CI).")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write results here (a full run defaults to {DEFAULT_JSON}; a smoke run writes none).",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the tables as Markdown (for the README).",
)
@click.option(
    "--only",
    default=",".join(BENCHMARKS),
    show_default=True,
    help="Comma-separated benchmarks to run.",
)
@click.option(
    "--provider",
    type=click.Choice(("auto", *PROVIDERS)),
    default="auto",
    show_default=True,
    help="Server for the drift, prefetch and isolation benchmarks.",
)
@click.option("--repeats", type=click.IntRange(min=3), help="Samples per measurement (max).")
@click.option(
    "--check-targets", is_flag=True, help="Exit 1 when a measured performance target is missed."
)
@click.option(
    "--render",
    "render_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Measure nothing: print (and with --markdown write) the tables of a results file.",
)
def main(
    smoke: bool,
    json_path: Path | None,
    markdown_path: Path | None,
    only: str,
    provider: str,
    repeats: int | None,
    check_targets: bool,
    render_path: Path | None,
) -> None:
    """Benchmarks of the performance targets, with ratios against alternatives of the same run."""
    if render_path is not None:
        _render(render_path, markdown_path)
        return
    chosen = [b.strip() for b in only.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown or not chosen:
        raise click.UsageError(f"--only takes {', '.join(BENCHMARKS)}; got {only!r}")
    chosen = [b for b in BENCHMARKS if b in chosen]
    settings = Settings.of(smoke=smoke, provider=provider, repeats=repeats)
    console = _console()
    try:
        results, servers = _run(settings, chosen, console)
    except HarnessError as exc:
        console.print(f"benchmarks: error: {exc}", style="red", markup=False)
        sys.exit(exc.exit_code)
    verdicts = judge(results) if not smoke else []
    print_tables(console, results, verdicts)
    # What was measured, without where the output went (paths say nothing about the numbers).
    args = ["--smoke"] if smoke else []
    if chosen != list(BENCHMARKS):
        args += ["--only", ",".join(chosen)]
    if provider != "auto":
        args += ["--provider", provider]
    if repeats is not None:
        args += ["--repeats", str(repeats)]
    command = shlex.join(["python", "-m", "benchmarks", *args])
    path = json_path or (None if smoke else DEFAULT_JSON)
    if path is not None:
        doc = document(
            results,
            [v.as_json() for v in verdicts],
            command=command,
            smoke=smoke,
            environment=servers,
        )
        write_json(path, doc)
        console.print(f"results written to {path}")
    if markdown_path is not None:
        markdown_path.write_text(markdown(results, verdicts), encoding="utf-8")
    if check_targets and not smoke and any(v.met is False for v in verdicts):
        sys.exit(1)


if __name__ == "__main__":
    main(prog_name="python -m benchmarks")
