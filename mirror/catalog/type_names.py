"""PostgreSQL type names: one parser for every spelling the harness meets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigint": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallint": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "bool": "boolean",
    "boolean": "boolean",
    "varchar": "character varying",
    "character varying": "character varying",
    "char": "character",
    "character": "character",
    "bpchar": "character",
    "nchar": "character",
    "text": "text",
    "float8": "double precision",
    "double precision": "double precision",
    "double": "double precision",
    "float": "double precision",
    "float4": "real",
    "real": "real",
    "decimal": "numeric",
    "numeric": "numeric",
    "timestamp": "timestamp without time zone",
    "timestamp without time zone": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "timestamp with time zone": "timestamp with time zone",
    "time": "time without time zone",
    "time without time zone": "time without time zone",
    "timetz": "time with time zone",
    "time with time zone": "time with time zone",
    "date": "date",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "bytea": "bytea",
    "interval": "interval",
    "inet": "inet",
    "cidr": "cidr",
    "money": "money",
    "bit": "bit",
    "varbit": "bit varying",
    "bit varying": "bit varying",
    "oid": "oid",
    "xml": "xml",
}

_TYPE_RE = re.compile(
    r"^(?P<base>[a-z_][a-z0-9_ ]*?)\s*(?:\(\s*(?P<args>[0-9 ,]*)\s*\))?"
    r"(?P<suffix>\s+with(?:out)?\s+time\s+zone)?"
    r"(?P<array>(?:\s*\[\s*\d*\s*\])*|\s+array(?:\s*\[\s*\d*\s*\])?)$"
)


# Cached: a catalog of 30,000 columns has a few dozen distinct spellings.
@lru_cache(maxsize=4096)
def normalize_type(spelling: str) -> str:
    """Canonical PostgreSQL spelling of a type: ``varchar(140)`` → ``character varying(140)``.

    The canonical spelling is what ``format_type`` prints for a column, so a live catalog
    normalizes to itself. Array dimensions and sizes carry no meaning in PostgreSQL
    (``int[][]``, ``int[3]``, ``int ARRAY`` and ``_int4`` are all ``integer[]``). Unknown types
    (domains, enums, extension types) are kept, lower-cased and with single spaces, so that
    they still compare by name; quoted or schema-qualified names are kept as written.
    """
    text = " ".join(spelling.strip().lower().split())
    if text.startswith('"') or "." in text.split("(")[0]:
        return spelling.strip()  # quoted or schema-qualified user type: keep as written
    match = _TYPE_RE.match(text)
    if not match:
        return text
    base = match["base"].strip()
    args = (match["args"] or "").replace(" ", "")
    suffix = " ".join((match["suffix"] or "").split())
    array = "[]" if match["array"] else ""
    if not array and base.startswith("_") and base[1:] in _TYPE_ALIASES and not suffix:
        base, array = base[1:], "[]"  # internal array type name, e.g. _int4
    if base in ("timestamp", "time") and suffix:
        base = f"{base} {suffix}"
        suffix = ""
    if base == "float" and args.isdigit():
        # float(p) is real up to 24 binary digits of precision, double precision above.
        return ("real" if int(args) <= 24 else "double precision") + array
    if base == "bpchar" and not args:
        return "bpchar" + array  # char without a length limit (not char(1))
    canon = _TYPE_ALIASES.get(base, base)
    if suffix:  # "timestamp(3) with time zone"
        canon = f"{canon} {suffix}"
    if canon == "numeric" and args.isdigit():
        args += ",0"  # numeric(p) is numeric(p,0)
    if args:
        if canon.startswith(("timestamp", "time")) and " " in canon:
            head, _, tail = canon.partition(" ")
            canon = f"{head}({args}) {tail}"
        else:
            canon = f"{canon}({args})"
    elif canon in ("character", "bit"):
        canon += "(1)"  # char and bit without a length mean length 1 in PostgreSQL
    return canon + array


# A canonical spelling (what normalize_type returns): head, size arguments, time zone suffix.
_CANONICAL = re.compile(
    r"^(?P<head>[a-z_][a-z0-9_ ]*?)(?:\((?P<args>[0-9, ]*)\))?(?P<tail> with(?:out)? time zone)?$"
)


@dataclass(frozen=True, slots=True)
class ParsedType:
    """A canonical type spelling taken apart: ``character varying(140)[]`` is base
    ``character varying``, args ``(140,)``, one array dimension."""

    base: str
    args: tuple[int, ...]
    dims: int

    @property
    def length(self) -> int | None:
        """The length limit of a ``character varying(n)``, ``character(n)``, ``bit(n)`` or
        ``bit varying(n)`` value; None for any other type, arrays included."""
        if self.dims or self.base not in _LENGTH_LIMITED or len(self.args) != 1:
            return None
        return self.args[0]


_LENGTH_LIMITED = frozenset({"character varying", "character", "bit", "bit varying"})


def parse_type(spelling: str) -> ParsedType | None:
    """Take apart a type spelling (normalized first); None for a user type's quoted or
    schema-qualified name, which has no parts the harness reads."""
    text = normalize_type(spelling)
    dims = 0
    while text.endswith("[]"):
        text, dims = text[:-2].rstrip(), dims + 1
    match = _CANONICAL.match(text)
    if match is None:
        return None
    args = tuple(int(a) for a in (match["args"] or "").replace(" ", "").split(",") if a)
    return ParsedType(match["head"].strip() + (match["tail"] or ""), args, dims)
