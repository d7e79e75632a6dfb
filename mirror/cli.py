"""The ``billig`` command line: a thin layer of click commands over the library.

Every :class:`~mirror.errors.HarnessError` becomes its documented exit code and a one-line
message on stderr; a traceback only with ``--debug``. Messages and URLs shown are redacted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# Each command imports what it uses when it runs: `billig --help` and `billig drift` never load
# SQLAlchemy, the site or a web framework.
from mirror.errors import EXIT_UNREACHABLE, EXIT_USAGE, HarnessError, UsageError
from mirror.provision import PROVIDERS
from mirror.report import FORMATS

if TYPE_CHECKING:
    from mirror.config import Config
    from mirror.drift.check import DriftCheck, Timeouts
    from mirror.provision.providers import ProviderOptions

PROVIDER_CHOICES = ("auto", *PROVIDERS)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="billig-harness", prog_name="billig")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """billig-harness: contract tests and schema-drift checks for the Billig database."""
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map errors to exit codes."""
    from mirror.progress import reporting

    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    try:
        # Long steps show a status line on a terminal (never in CI or a pipe).
        with reporting():
            code = cli.main(args=argv, prog_name="billig", standalone_mode=False)
    except HarnessError as exc:
        from mirror.secrets import scrub

        secrets = _secrets(args)  # only once there is a message to scrub: no parsing up front
        _fail(exc, debug, secrets, f"billig: error: {one_line(scrub(str(exc), *secrets))}")
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("billig: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code in (1, 2) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("billig: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        from mirror.secrets import scrub

        secrets = _secrets(args)
        if not _connection_lost(exc):  # a bug: still no secrets and no traceback without --debug
            _fail(
                exc,
                debug,
                secrets,
                f"billig: internal error: {type(exc).__name__}: "
                f"{one_line(scrub(str(exc), *secrets))} (run with --debug for a traceback)",
            )
            sys.exit(EXIT_UNREACHABLE if "connection" in str(exc).lower() else 70)
        # the server went away where no closer handler expected it
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        text = f"billig: error: lost the database connection: {scrub(first, *secrets)}"
        _fail(exc, debug, secrets, one_line(text))
        sys.exit(EXIT_UNREACHABLE)
    sys.exit(code if isinstance(code, int) else 0)


# Driver errors of a connection that failed or went away mid-command (exit 3), by module: a
# command that never loaded a driver cannot have raised its errors.
_CONNECTION_LOST = {
    "psycopg2": ("OperationalError", "InterfaceError"),
    "sqlalchemy.exc": ("OperationalError", "InterfaceError"),
}


def _connection_lost(exc: BaseException) -> bool:
    for module_name, names in _CONNECTION_LOST.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, tuple(getattr(module, n) for n in names)):
            return True
    return False


def _secrets(args: list[str]) -> list[str]:
    """Passwords of the DSNs given as arguments or in the environment, to scrub everywhere."""
    from urllib.parse import quote

    from mirror.secrets import password_of

    candidates = [os.environ.get(v, "") for v in ("BILLIG_PROD_DSN", "BILLIG_MIRROR_DSN")]
    for i, arg in enumerate(args):
        if arg == "--dsn" and i + 1 < len(args):
            candidates.append(args[i + 1])
        elif arg.startswith("--dsn="):
            candidates.append(arg.removeprefix("--dsn="))
    found = []
    for dsn in candidates:
        with contextlib.suppress(Exception):
            password = password_of(dsn) if dsn else None
            if password:
                found += [password, quote(password, safe=""), quote(password)]
    return found


def _fail(exc: BaseException, debug: bool, secrets: list[str], message: str) -> None:
    """Print the one-line message; with --debug the traceback first, scrubbed like it."""
    if debug:
        import traceback

        from mirror.secrets import scrub

        text = "".join(traceback.format_exception(exc))
        click.echo(scrub(text, *secrets), err=True, nl=False)
    click.echo(message, err=True)


def one_line(message: str) -> str:
    """Error messages are one line; the auto provider's list of attempts keeps its lines."""
    if message.startswith("no PostgreSQL provider worked"):
        return message
    return " ".join(message.split())


# --------------------------------------------------------------------------- shared options


