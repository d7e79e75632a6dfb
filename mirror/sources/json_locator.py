"""JSON files that people edit: parsed strictly, every error located, written in one form.

Contract files, shape snapshots, the pinned OpenAPI document and the drift policy are JSON that
people review and edit by hand, so a mistake must be reported where it is:
``file:line:column: $.relations[2].columns[0].nullable: message``. :func:`parse_json` decodes
and parses a document with the standard ``json`` module, refusing what it would silently accept
(duplicate keys, ``NaN``); a :class:`JsonDocument` turns a JSON path into a line and column.
Positions are found by one pass over the text that follows the already-parsed document, made
the first time a position is asked for and kept for the rest: a valid file that needs no
position costs nothing, and locating many values (a policy's entries) stays linear in the size
of the text. :func:`json_path` is the one spelling of JSON paths in messages and
:func:`dump_json` the one formatting of JSON files and reports.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mirror.errors import ContractError

JsonPath = tuple[str | int, ...]

# Keys written as ``.key`` in a path; any other key is written as a JSON string: ``["a b"]``.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def json_path(parts: Iterable[str | int], *, root: str = "$") -> str:
    """``("relations", 2, "name")`` → ``$.relations[2].name``; ``("a b",)`` → ``$["a b"]``.

    With ``root=""`` the path starts at its first key (``relations[2].name``), as diffs of
    documents and data paths inside a schema are shown.
    """
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out


def dump_json(data: Any) -> str:
    """The one JSON formatting of files and reports: sorted keys, 2-space indent, final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- parsing


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey  # which one, and where, is found in the text (see _Positions)
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(
    source: str | Path,
    raw: bytes | str,
    *,
    what: str = "contract",
    error: type[ContractError] = ContractError,
) -> JsonDocument:
    """The document in ``raw`` (the bytes or text of file ``source``, a ``what`` file).

    Every failure is an ``error`` naming ``source`` and, where there is one, the line and
    column: text that is not UTF-8, an empty file, invalid JSON, a duplicate key (with its
    path), ``NaN`` or ``Infinity``, a number too long to convert, nesting too deep to parse.
    A leading byte order mark is ignored.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            raise error(
                f"{source}:{line}:{col}: not UTF-8 text (byte {exc.start}); is this a {what} file?"
            ) from None
    else:
        text = raw
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise error(f"{source}:1:1: empty {what} file, expected a JSON object")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except _DuplicateKey:
        document = JsonDocument(str(source), text, None, error)
        where, offset = document.positions.duplicate or ((), 0)
        line, col = document.line_col(offset)
        key = f" {where[-1]}" if where else ""
        raise error(f"{source}:{line}:{col}: {json_path(where)}: duplicate key{key}") from None
    except RecursionError:
        raise error(f"{source}: invalid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN, Infinity, a number too long to convert
        raise error(f"{source}: invalid JSON: {exc}") from None
    return JsonDocument(str(source), text, data, error)


# --------------------------------------------------------------------------- locating


@dataclass(frozen=True)
class JsonDocument:
    """A parsed JSON file (``data``) with its ``text``, turning JSON paths into positions."""

    source: str  # how messages name the file
    text: str
    data: Any
    error_type: type[ContractError] = ContractError

    def error(self, where: JsonPath, message: str, *, at_key: bool = False) -> ContractError:
        """``source:line:col: $.path: message``, located as :meth:`locate` says."""
        line, col = self.locate(where, at_key=at_key)
        return self.error_type(f"{self.source}:{line}:{col}: {json_path(where)}: {message}")

    def locate(self, where: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
        """Line and column of the value at ``where`` (of its key with ``at_key``).

        A path that does not exist (a missing key) is located at its nearest existing
        ancestor, the whole document at worst.
        """
        positions = self.positions
        if at_key and where in positions.keys:
            return self.line_col(positions.keys[where])
        for end in range(len(where), -1, -1):
            offset = positions.values.get(where[:end])
            if offset is not None:
                return self.line_col(offset)
        return 1, 1

    def line(self, where: JsonPath) -> int:
        return self.locate(where)[0]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    @cached_property
    def positions(self) -> _Positions:
        return _Positions.of(self.text)

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(match.end() for match in re.finditer("\n", self.text))]


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Positions:
    """Offsets in a JSON text, by path: of every value, of every object member's key, and the
    first key that appears twice in one object (its path and offset)."""

    values: dict[JsonPath, int]
    keys: dict[JsonPath, int]
    duplicate: tuple[JsonPath, int] | None

    @classmethod
    def of(cls, text: str) -> _Positions:
        # Follows a document json.loads has parsed (duplicate keys aside), so it never decides
        # validity; on anything unexpected it stops and keeps what it found.
        values: dict[JsonPath, int] = {}
        keys: dict[JsonPath, int] = {}
        duplicates: list[tuple[JsonPath, int]] = []

        def ws(i: int) -> int:
            match = _WS.match(text, i)
            return match.end() if match else i

        def value(i: int, path: JsonPath) -> int:
            i = ws(i)
            values.setdefault(path, i)
            char = text[i]
            if char == "{":
                i = ws(i + 1)
                if text[i] == "}":
                    return i + 1
                seen: set[str] = set()
                while True:
                    start = ws(i)
                    key, i = _scanstring(text, start + 1)
                    member = (*path, key)
                    if key in seen and not duplicates:
                        duplicates.append((member, start))
                    seen.add(key)
                    keys.setdefault(member, start)
                    i = ws(value(ws(i) + 1, member))  # past the ':', then the value
                    if text[i] == "}":
                        return i + 1
                    i += 1  # the ','
            if char == "[":
                i = ws(i + 1)
                if text[i] == "]":
                    return i + 1
                index = 0
                while True:
                    i = ws(value(i, (*path, index)))
                    if text[i] == "]":
                        return i + 1
                    i += 1
                    index += 1
            if char == '"':
                return _scanstring(text, i + 1)[1]
            match = _SCALAR.match(text, i)
            if not match:
                raise ValueError(f"unexpected {char!r}")
            return match.end()

        with contextlib.suppress(ValueError, IndexError, RecursionError):
            value(0, ())
        return cls(values, keys, duplicates[0] if duplicates else None)
