"""Properties of the pure core, checked by Hypothesis (the SQL ones against the real server).

- ``normalize_type``: idempotent on any text; every equivalent spelling of a type normalizes to
  the one ``format_type`` prints, and PostgreSQL agrees for each generated spelling.
- ``quote_ident``: equal to the server's ``quote_ident()``; and a quoted name parses back to
  itself as a relation and a column name.
- ticket references: a valid one always yields its id; anything else is a reasoned
  ``TicketReferenceError``, never another exception, never echoing a reference.
- the comparator: a catalog against itself has no findings; every single mutation of it yields
  at least one finding of the kind that names the mutation; its at-a-glance checks for
  unchanged columns and foreign keys change no finding; its probable renames among relations
  that share most columns are exactly those its rule names, candidate by candidate.
- contract files: any catalog, written as a contract, reads back as itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from examples.fastapi_site.tickets import (
    HMAC_DIGITS,
    MAX_TICKETS,
    TicketReferenceError,
    parse_ticket_refs,
    pdf_url,
)
from mirror.catalog import compare
from mirror.catalog.compare import columns, compare_catalogs, relations
from mirror.catalog.findings import FindingKind
from mirror.catalog.model import (
    Catalog,
    Column,
    Kind,
    Relation,
    RelationKey,
    normalize_type,
    quote_ident,
)
from mirror.provision.providers import Server
from mirror.sources.contract_file import dump_contract, parse_contract, parse_json

from .strategies import MUTATIONS, catalogs, identifiers, mutations, type_spellings

PURE = settings(max_examples=200, deadline=None)
ON_SERVER = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def server_conn(billig_server: Server) -> Iterator[Any]:
    """One session for the module; each example runs in a transaction that is rolled back."""
    conn = billig_server.connect()
    try:
        yield conn
    finally:
        conn.close()


def _scalar(conn: Any, sql: str, *params: object) -> Any:
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params or None)  # no parameters: a % in a name stays a %
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.rollback()


# --------------------------------------------------------------------------- types


@PURE
@given(st.text())
def test_normalize_type_is_idempotent_on_any_text(text: str) -> None:
    once = normalize_type(text)
    assert normalize_type(once) == once


@PURE
@given(type_spellings())
def test_equivalent_type_spellings_normalize_to_the_canonical_one(pair: tuple[str, str]) -> None:
    canonical, spelling = pair
    assert normalize_type(spelling) == canonical
    assert normalize_type(canonical) == canonical


@ON_SERVER
@given(type_spellings())
def test_postgresql_prints_the_normalized_spelling(server_conn: Any, pair: tuple[str, str]) -> None:
    _, spelling = pair
    printed = _scalar(
        server_conn,
        f"CREATE TEMP TABLE typed (c {spelling});"
        " SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'pg_temp.typed'::regclass AND attname = 'c'",
    )
    assert normalize_type(spelling) == printed


# --------------------------------------------------------------------------- identifiers


def test_keywords_that_need_quoting_are_the_servers(server_conn: Any) -> None:
    """Every key word of the server is quoted exactly when the server quotes it."""
    rows = _scalar(
        server_conn,
        "SELECT array_agg(ARRAY[word::text, quote_ident(word)]) FROM pg_get_keywords()",
    )
    assert len(rows) > 400
    differ = {word for word, quoted in rows if quote_ident(word) != quoted}
    # Only the words PostgreSQL 15 to 18 disagree on may differ: they are always quoted.
    assert differ <= _VERSION_DEPENDENT
    assert all(quote_ident(word) == f'"{word}"' for word in _VERSION_DEPENDENT)


# Key words of every category (reserved, column or type names, unreserved) and ones that are
# restricted without being reserved.
_SOME_KEYWORDS = (
    "all", "analyse", "and", "any", "as", "authorization", "between", "bigint", "binary",
    "both", "case", "cast", "check", "collation", "column", "concurrently", "current_user",
    "default", "do", "else", "end", "except", "false", "for", "freeze", "from", "grant",
    "group", "having", "ilike", "in", "inner", "interval", "is", "join", "left", "like",
    "limit", "natural", "not", "null", "offset", "on", "or", "order", "outer", "over",
    "overlaps", "right", "select", "setof", "similar", "table", "then", "to", "trim", "true",
    "union", "user", "using", "values", "verbose", "when", "where", "window", "with", "year",
    "abort", "type", "zone",
)  # fmt: skip
_NAMES = st.one_of(identifiers(), st.sampled_from(_SOME_KEYWORDS))
# Key words that are reserved in some of PostgreSQL 15 to 18 only.
_VERSION_DEPENDENT = {
    "json", "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg",
    "json_query", "json_scalar", "json_serialize", "json_table", "json_value", "merge_action",
    "system_user",
}  # fmt: skip


@ON_SERVER
@given(_NAMES)
def test_quote_ident_equals_the_servers(server_conn: Any, name: str) -> None:
    assume(name not in _VERSION_DEPENDENT)
    assert quote_ident(name) == _scalar(server_conn, "SELECT quote_ident(%s)", name)


@ON_SERVER
@given(_NAMES)
def test_quoted_names_parse_back_to_themselves(server_conn: Any, name: str) -> None:
    q = quote_ident(name)
    found = _scalar(
        server_conn,
        # Types spelled with their schema: a temporary table named like a type shadows it.
        f"CREATE TEMP TABLE {q} ({q} pg_catalog.int4);"
        " SELECT ARRAY[c.relname::pg_catalog.text, a.attname::pg_catalog.text]"
        f" FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1"
        f" WHERE c.oid = 'pg_temp.{q.replace(chr(39), chr(39) * 2)}'::regclass",
    )
    assert found == [name, name]


# --------------------------------------------------------------------------- tickets

_INT4_MAX = 2**31 - 1
_codes = st.text(alphabet="0123456789", min_size=HMAC_DIGITS, max_size=HMAC_DIGITS)


@PURE
@given(
    st.lists(
        st.tuples(st.integers(1, _INT4_MAX), _codes, st.integers(0, 3)),
        min_size=1,
        max_size=MAX_TICKETS,
        unique_by=lambda t: t[0],
    )
)
def test_valid_references_yield_their_ticket_ids(tickets: list[tuple[int, str, int]]) -> None:
    refs = ["0" * zeros + str(ticket) + code for ticket, code, zeros in tickets]
    parsed = parse_ticket_refs(refs)
    assert [p.ticket_id for p in parsed] == [t for t, _, _ in tickets]
    assert [p.reference for p in parsed] == refs
    assert pdf_url(parsed, "https://b/pdf?").split("?", 1)[1] == "&".join(
        f"ticket{i}={r}" for i, r in enumerate(refs)
    )


@PURE
@given(st.lists(st.one_of(st.text(), st.text(alphabet="0123456789 ²٣")), max_size=120))
def test_any_input_is_parsed_or_refused_with_a_reason_per_reference(refs: list[str]) -> None:
    try:
        parsed = parse_ticket_refs(refs)
    except TicketReferenceError as exc:
        assert exc.reasons
        assert all(k == "tickets" or k.startswith("ticket") for k in exc.reasons)
        assert exc.exit_code == 2
        return
    assert 1 <= len(parsed) == len(refs) <= MAX_TICKETS
    assert len({p.ticket_id for p in parsed}) == len(parsed)
    assert all(0 < p.ticket_id <= _INT4_MAX for p in parsed)


@PURE
@given(
    st.lists(st.text(alphabet="0123456789x", min_size=8, max_size=16), min_size=1, max_size=5),
)
def test_refusals_never_echo_a_reference(refs: list[str]) -> None:
    refs = [*refs, refs[0]]  # a duplicate at least, so something is always refused
    with pytest.raises(TicketReferenceError) as info:
        parse_ticket_refs(refs)
    for ref in refs:
        assert ref.strip() not in str(info.value)


@PURE
@given(st.one_of(st.just(0), st.integers(_INT4_MAX + 1, 10**30)), _codes)
def test_ids_out_of_the_integer_range_or_zero_are_refused(ticket: int, code: str) -> None:
    with pytest.raises(TicketReferenceError) as info:
        parse_ticket_refs([f"{ticket}{code}"])
    assert set(info.value.reasons) == {"ticket0"}


# --------------------------------------------------------------------------- comparator


@settings(max_examples=100, deadline=None)
@given(catalogs())
def test_a_catalog_compared_with_itself_has_no_findings(catalog: Catalog) -> None:
    assert compare_catalogs(catalog, catalog) == []
    assert compare_catalogs(catalog, catalog, report_added=False) == []


@pytest.mark.parametrize("name", MUTATIONS)
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_single_mutation_yields_a_finding_of_its_kind(name: str, data: st.DataObject) -> None:
    catalog = data.draw(catalogs(), label="catalog")
    mutation = data.draw(mutations(catalog, name), label="mutation")
    assume(mutation is not None)
    assert mutation is not None
    findings = compare_catalogs(catalog, mutation.catalog)
    kinds = {f.kind for f in findings}
    assert kinds & mutation.kinds, findings
    if FindingKind.RELATION_RENAMED in mutation.kinds:
        # A probable rename or move is never also an unexplained drop plus add.
        assert not kinds & {FindingKind.RELATION_MISSING, FindingKind.RELATION_ADDED}, findings


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_comparators_glance_at_unchanged_relations_changes_no_finding(
    data: st.DataObject,
) -> None:
    expected = data.draw(catalogs())
    name = data.draw(st.sampled_from(MUTATIONS))
    mutation = data.draw(mutations(expected, name))
    actual = expected if mutation is None else mutation.catalog
    quick = compare_catalogs(expected, actual)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(columns, "same_columns", lambda exp, act: False)
        patch.setattr(relations, "same_foreign_keys", lambda ctx, exp, act: False)
        walked = compare_catalogs(expected, actual)
    assert quick == walked


# Relations drawn from six shared columns, so that many candidates overlap each other.
_POOL = [
    Column("id", "integer", False),
    Column("name", "text", True),
    Column("note", "text", True),
    Column("event", "integer", True),
    Column("created", "date", True),
    Column("amount", "numeric(10,2)", True),
]
_SCHEMAS = ("s", "t", "elsewhere")  # the expected catalog covers s and t


def _overlapping_relations(schemas: tuple[str, ...]) -> st.SearchStrategy[list[Relation]]:
    relation = st.builds(
        lambda schema, name, columns: Relation(
            RelationKey(schema, name), Kind.TABLE, tuple(sorted(columns, key=_POOL.index))
        ),
        st.sampled_from(schemas),
        st.sampled_from([f"r{i}" for i in range(12)]),
        st.lists(st.sampled_from(_POOL), min_size=1, max_size=6, unique=True),
    )
    return st.lists(relation, max_size=14, unique_by=lambda r: r.key)


def _renames_by_the_rule(expected: Catalog, actual: Catalog) -> set[tuple[str, str]]:
    """compare's documented rename rule, candidate by candidate (quadratic, obviously right)."""

    def sig(rel: Relation) -> set[tuple[str, str]]:
        return {(c.name, c.type) for c in rel.columns}

    missing = [k for k in expected.relations if k not in actual.relations]
    names = {k.name for k in missing}
    candidates = [
        k
        for k in actual.relations
        if k not in expected.relations and (k.schema in expected.schemas or k.name in names)
    ]
    best: dict[RelationKey, tuple[RelationKey, tuple[float, float, bool]]] = {}
    for key in missing:
        wanted = sig(expected.relations[key])
        ranked = []
        for cand in candidates:
            have = sig(actual.relations[cand])
            matched = len(wanted & have)
            eligible = cand.schema in expected.schemas or cand.name == key.name
            if wanted and eligible and matched / len(wanted) >= compare.RENAME_THRESHOLD:
                rank = (matched / len(wanted), matched / len(have), cand.schema == key.schema)
                ranked.append((rank, cand))
        ranked.sort(key=lambda t: t[0], reverse=True)
        if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
            best[key] = (ranked[0][1], ranked[0][0])
    pairs = set()
    for cand in {c for c, _ in best.values()}:
        claims = sorted((rank, key) for key, (c, rank) in best.items() if c == cand)
        if len(claims) == 1 or claims[-1][0] > claims[-2][0]:
            pairs.add((str(claims[-1][1]), str(cand)))
    return pairs


