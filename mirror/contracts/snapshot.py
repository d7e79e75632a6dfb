"""Pinning any database: every relation of some schemas as a columns contract, without lineage.

Kept apart from the contract checks so that ``billig contracts snapshot`` loads only what reads
a catalog and writes a contract file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mirror.catalog.model import Catalog
from mirror.errors import UsageError


def snapshot_database(dsn: str, schemas: Sequence[str], output: Path) -> Catalog:
    """Pin every relation of ``schemas`` of any database into ``output`` (no lineage).

    Reading is read-only and bounded like drift introspection. A schema that does not exist is
    a usage error, so a typo never pins an empty contract.
    """
    from mirror.secrets import redact
    from mirror.sources.contract_file import write_contract
    from mirror.sources.introspect import introspect

    catalog = introspect(dsn, schemas=list(schemas), namesakes=False).catalog
    missing = sorted(set(schemas) - catalog.schemas)
    if missing:
        raise UsageError(f"schema {missing[0]!r} does not exist in {redact(dsn)}")
    pinned = Catalog(catalog.relations, frozenset(schemas), None)
    write_contract(output, pinned)
    return pinned
