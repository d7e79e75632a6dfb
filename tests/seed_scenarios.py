"""Which of Billig's scenarios a seeded database shows, read from its rows wherever the columns
that carry them live (``sale_from``/``sale_to``, ``hidden``, ``num``/``num_sold``, …)."""

from __future__ import annotations

from datetime import datetime, timedelta

from mirror.catalog.model import RelationKey, quote_ident

# scenario → (columns a table must have, condition on one of its rows)
_ROW_SCENARIOS = {
    "on_sale": (("sale_from", "sale_to"), "sale_from <= %(now)s AND sale_to >= %(now)s"),
    "long_past": (("sale_to",), "sale_to < %(now)s - interval '31 days'"),
    "recently_ended": (
        ("sale_to",),
        "sale_to < %(now)s AND sale_to >= %(now)s - interval '31 days'",
    ),
    "future": (("sale_from",), "sale_from > %(now)s"),
    "hidden": (("hidden",), "hidden::text IN ('true', 't')"),
    "sold_out": (("num", "num_sold"), "num > 0 AND num_sold = num"),
    "almost_sold_out": (("num", "num_sold"), "num_sold < num AND num_sold >= 0.8 * num"),
    "zero_tickets_group": (("num",), "num = 0"),
    "no_ticket_limit": (("ticket_limit",), "ticket_limit IS NULL"),
    "zero_ticket_limit": (("ticket_limit",), "ticket_limit = 0"),
    "non_netsale": (("netsale",), "NOT netsale"),
}


def _tables_with(cur, columns: tuple[str, ...]) -> list[RelationKey]:
    cur.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT"
        " a.attisdropped AND a.attname = ANY(%s)) = %s ORDER BY 1, 2",
        (list(columns), len(columns)),
    )
    return [RelationKey(*row) for row in cur.fetchall()]


def scenario_gaps(conn, now: datetime) -> dict[str, str]:
    """Each scenario the rows do not show, with why; scenarios with no columns to show them are
    named with "no table has" and the columns."""
    gaps: dict[str, str] = {}
    with conn.cursor() as cur:
        for scenario, (columns, condition) in _ROW_SCENARIOS.items():
            tables = _tables_with(cur, columns)
            if not tables:
                gaps[scenario] = f"no table has {', '.join(columns)}"
                continue
            shown = False
            for key in tables:
                cur.execute(
                    f"SELECT EXISTS (SELECT FROM {key} WHERE {condition})",
                    {"now": now},
                )
                shown = shown or cur.fetchone()[0]
            if not shown:
                gaps[scenario] = f"no row of {', '.join(map(str, tables))} where {condition}"
        gaps.update(_no_groups(cur))
    conn.rollback()
    return gaps


def _no_groups(cur) -> dict[str, str]:
    """An event row that no ticket-group row refers to, through a foreign key between them."""
    groups = _tables_with(cur, ("num", "num_sold"))
    events = {*_tables_with(cur, ("event_name",)), *_tables_with(cur, ("sale_from", "sale_to"))}
    cur.execute(
        "SELECT cn.nspname, c.relname, tn.nspname, t.relname,"
        " ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid"
        "       AND attnum = ANY(con.conkey) ORDER BY array_position(con.conkey, attnum)),"
        " ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid"
        "       AND attnum = ANY(con.confkey) ORDER BY array_position(con.confkey, attnum))"
        " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
        " JOIN pg_namespace cn ON cn.oid = c.relnamespace"
        " JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace"
        " WHERE con.contype = 'f'"
    )
    links = [
        (RelationKey(a, b), RelationKey(c, d), cols, tcols)
        for a, b, c, d, cols, tcols in cur.fetchall()
        if RelationKey(a, b) in groups and RelationKey(c, d) in events
    ]
    if not links:
        return {"no_ticket_groups": "no foreign key from a ticket-group table to an event table"}
    for group, event, cols, tcols in links:
        match = " AND ".join(
            f"g.{quote_ident(c)} = e.{quote_ident(t)}" for c, t in zip(cols, tcols, strict=True)
        )
        cur.execute(
            f"SELECT EXISTS (SELECT FROM {event} e WHERE NOT EXISTS"
            f" (SELECT FROM {group} g WHERE {match}))"
        )
        if cur.fetchone()[0]:
            return {}
    return {"no_ticket_groups": "every event row has a ticket group"}


ALL = (*_ROW_SCENARIOS, "no_ticket_groups")
WEEK = timedelta(days=7)