def provider_options(func: Any) -> Any:
    """--provider/--dsn/--image options shared by the commands that start a mirror."""
    func = click.option(
        "--image", default=None, help="Docker image for the docker provider (default postgres:15)."
    )(func)
    func = click.option(
        "--dsn",
        default=None,
        help="Existing server for the dsn provider (default $BILLIG_MIRROR_DSN).",
    )(func)
    func = click.option(
        "--provider",
        type=click.Choice(PROVIDER_CHOICES),
        default=lambda: os.environ.get("BILLIG_MIRROR_PROVIDER", "auto"),
        show_default="auto, or $BILLIG_MIRROR_PROVIDER",
        help="Where the throwaway PostgreSQL comes from.",
    )(func)
    return func


def seed_options(func: Any) -> Any:
    func = click.option(
        "--now",
        type=click.DateTime(),
        default=None,
        help="Reference time of the seed (naive local time; default today's midnight).",
    )(func)
    func = click.option(
        "--seed",
        "seed",
        type=int,
        default=None,
        help="Random seed (default: [tool.billig] seed, else 1).",
    )(func)
    func = click.option(
        "--events",
        type=click.IntRange(min=0, max=1_000_000),
        default=None,
        help="Number of Billig events to seed (default: [tool.billig] events, else 60).",
    )(func)
    return func


def make_options(provider: str, dsn: str | None, image: str | None) -> ProviderOptions:
    from mirror.provision.providers import ProviderOptions

    options = ProviderOptions()
    if dsn:
        options.dsn = dsn
    if image:
        options.image = image
    if provider == "dsn" and not options.dsn:
        raise UsageError("--provider dsn needs --dsn URL or BILLIG_MIRROR_DSN")
    return options


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C so that `kill` also tears the mirror down."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- billig config


@cli.command("config")
def config_command() -> None:
    """Print the resolved configuration and where each value came from."""
    from mirror.config import load_config

    config = load_config()
    shown = config.pyproject or f"none (defaults, relative to {config.root})"
    click.echo(f"pyproject: {shown}")
    rows = config.describe()
    width = max(len(key) for key, _, _ in rows)
    for key, value, origin in rows:
        click.echo(f"{key:<{width}}  {value or '(not set)'}  [{origin}]")


# --------------------------------------------------------------------------- billig mirror


@cli.group()
def mirror() -> None:
    """Throwaway, seeded PostgreSQL mirrors of Billig."""


