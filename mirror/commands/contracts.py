"""``billig check`` and ``billig contracts check|update|snapshot``: the pinned contract files."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.commands.console import Echo, echo, echo_warnings
from mirror.commands.mirror import configured_mirror
from mirror.config import Config, load_config
from mirror.errors import ContractError, UsageError
from mirror.report.printable import printable_lines

if TYPE_CHECKING:
    from mirror.contracts.kinds import ContractContext


def contracts_config(contracts: Path | None = None, schema_file: Path | None = None) -> Config:
    """The configuration with a command's ``--contracts``/``--schema-file`` applied."""
    return load_config(overrides={"contracts": contracts, "schema": schema_file})


@contextlib.contextmanager
def contract_context(
    provider: str, dsn: str | None, image: str | None, config: Config
) -> Iterator[tuple[ContractContext, Any]]:
    """A seeded mirror (from the schema file), the contract folder and the site under contract,
    torn down afterwards. The seed writes only the values the site's readers allow where they
    allow only some (its fields' choices)."""
    from mirror.contracts.kinds import ContractContext
    from mirror.provision.allowed_values import AllowedValues
    from mirror.sources.site_loading import load_site

    site = load_site(config)
    # Without a site, the choices the contract pins (configured_mirror's default).
    allowed = AllowedValues.of_lineage(site.lineage()) if site is not None else None
    with configured_mirror(provider, config, dsn=dsn, image=image, allowed=allowed) as m:
        yield ContractContext(config.contracts, m.dsn, site=site), m


def check_contracts(
    config: Config,
    provider: str = "auto",
    *,
    dsn: str | None = None,
    image: str | None = None,
    kinds: Sequence[str] = (),
    report: Path | None = None,
    out: Echo = echo,
) -> int:
    """Every contract check against a fresh mirror, one summary; writes nothing but ``report``.

    Exit code 0 when every contract holds, 1 on a mismatch.
    """
    from mirror.contracts.check import check_contracts as run_checks
    from mirror.contracts.check import validate_contracts
    from mirror.contracts.render import render_results, render_results_markdown

    selected = list(kinds) or None
    if report is not None:
        writable(report, f"--report {report}", "the report")
    validate_contracts(config.contracts, selected)
    started = time.monotonic()
    with contract_context(provider, dsn, image, config) as (context, m):
        echo_warnings(out, m.seed_warnings)
        ready = time.monotonic() - started
        results = run_checks(context, selected)
    took = time.monotonic() - started
    out(printable_lines(render_results(results)), nl=False)
    out(f"mirror: provider {m.provider}, {m.origin_text}, ready in {ready:.2f}s; total {took:.2f}s")
    if report is not None:
        from mirror.files import write_atomic
        from mirror.sources.contract_file import COLUMNS_FILE, load_contract

        try:  # the columns contract, for the graph of broken paths (not checked when unselected)
            contract = load_contract(config.contracts / COLUMNS_FILE)
        except ContractError:
            contract = None
        try:
            write_atomic(report, render_results_markdown(results, contract=contract))
        except OSError as exc:
            raise UsageError(
                f"--report {report}: cannot write the report ({exc.strerror})"
            ) from None
    return 0 if all(r.ok for r in results) else 1


def update_contracts(
    config: Config,
    provider: str = "auto",
    *,
    dsn: str | None = None,
    image: str | None = None,
    kinds: Sequence[str] = (),
    out: Echo = echo,
) -> int:
    """Rewrite the contract files from the schema file and the site; print what changed."""
    from mirror.contracts.check import update_contracts as run_update
    from mirror.contracts.render import render_changes

    # Before the mirror starts: a folder nothing can be written to fails now, not after minutes.
    writable(config.contracts / ".billig-probe", str(config.contracts), "contract files")
    with contract_context(provider, dsn, image, config) as (context, _):
        changes = run_update(context, list(kinds) or None)
    out(printable_lines(render_changes(changes, context.contracts_dir.parent)), nl=False)
    return 0


def writable(path: Path, where: str, what: str) -> None:
    """A :class:`UsageError` naming ``where`` unless a file can be written at ``path``."""
    from mirror.report.destinations import cannot_write

    reason = "not a file name" if path.name in ("", "..") else cannot_write(path)
    if reason is not None:
        raise UsageError(f"{where}: cannot write {what} there: {reason}")


def snapshot_contract(dsn: str, schemas: Sequence[str], output: Path, *, out: Echo = echo) -> int:
    """Pin every relation of ``schemas`` of any database as a columns contract (no lineage)."""
    from mirror.contracts.snapshot import snapshot_database
    from mirror.secrets import redact

    writable(output, f"--output {output}", "the contract")
    catalog = snapshot_database(dsn, list(schemas), output)
    columns = sum(len(r.columns) for r in catalog)
    out(
        f"pinned {len(catalog)} relations ({columns} columns) of schema(s) "
        f"{', '.join(schemas)} from {redact(dsn)} to {output}"
    )
    return 0
