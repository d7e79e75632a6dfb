"""Validating a columns contract in one pass: the parsed JSON walked with its path.

Hand edits are welcome and validated: every problem is a :class:`~mirror.errors.ContractError`
naming the file, the line and column, and the JSON path (``$.relations[2].columns[0].nullable``);
positions are worked out only for the error being reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Set
from typing import Any

from mirror.catalog.model import (
    KINDS_WITH_NULLABILITY,
    Catalog,
    CheckConstraint,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Origin,
    Relation,
    RelationKey,
    Usage,
    normalize_type,
)
from mirror.errors import ContractError
from mirror.sources.json_locator import JsonDocument, JsonPath

FORMAT_VERSION = 1
UNKNOWN = "unknown"  # nullability of view columns the analysis could not follow
EXPRESSION = "expression"  # origin of a computed view column
# The columns contract's version that pins enum labels, domain base types, CHECK constraints
# and the readers' choices; a contract without any of them stays at FORMAT_VERSION, byte for
# byte.
TYPES_FORMAT_VERSION = 2
READABLE_VERSIONS = (FORMAT_VERSION, TYPES_FORMAT_VERSION)


def parse_contract(doc: JsonDocument) -> Catalog:
    """The catalog a parsed columns contract describes; a located ContractError otherwise."""
    return _ContractReader(doc).catalog()


_TOP_KEYS = frozenset({"format_version", "lineage", "schemas", "relations"})
_RELATION_KEYS = frozenset(
    {"schema", "name", "kind", "columns", "primary_key", "foreign_keys", "unique"}
)
_COLUMN_KEYS = frozenset({"name", "type", "nullable", "default"})
_COLUMN_KEYS_ALLOWED = _COLUMN_KEYS | {"origin"}  # origin: view columns only
_COLUMN_KEYS_WITH_LINEAGE = _COLUMN_KEYS_ALLOWED | {"lineage"}
_ORIGIN_KEYS = frozenset({"schema", "relation", "column"})
_TYPE_KEYS = frozenset({"labels", "base_type"})  # columns, from TYPES_FORMAT_VERSION on
_CHECK_KEYS = frozenset({"columns", "definition"})
_FK_KEYS = frozenset({"columns", "target", "target_columns"})
_TARGET_KEYS = frozenset({"schema", "name"})
_LINEAGE_KEYS = frozenset({"models", "fields", "endpoints", "requires_not_null"})


# json.loads keeps \ud800-\udfff escapes that do not pair up as lone surrogates.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _ContractReader:
    """Walks the parsed document with its JSON path, raising located errors."""

    def __init__(self, doc: JsonDocument) -> None:
        self.doc = doc
        # NUL and lone surrogates reach a decoded string only through \u escapes.
        self.escaped = "\\u" in doc.text
        self.types = False  # whether the version pins enum labels, domains and CHECKs

    def fail(self, where: JsonPath, message: str, *, at_key: bool = False) -> ContractError:
        return self.doc.error(where, message, at_key=at_key)

    # typed accessors -------------------------------------------------------------------
    def obj(
        self,
        value: Any,
        where: JsonPath,
        required: frozenset[str],
        allowed: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """An object with every ``required`` key and no key outside ``allowed``."""
        allowed = required if allowed is None else allowed
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_type(value)}")
        if not value.keys() <= allowed:
            key = next(k for k in value if k not in allowed)  # the first one as written
            names = ", ".join(sorted(allowed))
            raise self.fail((*where, key), f"unknown key {key!r} (allowed: {names})", at_key=True)
        if not required <= value.keys():
            raise self.fail(where, f"missing key {min(required - value.keys())!r}")
        return value

    def array(self, value: Any, where: JsonPath) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected an array, got {_json_type(value)}")
        return value

    def string(self, value: Any, where: JsonPath) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {_json_type(value)}")
        if not value:
            raise self.fail(where, "expected a non-empty string")
        if self.escaped:
            self.text(value, where)
        return value

    def text(self, value: str, where: JsonPath) -> None:
        """Text PostgreSQL and UTF-8 can hold: a name with NUL or a lone surrogate would only
        fail later, in the middle of a check (or after connecting to production)."""
        if "\x00" in value:
            raise self.fail(where, "contains a NUL character (\\u0000), which no name can hold")
        surrogate = _SURROGATE.search(value)
        if surrogate is not None:
            raise self.fail(
                where,
                f"contains a lone surrogate (\\u{ord(surrogate[0]):04x}), which is not text",
            )

    def boolean(self, value: Any, where: JsonPath) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {_json_type(value)}")
        return value

    def strings(self, value: Any, where: JsonPath) -> tuple[str, ...]:
        items = self.array(value, where)
        return tuple(self.string(item, (*where, i)) for i, item in enumerate(items))

    def names(self, value: Any, where: JsonPath, columns: Set[str]) -> tuple[str, ...]:
        """A list of column names that must exist in the relation, each once."""
        names = self.strings(value, where)
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name not in columns:
                raise self.fail((*where, i), f"no column {name!r} in this relation")
            if name in seen:
                raise self.fail((*where, i), f"column {name!r} listed twice")
            seen.add(name)
        return names

    # the document ----------------------------------------------------------------------
    def catalog(self) -> Catalog:
        top = self.doc.data
        if not isinstance(top, dict):
            raise self.fail((), f"expected a JSON object, got {_json_type(top)}")
        if "format_version" not in top:
            raise self.fail((), "missing key 'format_version'")
        version = top["format_version"]
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            readable = " and ".join(map(str, READABLE_VERSIONS))
            raise self.fail(
                ("format_version",),
                f"unsupported format_version {json.dumps(version)} (this harness reads {readable})",
            )
        self.types = version >= TYPES_FORMAT_VERSION
        self.obj(top, (), _TOP_KEYS)
        has_lineage = self.boolean(top["lineage"], ("lineage",))
        schemas = self.strings(top["schemas"], ("schemas",))
        relations: list[Relation] = []
        lineage: dict[ColumnRef, Usage] = {}
        seen: dict[RelationKey, int] = {}
        items = self.array(top["relations"], ("relations",))
        for i, item in enumerate(items):
            rel = self.relation(item, ("relations", i), has_lineage, lineage)
            if rel.key in seen:
                raise self.fail(
                    ("relations", i, "name"),
                    f"relation {rel.key} appears twice (also at $.relations[{seen[rel.key]}])",
                )
            seen[rel.key] = i
            relations.append(rel)
        keys = {rel.key: rel for rel in relations}
        for i, rel in enumerate(items):
            self.check_fk_targets(rel, ("relations", i), keys)
        return Catalog.of(relations, schemas, lineage if has_lineage else None)

    def relation(
        self, value: Any, where: JsonPath, has_lineage: bool, lineage: dict[ColumnRef, Usage]
    ) -> Relation:
        rel = self.obj(
            value, where, _RELATION_KEYS, _RELATION_KEYS | {"checks"} if self.types else None
        )
        key = RelationKey(
            self.string(rel["schema"], (*where, "schema")),
            self.string(rel["name"], (*where, "name")),
        )
        kind_text = self.string(rel["kind"], (*where, "kind"))
        try:
            kind = Kind(kind_text)
        except ValueError:
            kinds = ", ".join(k.value for k in Kind)
            raise self.fail(
                (*where, "kind"), f"unknown kind {kind_text!r} (one of {kinds})"
            ) from None
        columns: list[Column] = []
        names: set[str] = set()
        for j, item in enumerate(self.array(rel["columns"], (*where, "columns"))):
            col_where: JsonPath = (*where, "columns", j)
            column, usage = self.column(item, col_where, kind, has_lineage)
            if column.name in names:
                raise self.fail((*col_where, "name"), f"column {column.name!r} appears twice")
            names.add(column.name)
            columns.append(column)
            if usage is not None and usage != Usage():
                lineage[ColumnRef(key.schema, key.name, column.name)] = usage
        primary_key = self.names(rel["primary_key"], (*where, "primary_key"), names)
        foreign_keys = []
        for j, item in enumerate(self.array(rel["foreign_keys"], (*where, "foreign_keys"))):
            foreign_keys.append(self.foreign_key(item, (*where, "foreign_keys", j), names))
        unique = []
        for j, item in enumerate(self.array(rel["unique"], (*where, "unique"))):
            cols = self.names(item, (*where, "unique", j), names)
            if not cols:
                raise self.fail((*where, "unique", j), "a unique constraint needs columns")
            unique.append(cols)
        checks = []
        for j, item in enumerate(self.array(rel.get("checks", []), (*where, "checks"))):
            check = self.obj(item, (*where, "checks", j), _CHECK_KEYS)
            checks.append(
                CheckConstraint(
                    self.names(check["columns"], (*where, "checks", j, "columns"), names),
                    self.string(check["definition"], (*where, "checks", j, "definition")),
                )
            )
        return Relation(
            key=key,
            kind=kind,
            columns=tuple(columns),
            primary_key=primary_key,
            foreign_keys=tuple(foreign_keys),
            unique=tuple(unique),
            checks=tuple(checks),
        )

    def column(
        self, value: Any, where: JsonPath, kind: Kind, has_lineage: bool
    ) -> tuple[Column, Usage | None]:
        if not has_lineage and isinstance(value, dict) and "lineage" in value:
            raise self.fail(
                (*where, "lineage"), "lineage given but the contract has lineage false", at_key=True
            )
        allowed = _COLUMN_KEYS_WITH_LINEAGE if has_lineage else _COLUMN_KEYS_ALLOWED
        col = self.obj(value, where, _COLUMN_KEYS, allowed | _TYPE_KEYS if self.types else allowed)
        name = self.string(col["name"], (*where, "name"))
        type_ = normalize_type(self.string(col["type"], (*where, "type")))
        nullable_raw = col["nullable"]
        nullable: bool | None
        if kind in KINDS_WITH_NULLABILITY:
            if not isinstance(nullable_raw, bool):
                raise self.fail(
                    (*where, "nullable"),
                    f"expected true or false for a {kind} column, got {json.dumps(nullable_raw)}",
                )
            nullable = nullable_raw
        elif nullable_raw == UNKNOWN or isinstance(nullable_raw, bool):
            nullable = None if nullable_raw == UNKNOWN else nullable_raw  # derived for views
        else:
            raise self.fail(
                (*where, "nullable"),
                f'expected true, false or "unknown" for a {kind} column, '
                f"got {json.dumps(nullable_raw)}",
            )
        default = col["default"]
        if default is not None and not isinstance(default, str):
            raise self.fail(
                (*where, "default"), f"expected a string or null, got {_json_type(default)}"
            )
        if default is not None and self.escaped:
            self.text(default, (*where, "default"))
        usage = self.usage(col.get("lineage", {}), (*where, "lineage")) if has_lineage else None
        origin = None
        if "origin" in col:
            if kind in KINDS_WITH_NULLABILITY:
                raise self.fail((*where, "origin"), f"a {kind} column has no origin", at_key=True)
            origin = self.origin(col["origin"], (*where, "origin"))
        labels = None
        if "labels" in col:
            labels = self.strings(col["labels"], (*where, "labels"))
            if len(set(labels)) < len(labels):
                raise self.fail((*where, "labels"), "an enum label is listed twice")
        base_type = None
        if "base_type" in col:
            base_type = normalize_type(self.string(col["base_type"], (*where, "base_type")))
        column = Column(
            name=name,
            type=type_,
            nullable=nullable,
            default=default,
            origin=origin,
            labels=labels,
            base_type=base_type,
        )
        return column, usage

    def origin(self, value: Any, where: JsonPath) -> Origin:
        if value == EXPRESSION:
            return Origin()
        if not isinstance(value, dict):
            raise self.fail(where, f'expected "{EXPRESSION}" or an object, got {_json_type(value)}')
        data = self.obj(value, where, _ORIGIN_KEYS)
        parts = (self.string(data[k], (*where, k)) for k in ("schema", "relation", "column"))
        return Origin(ColumnRef(*parts))

    def usage(self, value: Any, where: JsonPath) -> Usage:
        allowed = _LINEAGE_KEYS | {"choices"} if self.types else _LINEAGE_KEYS
        data = self.obj(value, where, frozenset(), allowed)
        return Usage(
            models=self.strings(data.get("models", []), (*where, "models")),
            fields=self.strings(data.get("fields", []), (*where, "fields")),
            endpoints=self.strings(data.get("endpoints", []), (*where, "endpoints")),
            requires_not_null=self.boolean(
                data.get("requires_not_null", False), (*where, "requires_not_null")
            ),
            choices=self.choices(data["choices"], (*where, "choices"))
            if "choices" in data
            else None,
        )

    def choices(self, value: Any, where: JsonPath) -> tuple[str | int, ...]:
        """The values the readers allow: strings (the empty one included) and integers."""
        items = self.array(value, where)
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, str | int):
                got = _json_type(item)
                raise self.fail((*where, i), f"expected a string or an integer, got {got}")
            if isinstance(item, str) and self.escaped:
                self.text(item, (*where, i))
        if len(set(items)) < len(items):
            raise self.fail(where, "a value is listed twice")
        return tuple(items)

    def foreign_key(self, value: Any, where: JsonPath, names: Set[str]) -> ForeignKey:
        fk = self.obj(value, where, _FK_KEYS)
        columns = self.names(fk["columns"], (*where, "columns"), names)
        target = self.obj(fk["target"], (*where, "target"), _TARGET_KEYS)
        target_key = RelationKey(
            self.string(target["schema"], (*where, "target", "schema")),
            self.string(target["name"], (*where, "target", "name")),
        )
        target_columns = self.strings(fk["target_columns"], (*where, "target_columns"))
        if not columns:
            raise self.fail((*where, "columns"), "a foreign key needs columns")
        if len(columns) != len(target_columns):
            raise self.fail(
                (*where, "target_columns"),
                f"{len(columns)} column(s) reference {len(target_columns)} target column(s)",
            )
        return ForeignKey(columns=columns, target=target_key, target_columns=target_columns)

    def check_fk_targets(
        self, value: dict[str, Any], where: JsonPath, relations: Mapping[RelationKey, Relation]
    ) -> None:
        """Targets inside the contract must have the referenced columns (outside: not pinned)."""
        for j, fk in enumerate(value["foreign_keys"]):
            target = relations.get(RelationKey(fk["target"]["schema"], fk["target"]["name"]))
            if target is None:
                continue
            for k, name in enumerate(fk["target_columns"]):
                if target.column(name) is None:
                    raise self.fail(
                        (*where, "foreign_keys", j, "target_columns", k),
                        f"no column {name!r} in {target.key}",
                    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({json.dumps(value, ensure_ascii=False)[:40]})"
    if isinstance(value, list):
        return "an array"
    return "an object"


def origin_to_json(origin: Origin) -> str | dict[str, str]:
    """A view column's origin as the contract writes it (read back by the reader above)."""
    if origin.column is None:
        return EXPRESSION
    schema, relation, column = origin.column
    return {"schema": schema, "relation": relation, "column": column}
