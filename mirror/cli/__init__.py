"""The ``billig`` command line: click commands that parse arguments and call the library.

Each command group is one module of this package, imported only when that command runs (click's
lazy group): ``billig --help`` loads this module alone. The logic of every command is a plain
function of :mod:`mirror.commands`; the click modules only turn options into its arguments.
Errors become one line on stderr (:mod:`mirror.cli.failure`) and the exit code of their type
(:func:`mirror.errors.exit_code_of`); a traceback only with ``--debug``.

To add a command (or a group of them): write ``mirror/cli/<name>.py`` holding one click command
or group, whose options call a function of ``mirror/commands/<name>.py``; then add one line to
:data:`COMMANDS` below: the command's name, ``module:attribute`` and its one-line help (shown by
``billig --help`` without importing the module; a test keeps it equal to the command's own).
"""

from __future__ import annotations

import importlib
import sys

import click

# name: ("module:attribute", short help shown by `billig --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "mirror.cli.contracts:check",
        "Same as `billig contracts check`: mirror up, every contract check, one summary.",
    ),
    "config": (
        "mirror.cli.config:config",
        "Print the resolved configuration and where each value came from.",
    ),
    "contracts": (
        "mirror.cli.contracts:contracts",
        "Pinned contract files: Billig columns, serializer shapes (and more kinds).",
    ),
    "drift": ("mirror.cli.drift:drift", "Compare production Billig with the columns contract."),
    "init": (
        "mirror.cli.init:init",
        "Adopt billig here: configuration, schema file, CI workflows, a first test.",
    ),
    "lineage": (
        "mirror.cli.lineage:lineage",
        "Show which model fields, serializer fields and endpoints read Billig columns.",
    ),
    "mirror": ("mirror.cli.mirror:mirror", "Throwaway, seeded PostgreSQL mirrors of Billig."),
    "serve": (
        "mirror.cli.serve:serve",
        "Serve the site's Billig API (OpenAPI at /openapi.json) until Ctrl-C.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they run, from a ``name: (target, help)`` table."""

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = self.lazy[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table's help lines: listing the commands imports none of them.
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="billig-harness", prog_name="billig")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """billig-harness: contract tests and schema-drift checks for the Billig database."""
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI; an error becomes one line and its exit code."""
    from mirror.progress import reporting

    args = sys.argv[1:] if argv is None else argv
    try:
        with reporting():  # long steps show a status line on a terminal (never in CI or a pipe)
            code = cli.main(args=args, prog_name="billig", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as exc:
        from mirror.cli.failure import report_failure

        sys.exit(report_failure(exc, args))
    sys.exit(code if isinstance(code, int) else 0)
