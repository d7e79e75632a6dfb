"""The drift policy: findings we knowingly tolerate, each with a reason, an owner and an expiry.

The same format declares deliberate differences between the site's models and the columns
contract (``contracts/models-policy.json``, honoured by ``billig check``).

``contracts/drift-policy.json`` holds ``{"format_version": 1, "tolerate": [entry, …]}``; an entry
is ``{"kind", "object", "reason", "owner", "expires"}``. ``object`` is written the way findings
print it (``billig.event.event_note``, ``public."billig.event"``, ``billig``): dot-separated SQL
identifiers, double-quoted where needed, unquoted ones folded to lower case as PostgreSQL does,
and a bare ``*`` matching any one part. An entry tolerates matching findings up to and including
its ``expires`` date; after that it stops tolerating and is reported as expired. Entries that
match nothing are reported as stale, so the file cannot silently rot. Loading validates the file
and raises :class:`~mirror.errors.PolicyError` with file, line, column and JSON path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import split_qualified_name
from mirror.errors import ContractError, PolicyError
from mirror.sources.json_locator import JsonDocument, JsonPath, dump_json, parse_json

FORMAT_VERSION = 1
DEFAULT_POLICY_PATH = Path("contracts/drift-policy.json")
# Deliberate differences between the site's models and the columns contract, which
# ``billig check`` honours: the same format, next to columns.json.
MODELS_POLICY_FILE = "models-policy.json"

_TOP_KEYS = {"format_version", "tolerate"}
_ENTRY_KEYS = ("kind", "object", "reason", "owner", "expires")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One tolerated finding pattern. ``pattern`` holds the parsed ``object`` parts."""

    kind: FindingKind
    object: str
    reason: str
    owner: str
    expires: dt.date
    pattern: tuple[str | None, ...]  # None: the ``*`` wildcard
    source: str = ""  # "file:line" of the entry, for reports

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        parts = finding.parts
        return (
            finding.kind == self.kind
            and len(parts) == len(self.pattern)
            and all(p is None or p == q for p, q in zip(self.pattern, parts, strict=True))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "object": self.object,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Tolerated:
    finding: Finding
    entry: PolicyEntry


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """Findings after a policy: the ones that still count, and what the policy did."""

    findings: tuple[Finding, ...] = ()
    tolerated: tuple[Tolerated, ...] = ()
    expired: tuple[PolicyEntry, ...] = ()
    stale: tuple[PolicyEntry, ...] = ()

    def expired_for(self, finding: Finding) -> tuple[PolicyEntry, ...]:
        """The expired entries that would have tolerated ``finding``."""
        return tuple(e for e in self.expired if e.matches(finding))


@dataclass(frozen=True, slots=True)
class Policy:
    entries: tuple[PolicyEntry, ...] = ()
    source: str = ""

    def apply(self, findings: Iterable[Finding], today: dt.date | None = None) -> PolicyOutcome:
        """Split findings into still-counting and tolerated ones, as of ``today``.

        A finding matched by an expired entry keeps counting (and the entry is reported as
        expired); an entry that matches no finding at all is stale.
        """
        today = today or dt.date.today()
        kept: list[Finding] = []
        tolerated: list[Tolerated] = []
        used: set[PolicyEntry] = set()
        for finding in findings:
            matching = [e for e in self.entries if e.matches(finding)]
            used.update(matching)
            valid = [e for e in matching if not e.expired(today)]
            if valid:
                tolerated.append(Tolerated(finding, valid[0]))
            else:
                kept.append(finding)
        return PolicyOutcome(
            findings=tuple(kept),
            tolerated=tuple(tolerated),
            expired=tuple(e for e in self.entries if e.expired(today)),
            stale=tuple(e for e in self.entries if e not in used),
        )


# --------------------------------------------------------------------------- loading


def load_policy(path: str | Path, *, missing_ok: bool = False) -> Policy:
    """Read and validate a policy file; a missing file is an empty policy only if ``missing_ok``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return Policy(source=str(path))
        raise PolicyError(f"{path}: policy file not found") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file ({exc.strerror})") from None
    return _Validator(parse_json(path, raw, what="policy", error=PolicyError)).policy()


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy JSON text; errors name ``source``, line, column and the JSON path."""
    return _Validator(parse_json(source, text, what="policy", error=PolicyError)).policy()


_SURROGATE = re.compile("[\ud800-\udfff]")


class _Validator:
    def __init__(self, doc: JsonDocument) -> None:
        self.doc = doc
        self.source = doc.source

    def fail(self, path: JsonPath, message: str, *, at_key: bool = False) -> ContractError:
        return self.doc.error(path, message, at_key=at_key)  # a PolicyError (the doc's type)

    def policy(self) -> Policy:
        data = self.doc.data
        if not isinstance(data, dict):
            raise self.fail((), f"expected an object, got {_type_name(data)}")
        for key in sorted(data.keys() - _TOP_KEYS):
            raise self.fail(
                (key,), f"unknown key {key!r} (allowed: format_version, tolerate)", at_key=True
            )
        for key in sorted(_TOP_KEYS - data.keys()):
            raise self.fail((), f"missing key {key!r}")
        version = data["format_version"]
        if type(version) is not int or version != FORMAT_VERSION:
            raise self.fail(
                ("format_version",), f"unsupported format_version {version!r} (expected 1)"
            )
        entries = data["tolerate"]
        if not isinstance(entries, list):
            raise self.fail(("tolerate",), f"expected a list, got {_type_name(entries)}")
        parsed = [self.entry(i, e) for i, e in enumerate(entries)]
        seen: dict[tuple[FindingKind, tuple[str | None, ...]], int] = {}
        for i, entry in enumerate(parsed):
            first = seen.setdefault((entry.kind, entry.pattern), i)
            if first != i:
                raise self.fail(
                    ("tolerate", i), f"duplicates tolerate[{first}] ({entry.kind} {entry.object})"
                )
        return Policy(tuple(parsed), self.source)

    def entry(self, index: int, data: Any) -> PolicyEntry:
        at: JsonPath = ("tolerate", index)
        if not isinstance(data, dict):
            raise self.fail(at, f"expected an object, got {_type_name(data)}")
        for key in sorted(data.keys() - set(_ENTRY_KEYS)):
            allowed = ", ".join(_ENTRY_KEYS)
            raise self.fail((*at, key), f"unknown key {key!r} (allowed: {allowed})", at_key=True)
        for key in _ENTRY_KEYS:
            if key not in data:
                raise self.fail(at, f"missing key {key!r}")
            if not isinstance(data[key], str) or not data[key].strip():
                raise self.fail((*at, key), f"expected a non-empty string, got {_value(data[key])}")
            if _SURROGATE.search(data[key]):  # from a \ud800-\udfff escape: no report can show it
                raise self.fail((*at, key), "contains a lone surrogate, which is not text")
        try:
            kind = FindingKind(data["kind"])
        except ValueError:
            raise self.fail(
                (*at, "kind"),
                f"unknown finding kind {data['kind']!r} "
                f"(one of: {', '.join(k.value for k in FindingKind)})",
            ) from None
        try:
            pattern = parse_object(data["object"])
        except ValueError as exc:
            raise self.fail((*at, "object"), str(exc)) from None
        expires = self.date((*at, "expires"), data["expires"])
        line = self.doc.line(at)
        return PolicyEntry(
            kind,
            data["object"],
            data["reason"].strip(),
            data["owner"].strip(),
            expires,
            pattern,
            f"{self.source}:{line}",
        )

    def date(self, path: JsonPath, text: str) -> dt.date:
        if not _DATE.match(text):
            raise self.fail(path, f"expected a date YYYY-MM-DD, got {text!r}")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise self.fail(path, f"{text!r} is not a valid date") from None


def parse_object(text: str) -> tuple[str | None, ...]:
    """``billig.event.note`` → ("billig", "event", "note"); quoted parts keep dots and case; a
    bare ``*`` is None (any). Raises ValueError on bad syntax or more than three parts."""
    parts = split_qualified_name(text, wildcard=WILDCARD)
    if len(parts) > 3:
        raise ValueError(f"{text!r} has more than three parts (schema.relation.column)")
    return parts


# --------------------------------------------------------------------------- locations


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return "an empty string"
    return _type_name(value)


# --------------------------------------------------------------------------- writing


def policy_template() -> str:
    """The text of an empty policy file, as ``billig`` writes it."""
    return dump_json({"format_version": FORMAT_VERSION, "tolerate": []})
