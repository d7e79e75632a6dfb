"""What a seed wrote (rows per relation) and what it could not fill (located warnings)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2

from mirror.catalog.model import quote_ident


@dataclass(frozen=True, slots=True)
class SeedWarning:
    """What the seed could not fill, located at a relation or column of the schema.

    ``str()`` is the line the CLI prints, e.g. ``seed: billig.venue.shape (polygon NOT NULL):
    could not fill (the seed makes no values of type polygon): billig.venue not seeded``.
    """

    relation: str  # as the mirror spells it: billig.event, public."billig.event"
    column: str | None
    detail: str | None  # the column as the mirror has it, e.g. "numeric NOT NULL"
    message: str

    def __str__(self) -> str:
        where = self.relation
        if self.column is not None:
            where += f".{quote_ident(self.column)}"
        if self.detail:
            where += f" ({self.detail})"
        return f"seed: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Rows written per relation (in the order written) and the warnings of the seed."""

    counts: dict[str, int]
    warnings: tuple[SeedWarning, ...] = ()


def server_message(exc: psycopg2.Error) -> str:
    """The server's one-line reason for refusing a statement, as a warning quotes it."""
    text = exc.diag.message_primary or str(exc).strip().split("\n")[0]
    return " ".join(text.split()) or type(exc).__name__
