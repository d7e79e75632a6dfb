"""The ``assertions`` contract kind: ``data-assertions.json``, written by hand, checked like the
generated files.

The site declares there what its code assumes of the rows it reads (``num_sold <= num``);
``billig drift --data`` counts production's rows that break them (:mod:`mirror.drift.assertions`
says what an assertion may be). Nothing generates the file, so an update neither writes nor
removes it. A check validates it without a database (exit 2 on a malformed file, an unknown
relation or column, an expression that is not one safe expression over the relation's columns,
each naming the file, line and entry), then has the schema file's mirror plan every assertion as
drift would send it: one that does not type-check against the relation (``ticket_group_name >
5``) fails the check naming the file and the entry, instead of failing later against
production.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from mirror.catalog.model import quote_ident
from mirror.contracts.columns import pinned
from mirror.contracts.kinds import CheckResult, ContractContext
from mirror.drift.assertions import ASSERTIONS_FILE, Assertion, load_assertions
from mirror.sources.contract_file import COLUMNS_FILE


def declared(folder: Path) -> list[Assertion]:
    """The assertions of ``folder`` checked against its columns contract (none without a file)."""
    if not (folder / ASSERTIONS_FILE).is_file():
        return []
    return load_assertions(folder, pinned(folder / COLUMNS_FILE))


def planned(assertion: Assertion) -> str:
    """The assertion as drift sends it, over no row: the server parses, resolves and types it."""
    columns = ", ".join(quote_ident(c) for c in assertion.columns)
    return (
        f"SELECT count(*) FILTER (WHERE NOT ({assertion.sql})) "
        f"FROM (SELECT {columns} FROM {assertion.relation} LIMIT 0) AS sampled"
    )


class DataAssertionsKind:
    """``data-assertions.json``: the site's assertions about the rows it reads."""

    name = "assertions"

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        return {}  # written by hand

    def owned(self, ctx: ContractContext) -> list[Path]:
        return []  # never removed by an update

    def validate(self, folder: Path) -> None:
        declared(folder)

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        from mirror.sources.read_session import read_session

        assertions = declared(ctx.contracts_dir)
        if not assertions:
            return []
        problems: list[str] = []
        with read_session(ctx.database, what="planning the data assertions") as session:
            for i, assertion in enumerate(assertions):
                session.run("savepoint", sql="SAVEPOINT assertion")
                try:
                    session.run("assertion", sql=planned(assertion))
                except psycopg2.Error as exc:
                    session.run("rollback", sql="ROLLBACK TO SAVEPOINT assertion")
                    message = exc.diag.message_primary or type(exc).__name__
                    problems.append(
                        f"{ASSERTIONS_FILE} $.assertions[{i}] ({assertion.check!r} on "
                        f"{assertion.relation}): {message}"
                    )
        return [
            CheckResult(
                self.name,
                f"every assertion of {ASSERTIONS_FILE} reads its relation's columns as typed in "
                f"{COLUMNS_FILE}",
                tuple(problems),
                detail=f"{len(assertions)} assertion(s)",
            )
        ]

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        return ["written by hand"]