@mirror.command("up")
@provider_options
@seed_options
@click.option("--show-password", is_flag=True, help="Print the URL with its password.")
def mirror_up(
    provider: str,
    dsn: str | None,
    image: str | None,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    show_password: bool,
) -> None:
    """Start a seeded mirror in the foreground; Ctrl-C stops it and removes everything."""
    from mirror.config import load_config
    from mirror.provision.mirror import start_mirror

    started = time.monotonic()
    config = load_config(overrides={"events": events, "seed": seed})
    events, seed = config.events, config.seed
    with (
        _sigterm_as_interrupt(),
        start_mirror(
            provider,
            events=events,
            seed=seed,
            now=now,
            options=make_options(provider, dsn, image),
            schema_path=config.schema,
        ) as m,
    ):
        _echo_seed_warnings(m.seed_warnings)
        url = m.full_url if show_password else m.masked_url.replace("+psycopg2", "")
        try:  # from here on Ctrl-C is the normal way to stop: exit 0
            click.echo(
                f"mirror ready in {time.monotonic() - started:.2f}s "
                f"(provider {m.provider}, {events} events, seed {seed})"
            )
            click.echo(url)
            click.echo("press Ctrl-C to stop and remove it", err=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping mirror", err=True)


@mirror.command("run", context_settings={"ignore_unknown_options": True})
@provider_options
@seed_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def mirror_run(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND with BILLIG_MIRROR_URL set to a fresh seeded mirror; always tear it down.

    Exits with COMMAND's exit code. Example:
    billig mirror run -- psql "$BILLIG_MIRROR_URL" -c 'select 1'
    (quote the variable so the shell does not expand it early: use sh -c '…').
    """
    from mirror.config import load_config
    from mirror.provision.mirror import start_mirror
    from mirror.provision.providers import client_bindir, run_guarded

    config = load_config(overrides={"events": events, "seed": seed})
    with (
        _sigterm_as_interrupt(),
        start_mirror(
            provider,
            events=config.events,
            seed=config.seed,
            now=now,
            options=make_options(provider, dsn, image),
            schema_path=config.schema,
        ) as m,
    ):
        _echo_seed_warnings(m.seed_warnings)
        url = m.dsn
        # libpq variables too, so `psql "$BILLIG_MIRROR_URL"` works even when the calling shell
        # expanded the (then unset) variable to an empty connection string.
        # The server's own psql & co. first: a machine without PostgreSQL has the wheel's.
        bindir, path = client_bindir(m.server), os.environ.get("PATH", os.defpath)
        env = dict(
            os.environ,
            PATH=f"{bindir}{os.pathsep}{path}" if bindir else path,
            BILLIG_MIRROR_URL=m.full_url,
            BILLIG_MIRROR_PROVIDER_USED=m.provider,
            PGHOST=str(url.host),
            PGPORT=str(url.port),
            PGUSER=str(url.username),
            PGPASSWORD=str(url.password),
            PGDATABASE=str(url.database),
        )
        # Substitute a literal $BILLIG_MIRROR_URL argument (the shell expanded nothing yet).
        args = [a.replace("$BILLIG_MIRROR_URL", m.full_url) for a in command]
        try:
            code = run_guarded(args, env)
        except FileNotFoundError:
            raise UsageError(f"command not found: {command[0]}") from None
        except KeyboardInterrupt:
            ctx.exit(130)
    ctx.exit(code)


@mirror.command("seed")
@click.option("--dsn", required=True, help="Database you own; schema/billig.sql is loaded first.")
@seed_options
def mirror_seed(dsn: str, events: int | None, seed: int | None, now: datetime | None) -> None:
    """Load schema/billig.sql (if the billig schema is absent) and seed a database you own."""
    import psycopg2

    from mirror.config import load_config
    from mirror.dsn import Dsn
    from mirror.errors import DatabaseUnreachable
    from mirror.provision.providers import connect_url
    from mirror.provision.schema import load_schema
    from mirror.provision.seed import seed_billig
    from mirror.secrets import redact, scrub

    url = Dsn.parse(dsn)
    try:
        conn = connect_url(url)
    except psycopg2.Error as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {url.masked()}: {scrub(str(exc).strip(), url.password)}"
        ) from None
    with contextlib.closing(conn):
        with conn.cursor() as cur:
            # Schema billig, or Billig's tables as dotted names ("billig.event" in public).
            cur.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = 'billig' UNION ALL "
                "SELECT 1 FROM pg_class WHERE relname LIKE 'billig.%' LIMIT 1"
            )
            has_schema = cur.fetchone() is not None
        conn.rollback()
        config = load_config(overrides={"events": events, "seed": seed})
        if not has_schema:
            load_schema(conn, config.schema)
        seeded = seed_billig(conn, events=config.events, seed=config.seed, now=now)
    _echo_seed_warnings(seeded.warnings)
    counts = seeded.counts
    click.echo(f"seeded {redact(url)}: " + ", ".join(f"{table} {n}" for table, n in counts.items()))


def _echo_seed_warnings(warnings: Iterable[object]) -> None:
    """The seed's located warnings (what it filled or left out), one line each, on stderr."""
    for warning in warnings:
        click.echo(str(warning), err=True)


# --------------------------------------------------------------------------- billig contracts


def contracts_options(func: Any) -> Any:
    """--contracts/--kind options of the commands that check or update contract files."""
    func = click.option(
        "--kind",
        "kinds",
        multiple=True,
        help="Only this snapshot kind (columns, shapes, …); repeatable. Default: all.",
    )(func)
    func = click.option(
        "--contracts",
        "contracts_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder of the contract files (default: [tool.billig] contracts, else ./contracts).",
    )(func)
    func = click.option(
        "--schema-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Schema DDL the mirror is loaded from (default: [tool.billig] schema).",
    )(func)
    return func


def contracts_config(contracts_path: Path | None, schema_file: Path | None) -> Config:
    from mirror.config import load_config

    return load_config(overrides={"contracts": contracts_path, "schema": schema_file})


@contextlib.contextmanager
def _contract_context(
    provider: str, dsn: str | None, image: str | None, config: Config
) -> Iterator[Any]:
    """A seeded mirror (from the schema file), the contract folder and the site under contract,
    torn down afterwards."""
    from mirror.contracts.check import ContractContext
    from mirror.provision.mirror import start_mirror
    from mirror.sources.site import load_site

    site = load_site(config)
    with (
        _sigterm_as_interrupt(),
        start_mirror(
            provider,
            events=config.events,
            seed=config.seed,
            options=make_options(provider, dsn, image),
            schema_path=config.schema,
        ) as m,
    ):
        yield ContractContext(config.contracts, m.url, site=site), m


@cli.group()
def contracts() -> None:
    """Pinned contract files: Billig columns, serializer shapes (and more kinds)."""


@contracts.command("check")
@provider_options
@contracts_options
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
@click.pass_context
def contracts_check(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    contracts_path: Path | None,
    schema_file: Path | None,
    kinds: tuple[str, ...],
    report: Path | None,
) -> None:
    """Verify the contract files against a fresh mirror; writes nothing. Exit 1 on mismatch."""
    config = contracts_config(contracts_path, schema_file)
    ctx.exit(_run_checks(provider, dsn, image, config, kinds, report))


@contracts.command("update")
@provider_options
@contracts_options
def contracts_update(
    provider: str,
    dsn: str | None,
    image: str | None,
    contracts_path: Path | None,
    schema_file: Path | None,
    kinds: tuple[str, ...],
) -> None:
    """Rewrite the contract files from the schema file and the site; print what changed."""
    from mirror.contracts.check import render_changes, update_contracts

    config = contracts_config(contracts_path, schema_file)
    with _contract_context(provider, dsn, image, config) as (context, _):
        changes = update_contracts(context, list(kinds) or None)
    click.echo(render_changes(changes, context.contracts_dir.parent), nl=False)


@contracts.command("snapshot")
@click.option("--dsn", required=True, help="Database to pin (read-only access is enough).")
@click.option(
    "--schema", "schemas", multiple=True, required=True, help="Schema to pin; repeatable."
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Contract file to write (atomically).",
)
def contracts_snapshot(dsn: str, schemas: tuple[str, ...], output: Path) -> None:
    """Pin every relation of the given schemas of any database as a columns contract.

    The contract has no lineage: every pinned column counts as read by `billig drift`.
    """
    from mirror.contracts.snapshot import snapshot_database
    from mirror.report.render import cannot_write
    from mirror.secrets import redact

    reason = cannot_write(output)
    if reason is not None:
        raise UsageError(f"--output {output}: cannot write the contract there: {reason}")
    catalog = snapshot_database(dsn, schemas, output)
    columns = sum(len(r.columns) for r in catalog)
    click.echo(
        f"pinned {len(catalog)} relations ({columns} columns) of schema(s) "
        f"{', '.join(schemas)} from {redact(dsn)} to {output}"
    )


@cli.command("check")
@provider_options
@contracts_options
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a Markdown report.",
)
@click.pass_context
def check(
    ctx: click.Context,
    provider: str,
    dsn: str | None,
    image: str | None,
    contracts_path: Path | None,
    schema_file: Path | None,
    kinds: tuple[str, ...],
    report: Path | None,
) -> None:
    """The main job: mirror up, every contract check, one summary. Exit 0 clean, 1 mismatch."""
    config = contracts_config(contracts_path, schema_file)
    ctx.exit(_run_checks(provider, dsn, image, config, kinds, report))


def _run_checks(
    provider: str,
    dsn: str | None,
    image: str | None,
    config: Config,
    kinds: tuple[str, ...],
    report: Path | None,
) -> int:
    from mirror.contracts.check import (
        check_contracts,
        render_results,
        render_results_markdown,
        validate_contracts,
    )

    validate_contracts(config.contracts, list(kinds) or None)
    started = time.monotonic()
    with _contract_context(provider, dsn, image, config) as (context, m):
        _echo_seed_warnings(m.seed_warnings)
        ready = time.monotonic() - started
        results = check_contracts(context, list(kinds) or None)
    took = time.monotonic() - started
    click.echo(render_results(results), nl=False)
    click.echo(f"mirror: provider {m.provider}, ready in {ready:.2f}s; total {took:.2f}s")
    if report is not None:
        from mirror.sources.contract_file import write_atomic

        write_atomic(report, render_results_markdown(results))
    return 0 if all(r.ok for r in results) else 1


# --------------------------------------------------------------------------- billig drift


def parse_output(value: str, default_format: str) -> tuple[str, str]:
    """``--output`` value ``FORMAT:FILE`` or ``FILE`` (in ``--format``) → (format, file or -)."""
    fmt, sep, target = value.partition(":")
    if sep and fmt in FORMATS:
        if not target:
            raise UsageError(f"--output {value!r}: no file after the format (use - for stdout)")
        return fmt, target
    if not value:
        raise UsageError("--output needs a FILE or FORMAT:FILE")
    return default_format, value


@cli.command("drift")
@click.option(
    "--dsn", default=None, help="Production Billig database URL (default $BILLIG_PROD_DSN)."
)
@click.option(
    "--contract",
    type=click.Path(path_type=Path),
    default=None,
    help="Columns contract file, or a folder holding columns.json (default: [tool.billig] "
    "contracts).",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="Check only the contracted relations of schema NAME and read all of it (relations "
    "added there are reported); repeatable.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "warning", "info"]),
    default="breaking",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format on stdout, and of an --output FILE given without FORMAT:.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write a report to FILE (- is stdout; folders are created); repeatable. "
    "Stdout shows the --format report unless some --output goes to -.",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Drift policy file (default: [tool.billig] policy, else drift-policy.json next to "
    "the contract, if present).",
)
@click.option("--suggest", is_flag=True, help="Print the schema.sql and model changes to follow.")
@click.option(
    "--write-schema",
    is_flag=True,
    help="Rewrite the schema file for the contracted relations from production (atomically, "
    "printing the diff).",
)
@click.option(
    "--schema-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Schema file for --suggest/--write-schema (default: [tool.billig] schema).",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: on a TTY)."
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a connection.",
)
@click.option(
    "--statement-timeout",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Milliseconds any catalog statement may take.",
)
@click.option(
    "--lock-timeout",
    type=click.IntRange(min=1),
    default=2_000,
    show_default=True,
    help="Milliseconds to wait for a catalog lock.",
)
@click.pass_context
def drift(
    ctx: click.Context,
    dsn: str | None,
    contract: Path | None,
    schemas: tuple[str, ...],
    fail_on: str,
    fmt: str,
    outputs: tuple[str, ...],
    policy: Path | None,
    suggest: bool,
    write_schema: bool,
    schema_file: Path | None,
    color: bool | None,
    connect_timeout: float,
    statement_timeout: int,
    lock_timeout: int,
) -> None:
    """Compare production Billig with the columns contract.

    Exit 0: nothing at or above --fail-on; 1: drift; 2: usage, contract or policy error;
    3: database unreachable, authentication failed, timeout or introspection failed.
    """
    from mirror.config import load_config
    from mirror.drift.check import DSN_ENV, Timeouts, check_drift, default_dsn
    from mirror.report.render import (
        check_destinations,
        render,
        step_summary_path,
        use_color,
        write_reports,
    )

    target = dsn or default_dsn()
    if not target:
        raise UsageError(f"no database to check: pass --dsn URL or set ${DSN_ENV}")
    reports = [parse_output(o, fmt) for o in outputs]
    if not any(path == "-" for _, path in reports):
        reports.insert(0, (fmt, "-"))
    files = [(report_fmt, Path(path)) for report_fmt, path in reports if path != "-"]
    summary = step_summary_path() if any(f == "github" for f, _ in reports) else None
    check_destinations([path for _, path in files], summary)
    config = load_config(overrides={"schema": schema_file, "policy": policy})
    if policy is None and config.origins.get("policy") != "default":
        policy = config.policy  # configured explicitly: it must exist
    bounds = Timeouts(statement_timeout, lock_timeout, connect_timeout)
    check = check_drift(
        target,
        contract=contract or config.contracts,
        schemas=schemas or None,
        policy=policy,
        fail_on=fail_on,
        timeouts=bounds,
    )
    # Every database read happens before anything is written or printed, within the same bounds.
    fixing = _drift_fixing(check, config, write_schema, bounds) if suggest or write_schema else None
    report = check.report
    # Reports first: a verdict is printed only once every report it promises was written.
    write_reports(report, files, summary)
    for report_fmt, path in reports:
        if path == "-":
            paint = use_color(sys.stdout) if color is None else color
            # click strips ANSI codes off a non-terminal unless told the colour is wanted.
            click.echo(render(report, report_fmt, color=paint), nl=False, color=paint)
    if fixing is not None:
        text = fixing()
        # Keep machine-readable stdout parseable: fixing help then goes to stderr.
        machine = any(f != "text" for f, path in reports if path == "-")
        click.echo(text, nl=False, err=machine)
    ctx.exit(report.exit_code)


def _drift_fixing(
    check: DriftCheck, config: Config, write: bool, bounds: Timeouts
) -> Callable[[], str]:
    """Read what --suggest/--write-schema need; return a function that writes and renders."""
    from mirror.drift.suggest import (
        model_changes,
        read_view_definitions,
        render_suggestions,
        schema_diff,
        updated_schema,
        views_to_read,
        write_schema,
    )
    from mirror.sources.site import load_site

    path = config.schema
    site = load_site(config)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the schema file ({exc})") from None
    views = read_view_definitions(
        check.target,
        views_to_read(check.expected, check.actual, check.findings),
        statement_timeout_ms=bounds.statement_ms,
        lock_timeout_ms=bounds.lock_ms,
        connect_timeout_s=bounds.connect_s,
    )
    update = updated_schema(source, check.expected, check.actual, check.findings, views)
    changes = model_changes(check.expected, check.actual, check.findings, site) if site else []

    def finish() -> str:
        diff = write_schema(path, update) if write else schema_diff(source, update.text, path.name)
        return render_suggestions(
            update,
            diff,
            changes,
            schema_name=str(path),
            models_file=site.models_file if site else "no site configured",
            written=write,
        )

    return finish


# --------------------------------------------------------------------------- billig serve


@cli.command("serve", context_settings={"ignore_unknown_options": True})
@click.option(
    "--dsn", default=None, help="Billig database to read (read-only). Default: a fresh mirror."
)
@click.option(
    "--site-db",
    default=None,
    help="The site's database URL. Default: a temporary SQLite file seeded with site events.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--provider",
    type=click.Choice(PROVIDER_CHOICES),
    default=lambda: os.environ.get("BILLIG_MIRROR_PROVIDER", "auto"),
    show_default="auto, or $BILLIG_MIRROR_PROVIDER",
    help="Where the fresh mirror comes from when --dsn is not given.",
)
@seed_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def serve(
    ctx: click.Context,
    dsn: str | None,
    site_db: str | None,
    host: str,
    port: int,
    provider: str,
    events: int | None,
    seed: int | None,
    now: datetime | None,
    command: tuple[str, ...],
) -> None:
    """Serve the site's Billig API (OpenAPI at /openapi.json) until Ctrl-C.

    With `-- COMMAND`, run COMMAND against the running API instead (BILLIG_API_URL is set, and
    a literal $BILLIG_API_URL argument is replaced), then stop; exits with COMMAND's code:

    \b
    billig serve --port 0 -- schemathesis run contracts/openapi.json \\
        --url '$BILLIG_API_URL'
    """
    import subprocess

    from mirror.config import load_config
    from mirror.provision.mirror import start_mirror
    from mirror.secrets import redact
    from mirror.serve import BackgroundServer, base_url, bind, serve_forever
    from mirror.sources.site import load_site

    config = load_config(overrides={"events": events, "seed": seed})
    site = load_site(config)
    serving = getattr(site, "serving", None)
    if site is None or not callable(serving):
        raise UsageError("billig serve needs a site with an app ([tool.billig] site)")
    sock = bind(host, port)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_sigterm_as_interrupt())
            if dsn:
                billig, billig_shown = dsn, redact(dsn)
            else:
                m = stack.enter_context(
                    start_mirror(
                        provider,
                        events=config.events,
                        seed=config.seed,
                        now=now,
                        options=make_options(provider, None, None),
                        schema_path=config.schema,
                    )
                )
                billig = m.full_url
                billig_shown = f"{m.masked_url} (fresh mirror, provider {m.provider})"
            app, site_shown = stack.enter_context(serving(billig, site_db))
            url = base_url(sock)
            click.echo(f"Billig: {billig_shown}", err=True)
            click.echo(f"site:   {site_shown}", err=True)
            if not command:
                click.echo(f"serving the API on {url} (OpenAPI: {url}/openapi.json)")
                click.echo("press Ctrl-C to stop", err=True)
                # uvicorn stops cleanly on Ctrl-C; the databases are torn down below.
                with contextlib.suppress(KeyboardInterrupt):
                    serve_forever(app, sock)
                click.echo("stopping the API", err=True)
                return
            with BackgroundServer(app, sock) as server:
                env = dict(os.environ, BILLIG_API_URL=server.url)
                args = [a.replace("$BILLIG_API_URL", server.url) for a in command]
                click.echo(f"API ready on {server.url}; running {args[0]}", err=True)
                try:
                    proc = subprocess.run(args, env=env)
                except FileNotFoundError:
                    raise UsageError(f"command not found: {command[0]}") from None
                except KeyboardInterrupt:
                    ctx.exit(130)
            ctx.exit(proc.returncode)
    finally:
        sock.close()


if __name__ == "__main__":  # pragma: no cover
    main()
