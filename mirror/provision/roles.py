"""Billig's roles in a schema of any layout: which table plays which, and a record's values.

A table plays a role by its name (``billig.event``, a dev schema's ``public."billig.event_lim_web"``
table) or by the columns it has (``event_name``, ``sale_from``/``sale_to``, ``num``/``num_sold``
…). A column takes the value of the same name from its row's record or from the records that
record belongs to, nearest first: ``hidden`` on a ticket group is its event's.
"""

from __future__ import annotations

from mirror.provision.scenarios import Record, SeedData
from mirror.provision.seed_tables import SeedTable

# Tables known by name: bare Billig names (in schema billig, or dotted "billig.<name>").
_ROLE_NAMES = {
    "event": "event",
    "event_lim_web": "event",
    "ticket_group": "ticket_group",
    "price_group": "price_group",
    "purchase": "purchase",
    "ticket_card": "ticket_card",
    "ticket": "ticket",
    "payment_error": "payment_error",
    "payment_error_price_group": "payment_error_price_group",
}


def role_of(table: SeedTable) -> str | None:
    """The Billig role of a table, by its name, else by the columns it has."""
    name = table.key.name
    # A bare name outside schema billig is the site's own (a site may have its own "event").
    bare = name if table.key.schema == "billig" else name.removeprefix("billig.")
    if (table.key.schema == "billig" or name.startswith("billig.")) and bare in _ROLE_NAMES:
        return _ROLE_NAMES[bare]
    cols = table.names
    if "event_name" in cols or {"sale_from", "sale_to"} <= cols:
        return "event"
    if {"num", "num_sold"} <= cols:
        return "ticket_group"
    if "price_group_name" in cols or "netsale" in cols:
        return "price_group"
    return None


def lineage(data: SeedData, record: Record | None, depth: int | None = None) -> list[Record]:
    """The record and the records it belongs to, nearest first (none without a record); the
    first ``depth`` of them, if given."""
    if record is None:
        return []
    if depth == 1:
        return [record]
    chain: list[Record] = []
    queue, seen = [record], set()
    while queue and (depth is None or len(chain) < depth):
        current = queue.pop(0)
        chain.append(current)
        for role, index in current.parents:
            if (role, index) not in seen:
                seen.add((role, index))
                queue.append(data.records[role][index])
    return chain


def place_of(chain: list[Record], name: str) -> tuple[int, str] | None:
    """Where a column named ``name`` takes its value in ``chain``: (position, meaning), or None.

    A column named after a meaning and a suffix (``price_nok``) takes that meaning's value.
    """
    for position, current in enumerate(chain):
        if name in current.values:
            return position, name
    for position, current in enumerate(chain):
        prefixes = [k for k, v in current.values.items() if prefix_of(k, v, name)]
        if prefixes:
            return position, max(prefixes, key=len)
    return None


def lookup(data: SeedData, record: Record | None, name: str) -> tuple[bool, object]:
    """The value under ``name`` in the record or the records it belongs to, nearest first."""
    chain = lineage(data, record)
    place = place_of(chain, name)
    if place is None:
        return False, None
    return True, chain[place[0]].values[place[1]]


def prefix_of(meaning: str, value: object, name: str) -> bool:
    """A number's meaning with a suffix (``price_nok`` for ``price``) takes its value."""
    return name.startswith(meaning + "_") and isinstance(value, int) and not isinstance(value, bool)


def means(meanings: dict[str, object], name: str) -> bool:
    return name in meanings or any(prefix_of(k, v, name) for k, v in meanings.items())


def ancestor(data: SeedData, record: Record, role: str) -> int | None:
    """The index of the nearest record of ``role`` that ``record`` belongs to."""
    for parent_role, index in record.parents:  # most often a parent: no queue
        if parent_role == role:
            return index
    queue = list(record.parents)
    while queue:
        parent_role, index = queue.pop(0)
        if parent_role == role:
            return index
        queue.extend(data.records[parent_role][index].parents)
    return None
