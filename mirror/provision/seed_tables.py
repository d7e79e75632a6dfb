"""The tables a seed writes, as the loaded database's catalog (pg_catalog) has them.

Whatever the layout (schema ``billig``, dotted ``public."billig.event"``, a user's own tables),
the seed learns every base table, its columns with their types and limits, its keys, foreign
keys and CHECK constraints, and every type a value may be made for (domains, enums, arrays,
ranges), from four queries in ``sql/seed_*.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources

import psycopg2

from mirror.catalog.model import RelationKey


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """One type a value can be made for; domains, arrays and ranges name what they are made of."""

    oid: int
    name: str
    kind: str  # pg_type.typtype: b(ase), d(omain), e(num), r(ange), m(ultirange)
    category: str  # pg_type.typcategory
    base: int  # a domain's base type
    element: int  # an array's element type
    subtype: int  # a range's (or multirange's) subtype
    labels: tuple[str, ...]  # an enum's labels, in order
    not_null: bool  # a domain's NOT NULL
    checks: tuple[tuple[str, str], ...]  # a domain's CHECK constraints: (name, definition)
    length: int | None  # a domain's length limit (character, bit)
    precision: int | None  # a domain's numeric precision
    scale: int | None


@dataclass(frozen=True, slots=True)
class SeedColumn:
    name: str
    type_oid: int
    type_name: str  # as format_type spells it, modifiers included
    not_null: bool
    has_default: bool
    identity: bool
    generated: bool
    length: int | None  # character(n), character varying(n), bit(n)
    precision: int | None  # numeric(p, s)
    scale: int | None
    # The only values its readers allow, written in turn (see mirror.provision.allowed_values).
    allowed: tuple[str | int, ...] | None = None

    @property
    def written_by_server(self) -> bool:
        """Identity and generated columns are the server's to fill."""
        return self.identity or self.generated


@dataclass(frozen=True, slots=True)
class SeedForeignKey:
    name: str
    columns: tuple[str, ...]
    target: int  # the oid of the referenced table
    target_columns: tuple[str, ...]
    deferrable: bool


@dataclass(frozen=True, slots=True)
class SeedTable:
    oid: int
    key: RelationKey
    partitioned: bool  # rows go to its partitions
    parent: int | None  # the partitioned table this one is a partition of
    columns: tuple[SeedColumn, ...]
    unique: tuple[tuple[str, tuple[str, ...]], ...]  # primary key and unique: (name, columns)
    foreign_keys: tuple[SeedForeignKey, ...]
    # CHECK constraints (name, definition), a partition's bound as "CHECK (…)" among them.
    checks: tuple[tuple[str, str], ...]

    def column(self, name: str) -> SeedColumn | None:
        return next((col for col in self.columns if col.name == name), None)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(col.name for col in self.columns)


@dataclass(frozen=True, slots=True)
class SeedSchema:
    tables: dict[int, SeedTable]
    types: dict[int, TypeInfo]

    def resolve(self, oid: int) -> TypeInfo | None:
        """The type a value of ``oid`` is written as: domains followed to their base."""
        info = self.types.get(oid)
        while info is not None and info.kind == "d":
            info = self.types.get(info.base)
        return info

    def root(self, oid: int) -> int:
        """The table whose rows ``oid``'s are: a partition's partitioned table, else itself."""
        table = self.tables.get(oid)
        while table is not None and table.parent is not None:
            table = self.tables.get(table.parent)
        return table.oid if table is not None else oid

    def leaves(self, oid: int) -> list[SeedTable]:
        """The partitions that hold a partitioned table's rows (at any depth)."""
        return [
            t for t in self.tables.values()
            if not t.partitioned and t.parent is not None and self.root(t.oid) == oid
        ]  # fmt: skip

    def domains(self, oid: int) -> list[TypeInfo]:
        """The domains ``oid`` is, outermost first (their checks and NOT NULL apply)."""
        out, info = [], self.types.get(oid)
        while info is not None and info.kind == "d":
            out.append(info)
            info = self.types.get(info.base)
        return out


def _sql(name: str) -> str:
    return (resources.files("mirror.provision") / "sql" / f"{name}.sql").read_text()


def read_seed_schema(cur: psycopg2.extensions.cursor) -> SeedSchema:
    """Every table of the database a seed may write, and every type it may meet."""
    cur.execute(_sql("seed_tables"))
    heads = cur.fetchall()
    oids = [row[0] for row in heads]
    columns: dict[int, list[SeedColumn]] = {oid: [] for oid in oids}
    cur.execute(_sql("seed_columns"), {"oids": oids})
    for (
        rel,
        name,
        typ,
        typname,
        notnull,
        hasdef,
        ident,
        gen,
        length,
        prec,
        scale,
        bits,
    ) in cur.fetchall():
        columns[rel].append(
            SeedColumn(
                name, typ, typname, notnull, hasdef, ident, gen,
                length if length is not None else bits, prec, scale,
            )
        )  # fmt: skip
    unique: dict[int, list[tuple[str, tuple[str, ...]]]] = {oid: [] for oid in oids}
    fks: dict[int, list[SeedForeignKey]] = {oid: [] for oid in oids}
    checks: dict[int, list[tuple[str, str]]] = {oid: [] for oid in oids}
    cur.execute(_sql("seed_constraints"), {"oids": oids})
    for rel, name, kind, cols, target, target_cols, deferrable, definition in cur.fetchall():
        if kind in ("p", "u"):
            unique[rel].append((name, tuple(cols)))
        elif kind == "f":
            fks[rel].append(
                SeedForeignKey(name, tuple(cols), target, tuple(target_cols), deferrable)
            )
        else:
            checks[rel].append((name, definition))
    tables = {}
    for oid, schema, name, kind, parent, bound in heads:
        if bound:
            checks[oid].append((f"the partition bound of {RelationKey(schema, name)}", bound))
        tables[oid] = SeedTable(
            oid, RelationKey(schema, name), kind == "p", parent, tuple(columns[oid]),
            tuple(unique[oid]), tuple(fks[oid]), tuple(checks[oid]),
        )  # fmt: skip
    cur.execute(_sql("seed_types"))
    types = {}
    for row in cur.fetchall():
        oid, name, kind, category, base, elem, sub, _multi, labels, notnull = row[:10]
        names, defs, length, prec, scale = row[10:]
        types[oid] = TypeInfo(
            oid, name, kind, category, base, elem, sub, tuple(labels), notnull,
            tuple(zip(names, defs, strict=True)), length, prec, scale,
        )  # fmt: skip
    schema = SeedSchema(tables, types)
    # A domain's NOT NULL binds its columns as a column's own does.
    for oid, table in tables.items():
        if any(not c.not_null and _domain_not_null(schema, c) for c in table.columns):
            columns_now = tuple(
                replace(c, not_null=True) if _domain_not_null(schema, c) else c
                for c in table.columns
            )
            tables[oid] = replace(table, columns=columns_now)
    return schema


def _domain_not_null(schema: SeedSchema, column: SeedColumn) -> bool:
    return any(domain.not_null for domain in schema.domains(column.type_oid))
