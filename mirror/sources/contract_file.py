"""Contract files: the columns contract as JSON, loaded into and dumped from a ``Catalog``.

The columns contract (``contracts/columns.json``) pins the Billig relations the site depends on:
relations sorted by (schema, name), columns in table order with normalized type, nullability
(derived for view columns, with their origin; ``"unknown"`` where it could not be followed),
default, the labels of an enum and the base type of a domain, keys and CHECK constraints,
relation kind and, when the contract was made from our models, per-column lineage. A contract
pinning no enum, domain or CHECK is written in format version 1, one pinning any in version 2
(both are read). Output is deterministic (sorted keys, two-space indent, trailing newline) so
that a pull request shows exactly what changed, and written atomically
(:mod:`mirror.files`). Reading is one parse and one validating pass
(:mod:`mirror.sources.contract_reader`), every problem located by file, line, column and JSON
path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mirror.catalog.model import Catalog, ColumnRef, Usage
from mirror.errors import ContractError
from mirror.files import write_atomic
from mirror.sources.contract_reader import FORMAT_VERSION as FORMAT_VERSION
from mirror.sources.contract_reader import TYPES_FORMAT_VERSION, origin_to_json
from mirror.sources.contract_reader import UNKNOWN as UNKNOWN
from mirror.sources.contract_reader import parse_contract as parse_contract
from mirror.sources.json_locator import JsonDocument, dump_json, parse_json

CONTRACTS_DIR = Path("contracts")
COLUMNS_FILE = "columns.json"


# --------------------------------------------------------------------------- reading


def read_json(path: Path, *, what: str = "contract") -> JsonDocument:
    """Read and parse a contract-kind JSON file; every failure is a located ContractError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(
            f"{path}: {what} file missing (run `billig contracts update` to create it)"
        ) from None
    except OSError as exc:
        raise ContractError(f"{path}: cannot read {what} file: {exc.strerror or exc}") from None
    return parse_json(path, raw, what=what)


# --------------------------------------------------------------------------- dump


def catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    """The columns-contract document of a catalog (lineage included when the catalog has it)."""
    has_lineage = catalog.lineage is not None
    relations = []
    for rel in catalog:
        columns = []
        for col in rel.columns:
            entry: dict[str, Any] = {
                "name": col.name,
                "type": col.type,
                "nullable": UNKNOWN if col.nullable is None else col.nullable,
                "default": col.default,
            }
            if col.origin is not None:
                entry["origin"] = origin_to_json(col.origin)
            if col.labels is not None:
                entry["labels"] = list(col.labels)
            if col.base_type is not None:
                entry["base_type"] = col.base_type
            if has_lineage:
                usage = catalog.usage(ColumnRef(rel.key.schema, rel.key.name, col.name))
                entry["lineage"] = _usage_to_json(usage or Usage())
            columns.append(entry)
        document = {
            "schema": rel.key.schema,
            "name": rel.key.name,
            "kind": str(rel.kind),
            "columns": columns,
            "primary_key": list(rel.primary_key),
            "foreign_keys": [
                {
                    "columns": list(fk.columns),
                    "target": {"schema": fk.target.schema, "name": fk.target.name},
                    "target_columns": list(fk.target_columns),
                }
                for fk in rel.foreign_keys
            ],
            "unique": [list(u) for u in rel.unique],
        }
        if rel.checks:
            document["checks"] = [
                {"columns": list(c.columns), "definition": c.definition} for c in rel.checks
            ]
        relations.append(document)
    # A contract that pins no enum, domain, CHECK or choices keeps the first format, byte for byte.
    types = any(
        rel.checks or any(c.labels is not None or c.base_type is not None for c in rel.columns)
        for rel in catalog
    ) or any(u.choices is not None for u in (catalog.lineage or {}).values())
    return {
        "format_version": TYPES_FORMAT_VERSION if types else FORMAT_VERSION,
        "lineage": has_lineage,
        "schemas": sorted(catalog.schemas),
        "relations": relations,
    }


def _usage_to_json(usage: Usage) -> dict[str, Any]:
    # Empty lists and false are left out: an unused column reads as "lineage": {}.
    out: dict[str, Any] = {}
    for key, values in (
        ("models", usage.models),
        ("fields", usage.fields),
        ("endpoints", usage.endpoints),
    ):
        if values:
            out[key] = sorted(set(values))
    if usage.requires_not_null:
        out["requires_not_null"] = True
    if usage.choices is not None:
        out["choices"] = list(usage.choices)
    return out


def dump_contract(catalog: Catalog) -> str:
    """The columns contract as text, byte-for-byte deterministic for equal catalogs."""
    return dump_json(catalog_to_json(catalog))


def write_contract(path: Path, catalog: Catalog) -> None:
    write_atomic(path, dump_contract(catalog))


# --------------------------------------------------------------------------- load + validation


def load_contract(path: Path) -> Catalog:
    """Read and validate a columns contract; errors name file, line, column and JSON path."""
    return parse_contract(read_json(path))


# --------------------------------------------------------------------------- lineage merge


def with_lineage(catalog: Catalog, lineage: Mapping[ColumnRef, Usage] | None) -> Catalog:
    """The same relations carrying ``lineage`` (None: a contract without lineage)."""
    return Catalog(catalog.relations, catalog.schemas, lineage)
