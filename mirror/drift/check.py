"""The drift check: the live production catalog against the columns contract, as a ``Report``.

:func:`check_drift` is the orchestration behind ``billig drift``: it loads the contract (a file,
or a folder holding ``columns.json``) and the drift policy (``drift-policy.json`` next to the
contract unless named; a missing default file is an empty policy), reads the production catalog
read-only with :func:`mirror.sources.introspect.introspect` (only the contracted relations, their
namesakes and quoting look-alikes, or whole schemas when asked), compares with the one
comparator, applies the policy and times each step. A contracted relation that is missing makes
a second, equally bounded read of its schema to look for a probable rename; relations read only
for that are not reported as added. Every database failure propagates as a
:class:`~mirror.errors.DatabaseError` (exit 3), so an unreachable or half-read production never
turns into a clean verdict.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mirror.catalog.compare import compare_catalogs, confusable_keys
from mirror.catalog.findings import Finding, FindingKind, Severity
from mirror.catalog.model import Catalog, RelationKey
from mirror.config import load_config, variable
from mirror.drift.policy import Policy, load_policy
from mirror.dsn import Dsn, SqlAlchemyUrl
from mirror.errors import ContractError, UsageError
from mirror.report.render import Report
from mirror.secrets import redact
from mirror.sources.contract_file import COLUMNS_FILE, load_contract
from mirror.sources.introspect import Introspection, introspect

# Re-exported: the bounds of a drift run are those of every read session.
from mirror.sources.read_session import Timeouts as Timeouts

DSN_ENV = "BILLIG_PROD_DSN"
POLICY_FILE = "drift-policy.json"


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """One drift run: the report, and what it was made of (for ``--suggest``).

    ``expected`` is the contract as checked (restricted to ``--schema`` when given), ``actual``
    what production has of it, ``findings`` the comparator's findings before the policy, and
    ``statements`` the names of the catalog statements sent.
    """

    report: Report
    expected: Catalog
    actual: Catalog
    findings: tuple[Finding, ...]
    statements: tuple[str, ...]
    contract: Path
    target: str | Dsn | SqlAlchemyUrl


def default_dsn(environ: Mapping[str, str] | None = None) -> str | None:
    """The production DSN from ``$BILLIG_PROD_DSN`` (None when unset or blank)."""
    value: str | None = variable(DSN_ENV, environ)
    return value.strip() if value else None


def resolve_contract(contract: str | Path | None = None) -> Path:
    """The columns contract file: ``contract`` itself, or ``columns.json`` in that folder.

    Without ``contract``, the configured contracts folder (``[tool.billig] contracts``).
    """
    path = Path(contract) if contract is not None else load_config().contracts
    if path.is_dir():
        path = path / COLUMNS_FILE
    if not path.is_file():
        raise ContractError(f"{_shown(path)}: contract file not found")
    return path


def check_drift(
    dsn: str | Dsn | SqlAlchemyUrl | None,
    *,
    contract: str | Path | None = None,
    schemas: Iterable[str] | None = None,
    policy: str | Path | None = None,
    fail_on: Severity | str = Severity.BREAKING,
    today: dt.date | None = None,
    timeouts: Timeouts | None = None,
    data: bool = False,
) -> DriftCheck:
    """Compare production (``dsn``) with the columns contract; see the module docstring.

    ``schemas`` limits the check to the contracted relations of these schemas and reads the
    whole of each, so that relations added there are reported too (and renames are found in
    one read). Raises :class:`~mirror.errors.UsageError` (no DSN, bad severity, a schema the
    contract does not cover), :class:`~mirror.errors.ContractError` (contract or policy file)
    and :class:`~mirror.errors.DatabaseError` (unreachable, timeout, introspection failed).
    """
    started = time.perf_counter()
    if dsn is None or not str(dsn).strip():
        raise UsageError(f"no database to check: pass --dsn URL or set ${DSN_ENV}")
    threshold = Severity.parse(fail_on) if isinstance(fail_on, str) else fail_on
    bounds = timeouts or Timeouts()
    contract_path = resolve_contract(contract)
    expected = load_contract(contract_path)
    policy_path = Path(policy) if policy is not None else contract_path.parent / POLICY_FILE
    rules = load_policy(policy_path, missing_ok=policy is None)
    whole = (schemas,) if isinstance(schemas, str) else tuple(dict.fromkeys(schemas or ()))
    if whole:
        expected = restrict_to_schemas(expected, whole)
    if not expected.relations and not expected.schemas:
        raise ContractError(f"{_shown(contract_path)}: the contract pins no relation")
    loaded = time.perf_counter()

    readable = {key: rel.column_names for key, rel in expected.relations.items()}
    first = _read(
        dsn,
        bounds,
        relations=scope_of(expected),
        schemas=whole,
        expected_schemas=expected.schemas,
        readable=readable,
    )
    actual = unreadable_as_lost(first.catalog, first.unreadable)
    statements = first.statements
    reading = first.seconds
    findings = compare_catalogs(expected, actual)
    lookup = [] if whole else rename_lookup_schemas(findings, actual)
    if lookup:
        second = _read(dsn, bounds, relations=(), schemas=lookup, namesakes=False)
        statements += second.statements
        reading += second.seconds
        only_second = set(second.catalog.relations) - set(actual.relations)
        actual = Catalog(
            {**second.catalog.relations, **actual.relations},
            actual.schemas | second.catalog.schemas,
        )
        findings = [
            f
            for f in compare_catalogs(expected, actual)
            if not (f.kind is FindingKind.RELATION_ADDED and f.key in only_second)
        ]
    findings = with_unreadable_reasons(findings, first.unreadable)
    if data:  # opt-in: production's rows against the readers' assumptions, counts only
        from mirror.drift.assertions import load_assertions
        from mirror.drift.data import check_data

        declared = load_assertions(contract_path.parent, expected)
        rows = check_data(dsn, bounds, expected, actual, declared)
        findings = [*findings, *rows.findings]
        statements += rows.statements
    done = time.perf_counter()
    report = Report.build(
        findings,
        policy=rules,
        today=today,
        checked=tuple(expected.relations),
        fail_on=threshold,
        timings={
            "contract": loaded - started,
            "introspect": reading,
            "compare": max(0.0, done - loaded - reading),
            "total": done - started,
        },
        target=redact(dsn),
        contract=_shown(contract_path),
        policy_file=_shown(policy_path) if _policy_used(rules, policy_path) else None,
        expected=expected,
    )
    return DriftCheck(report, expected, actual, tuple(findings), statements, contract_path, dsn)


# --------------------------------------------------------------------------- scope (pure)


def restrict_to_schemas(contract: Catalog, schemas: Iterable[str]) -> Catalog:
    """The contract limited to ``schemas``; a schema the contract does not cover is an error."""
    wanted = frozenset(schemas)
    unknown = sorted(wanted - contract.schemas)
    if unknown:
        covered = ", ".join(sorted(contract.schemas)) or "none"
        raise UsageError(f"the contract covers no schema {unknown[0]!r} (it covers: {covered})")
    return Catalog(
        {k: r for k, r in contract.relations.items() if k.schema in wanted},
        wanted,
        contract.lineage,
    )


def scope_of(contract: Catalog) -> list[RelationKey]:
    """The relations to read: the contracted ones and their quoting look-alikes.

    Same-named relations in other schemas and dotted single identifiers come with them as
    namesakes; the look-alikes add the reverse (a contracted ``public."billig.event"`` brings
    ``billig.event``).
    """
    keys = dict.fromkeys(contract.relations)
    for key in contract.relations:
        keys.update(dict.fromkeys(confusable_keys(key)))
    return list(keys)


def rename_lookup_schemas(findings: Iterable[Finding], actual: Catalog) -> list[str]:
    """Schemas to read whole for rename candidates: those of missing relations that exist."""
    return sorted(
        {
            f.schema
            for f in findings
            if f.kind is FindingKind.RELATION_MISSING and f.schema in actual.schemas
        }
    )


def unreadable_as_lost(actual: Catalog, unreadable: Mapping[RelationKey, str]) -> Catalog:
    """``actual`` with every column of an unreadable relation marked not selectable.

    A relation the login cannot read (a view whose owner lost SELECT on a base table) is as
    lost to a reader as one whose SELECT privilege was revoked: the comparator then reports it
    as ``privilege_missing``, breaking.
    """
    if not unreadable:
        return actual
    relations = dict(actual.relations)
    for key in unreadable:
        relation = relations[key]
        columns = tuple(replace(c, selectable=False) for c in relation.columns)
        relations[key] = replace(relation, columns=columns)
    return Catalog(relations, actual.schemas, actual.lineage)


def with_unreadable_reasons(
    findings: Iterable[Finding], unreadable: Mapping[RelationKey, str]
) -> list[Finding]:
    """Privilege findings of unreadable relations, with the server's reason as evidence."""
    out = []
    for f in findings:
        reason = unreadable.get(f.key) if f.key is not None else None
        if f.kind is FindingKind.PRIVILEGE_MISSING and reason is not None:
            f = replace(f, evidence=f"reading it fails: {reason}")
        out.append(f)
    return out


# --------------------------------------------------------------------------- edges


def _read(
    dsn: str | Dsn | SqlAlchemyUrl,
    bounds: Timeouts,
    *,
    relations: Iterable[RelationKey],
    schemas: Iterable[str],
    namesakes: bool = True,
    expected_schemas: Iterable[str] = (),
    readable: Mapping[RelationKey, tuple[str, ...]] | None = None,
) -> Introspection:
    return introspect(
        dsn,
        relations=list(relations),
        schemas=list(schemas),
        namesakes=namesakes,
        expected_schemas=sorted(expected_schemas),
        readable=readable,
        timeouts=bounds,
    )


def _policy_used(rules: Policy, path: Path) -> bool:
    return bool(rules.entries) or path.is_file()


def _shown(path: Path) -> str:
    """A path as reports show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
