"""Hypothesis strategies: PostgreSQL type spellings, awkward identifiers, random ``Catalog``
values and single mutations of them (each with the finding kind it must produce)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from mirror.catalog.findings import FindingKind
from mirror.catalog.model import (
    KINDS_WITH_NULLABILITY,
    Catalog,
    Column,
    ColumnRef,
    ForeignKey,
    Kind,
    Relation,
    RelationKey,
    Usage,
)

# --------------------------------------------------------------------------- types


def _spaced(words: str) -> st.SearchStrategy[str]:
    """``words`` with random case and runs of whitespace between them (all the same type)."""
    parts = words.split(" ")
    return st.tuples(
        st.lists(st.sampled_from([" ", "  ", "\t", " \n "]), min_size=len(parts) - 1,
                 max_size=len(parts) - 1),
        st.lists(st.sampled_from([str.lower, str.upper, str.title]), min_size=len(parts),
                 max_size=len(parts)),
    ).map(lambda t: "".join(
        case(word) + (t[0][i] if i < len(t[0]) else "")
        for i, (word, case) in enumerate(zip(parts, t[1], strict=True))
    ))  # fmt: skip


def _args(*numbers: int) -> st.SearchStrategy[str]:
    sep = st.sampled_from([",", ", ", " , "])
    inner = sep.map(lambda s: s.join(str(n) for n in numbers))
    return st.tuples(st.sampled_from(["(", " (", "( "]), inner, st.sampled_from([")", " )"])).map(
        "".join
    )


_SIMPLE = {
    "integer": ("int", "int4", "integer"),
    "bigint": ("int8", "bigint"),
    "smallint": ("int2", "smallint"),
    "boolean": ("bool", "boolean"),
    "text": ("text",),
    "date": ("date",),
    "jsonb": ("jsonb",),
    "uuid": ("uuid",),
    "bytea": ("bytea",),
    "interval": ("interval",),
    "double precision": ("float8", "double precision", "float"),
    "real": ("float4", "real"),
    "character varying": ("varchar", "character varying"),
    "character(1)": ("char", "character"),
    "numeric": ("numeric", "decimal"),
    "timestamp without time zone": ("timestamp", "timestamp without time zone"),
    "timestamp with time zone": ("timestamptz", "timestamp with time zone"),
    "time without time zone": ("time", "time without time zone"),
    "time with time zone": ("timetz", "time with time zone"),
}


def _sized(draw: st.DrawFn) -> tuple[str, str]:
    """Types with a size, precision or scale."""
    which = draw(st.sampled_from(["varchar", "char", "numeric", "numeric(p)", "float", "ts"]))
    if which == "varchar":
        n = draw(st.integers(1, 10_485_760))
        word = draw(st.one_of(st.just("varchar"), _spaced("character varying")))
        return f"character varying({n})", word + draw(_args(n))
    if which == "char":
        n = draw(st.integers(1, 1000))
        return f"character({n})", draw(st.sampled_from(["char", "CHARACTER"])) + draw(_args(n))
    if which in ("numeric", "numeric(p)"):
        precision = draw(st.integers(1, 1000))
        scale = draw(st.integers(0, precision)) if which == "numeric" else 0
        args = (precision, scale) if which == "numeric" else (precision,)
        word = draw(st.sampled_from(["numeric", "DECIMAL"]))
        return f"numeric({precision},{scale})", word + draw(_args(*args))
    if which == "float":
        p = draw(st.integers(1, 53))
        return ("real" if p <= 24 else "double precision"), "float" + draw(_args(p))
    p = draw(st.integers(0, 6))
    zone = draw(st.sampled_from(["with time zone", "without time zone"]))
    short = draw(st.booleans())
    if zone == "with time zone" and short:
        return f"timestamp({p}) with time zone", f"timestamptz({p})"
    if short:
        return f"timestamp({p}) without time zone", f"timestamp({p})"
    return f"timestamp({p}) {zone}", draw(_spaced("timestamp")) + f"({p}) " + zone


@st.composite
def type_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(canonical ``format_type`` spelling, an equivalent spelling a person might write)."""
    if draw(st.booleans()):
        canonical = draw(st.sampled_from(sorted(_SIMPLE)))
        spelling = draw(_spaced(draw(st.sampled_from(_SIMPLE[canonical]))))
    else:
        canonical, spelling = _sized(draw)
    if draw(st.booleans()):  # arrays: sizes and dimensions carry no meaning
        canonical += "[]"
        spelling += draw(st.sampled_from(["[]", "[3]", "[][]", " []", " ARRAY", " array[4]"]))
    return canonical, spelling


# --------------------------------------------------------------------------- identifiers

# Characters that make identifiers awkward: dots, quotes, spaces, upper case, non-ASCII, $.
_AWKWARD = st.sampled_from(list('."$ -AZÆØÅéß€漢'))
plain_names = st.from_regex(r"\A[a-z_][a-z0-9_]{0,12}\Z")