@settings(max_examples=300, deadline=None)
@given(_overlapping_relations(_SCHEMAS[:2]), _overlapping_relations(_SCHEMAS))
def test_rename_matching_follows_its_rule_when_many_relations_share_columns(
    expected_relations: list[Relation], actual_relations: list[Relation]
) -> None:
    expected = Catalog.of(expected_relations, schemas=_SCHEMAS[:2])
    actual = Catalog.of(actual_relations)
    found = {
        (f.expected, f.actual)
        for f in compare_catalogs(expected, actual)
        if f.kind is FindingKind.RELATION_RENAMED
    }
    assert found == _renames_by_the_rule(expected, actual)


# --------------------------------------------------------------------------- contract files


def _as_contract(catalog: Catalog) -> Catalog:
    """What a contract file keeps of ``catalog``: no privileges, no lineage."""
    return Catalog.of(
        (
            Relation(
                rel.key,
                rel.kind,
                tuple(Column(c.name, c.type, c.nullable, c.default) for c in rel.columns),
                rel.primary_key,
                rel.foreign_keys,
                rel.unique,
            )
            for rel in catalog
        ),
        catalog.schemas,
    )


@settings(max_examples=150, deadline=None)
@given(catalogs())
def test_a_written_contract_reads_back_as_its_catalog(catalog: Catalog) -> None:
    contract = _as_contract(catalog)
    raw = dump_contract(contract).encode()
    assert parse_contract(parse_json(Path("columns.json"), raw)) == contract