def identifiers() -> st.SearchStrategy[str]:
    """Names PostgreSQL can store: no NUL, at most 15 characters (so at most 60 bytes)."""
    text = st.text(
        st.one_of(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), _AWKWARD
        ),
        min_size=1,
        max_size=15,
    )
    return st.one_of(plain_names, text)


# --------------------------------------------------------------------------- catalogs

TYPES = (
    "integer", "bigint", "smallint", "boolean", "text", "character varying(140)",
    "character varying(255)", "timestamp without time zone", "date", "numeric(10,2)", "jsonb",
    "integer[]",
)  # fmt: skip
DEFAULTS = (None, None, None, "0", "now()", "'x'::text", "false")


@st.composite
def relations_of(draw: st.DrawFn, key: RelationKey) -> Relation:
    kind = draw(st.sampled_from(list(Kind)))
    names = draw(st.lists(identifiers(), max_size=6, unique=True))
    columns = tuple(
        Column(
            name,
            draw(st.sampled_from(TYPES)),
            draw(st.booleans()) if kind in KINDS_WITH_NULLABILITY else None,
            draw(st.sampled_from(DEFAULTS)),
            draw(st.sampled_from([None, True])),
        )
        for name in names
    )
    keyed = kind in (Kind.TABLE, Kind.PARTITIONED_TABLE)
    primary_key: tuple[str, ...] = ()
    if keyed and names:
        primary_key = tuple(draw(st.permutations(names))[: draw(st.integers(0, len(names)))])
    return Relation(key, kind, columns, primary_key)


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    """A catalog of 1 to 3 schemas with up to 6 relations of every kind, keys and lineage."""
    schemas = draw(st.lists(identifiers(), min_size=1, max_size=3, unique=True))
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(schemas), identifiers()).map(lambda t: RelationKey(*t)),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    relations = [draw(relations_of(key)) for key in keys]
    # Foreign keys between them: one column to one column of another relation.
    with_columns = [r for r in relations if r.columns]
    out = []
    for rel in relations:
        fks: list[ForeignKey] = []
        if rel.kind in (Kind.TABLE, Kind.PARTITIONED_TABLE) and rel.columns and with_columns:
            for _ in range(draw(st.integers(0, 2))):
                target = draw(st.sampled_from(with_columns))
                fks.append(
                    ForeignKey(
                        (draw(st.sampled_from(rel.column_names)),),
                        target.key,
                        (draw(st.sampled_from(target.column_names)),),
                    )
                )
        out.append(replace(rel, foreign_keys=tuple(fks)))
    lineage = None
    if draw(st.booleans()):
        refs = [ColumnRef(*r.key, c.name) for r in out for c in r.columns]
        chosen = draw(st.lists(st.sampled_from(refs), unique=True)) if refs else []
        lineage = {
            ref: Usage(
                models=(f"Model.{ref.column}",),
                fields=draw(st.sampled_from([(), (f"Shape.{ref.column}",)])),
                requires_not_null=draw(st.booleans()),
            )
            for ref in chosen
        }
    return Catalog.of(out, schemas, lineage)


# --------------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Mutation:
    """One change to a catalog and the finding kinds of which at least one must appear."""

    name: str
    catalog: Catalog
    kinds: frozenset[FindingKind]


def _with(catalog: Catalog, *relations: Relation, drop: tuple[RelationKey, ...] = ()) -> Catalog:
    rels = {k: r for k, r in catalog.relations.items() if k not in drop}
    rels.update({r.key: r for r in relations})
    return Catalog(rels, catalog.schemas)


def _fresh(taken: set[str] | frozenset[str], base: str) -> str:
    name = base + "_v2"
    while name in taken:
        name += "x"
    return name


def _keyed(rel: Relation) -> bool:
    return rel.kind in (Kind.TABLE, Kind.PARTITIONED_TABLE)


# Which relations (and columns) each mutation applies to.
_RELATION_NEEDS: dict[str, Callable[[Relation], bool]] = {
    "drop relation": lambda r: True,
    "rename relation": lambda r: True,
    "move relation": lambda r: True,
    "quote as one identifier": lambda r: True,
    "change kind": lambda r: True,
    "drop primary key": lambda r: _keyed(r) and bool(r.primary_key),
    "drop foreign key": lambda r: bool(r.foreign_keys),
    "add column": lambda r: True,
    "add relation": lambda r: True,
    "drop schema": lambda r: True,
}
_COLUMN_NEEDS: dict[str, Callable[[Column], bool]] = {
    "drop column": lambda c: True,
    "rename column": lambda c: True,
    "change type": lambda c: True,
    "flip nullability": lambda c: c.nullable is not None,
    "change default": lambda c: True,
    "revoke select": lambda c: True,
}
MUTATIONS = (*_RELATION_NEEDS, *_COLUMN_NEEDS)


@st.composite
def mutations(draw: st.DrawFn, catalog: Catalog, name: str) -> Mutation | None:
    """The mutation ``name`` of one relation or column of ``catalog`` (None: nothing it fits)."""
    if name in _COLUMN_NEEDS:
        spots = [(r, i) for r in catalog for i, c in enumerate(r.columns) if _COLUMN_NEEDS[name](c)]
        if not spots:
            return None
        rel, i = draw(st.sampled_from(spots))
        mutated, kind = _mutate_column(draw, catalog, rel, i, name)
    else:
        rels = [r for r in catalog if _RELATION_NEEDS[name](r)]
        if not rels:
            return None
        rel = draw(st.sampled_from(rels))
        mutated, kind = _mutate_relation(catalog, rel, name)
    return Mutation(name, mutated, frozenset({kind}))


def _mutate_relation(catalog: Catalog, rel: Relation, name: str) -> tuple[Catalog, FindingKind]:
    key = rel.key
    taken = {k.name for k in catalog.relations if k.schema == key.schema}
    outside = _fresh(catalog.schemas, key.schema)  # a schema the catalog does not cover
    # A relation without columns has nothing to recognise it by: a rename is a drop and an add.
    gone = FindingKind.RELATION_RENAMED if rel.columns else FindingKind.RELATION_MISSING
    if name == "drop relation":
        return _with(catalog, drop=(key,)), FindingKind.RELATION_MISSING
    if name == "rename relation":
        renamed = replace(rel, key=RelationKey(key.schema, _fresh(taken, key.name)))
        return _with(catalog, renamed, drop=(key,)), gone
    if name == "move relation":
        return _with(catalog, replace(rel, key=RelationKey(outside, key.name)), drop=(key,)), gone
    if name == "quote as one identifier":  # billig.event became public."billig.event"
        dotted = RelationKey(outside, f"{key.schema}.{key.name}")
        return _with(catalog, replace(rel, key=dotted), drop=(key,)), FindingKind.QUOTING_CONFUSION
    if name == "change kind":
        other = Kind.VIEW if rel.kind is not Kind.VIEW else Kind.TABLE
        columns = tuple(
            replace(c, nullable=None if other is Kind.VIEW else True) for c in rel.columns
        )
        changed = replace(rel, kind=other, columns=columns, primary_key=(), foreign_keys=())
        return _with(catalog, changed), FindingKind.RELATION_KIND_CHANGED
    if name == "drop primary key":
        return _with(catalog, replace(rel, primary_key=())), FindingKind.PRIMARY_KEY_CHANGED
    if name == "drop foreign key":
        fewer = replace(rel, foreign_keys=rel.foreign_keys[1:])
        return _with(catalog, fewer), FindingKind.FOREIGN_KEY_CHANGED
    if name == "add column":
        nullable = True if rel.kind in KINDS_WITH_NULLABILITY else None
        extra = Column(_fresh(set(rel.column_names), "added"), "text", nullable, None)
        wider = replace(rel, columns=(*rel.columns, extra))
        return _with(catalog, wider), FindingKind.COLUMN_ADDED
    if name == "add relation":
        new = Relation(RelationKey(key.schema, _fresh(taken, "added")), Kind.TABLE, ())
        return _with(catalog, new), FindingKind.RELATION_ADDED
    assert name == "drop schema", name
    without = Catalog(
        {k: r for k, r in catalog.relations.items() if k.schema != key.schema},
        catalog.schemas - {key.schema},
    )
    return without, FindingKind.SCHEMA_MISSING


def _mutate_column(
    draw: st.DrawFn, catalog: Catalog, rel: Relation, i: int, name: str
) -> tuple[Catalog, FindingKind]:
    col = rel.columns[i]

    def changed(**changes: object) -> Catalog:
        columns = list(rel.columns)
        columns[i] = replace(col, **changes)  # type: ignore[arg-type]
        return _with(catalog, replace(rel, columns=tuple(columns)))

    if name == "drop column":
        dropped = replace(rel, columns=rel.columns[:i] + rel.columns[i + 1 :])
        return _with(catalog, dropped), FindingKind.COLUMN_MISSING
    if name == "rename column":
        new_name = _fresh(set(rel.column_names), col.name)
        return changed(name=new_name), FindingKind.COLUMN_RENAMED
    if name == "change type":
        other = draw(st.sampled_from([t for t in TYPES if t != col.type]))
        return changed(type=other), FindingKind.TYPE_CHANGED
    if name == "flip nullability":
        return changed(nullable=not col.nullable), FindingKind.NULLABILITY_CHANGED
    if name == "change default":
        default = draw(st.sampled_from([d for d in DEFAULTS if d != col.default]))
        return changed(default=default), FindingKind.DEFAULT_CHANGED
    assert name == "revoke select", name
    return changed(selectable=False), FindingKind.PRIVILEGE_MISSING
