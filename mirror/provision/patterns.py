"""Strings that match a regular expression a CHECK constraint names, for the seed.

Real schemas guard text with patterns (a domain ``email AS text CHECK (VALUE ~
'^[^@]+@[^@]+\\.[a-z]+$')``, an organisation number ``CHECK (org_no ~ '^[0-9]{9}$')``). When the
server refuses a row for such a constraint, the seed tries a string built from the pattern: the
parts of PostgreSQL's regular expressions that Python's ``re`` reads alike (literals, classes,
ranges, ``\\d``/``\\w``, repeats, groups, alternatives, anchors). The string is deterministic
and varies with the row's index, so rows of a unique column differ. The server still decides:
a pattern read differently only costs a refused try.
"""

from __future__ import annotations

import re
import string
import warnings
from typing import Any

try:  # the parser behind ``re``: private, so its absence only means no examples
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - every supported Python has it
    _p = None

_ALPHABET = string.ascii_lowercase + string.digits
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_lowercase + string.digits + "_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": string.ascii_lowercase,
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_NOT_SPACE": _ALPHABET,
}
# PostgreSQL's bracket classes, in Python's spelling (inside a bracket expression).
_POSIX = {
    "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
    "[:lower:]": "a-z", "[:space:]": r"\s", "[:xdigit:]": "0-9a-fA-F", "[:word:]": r"\w",
}  # fmt: skip
_EXTRA_REPEATS = 2  # beyond a repeat's minimum, where allowed: room for rows to differ
_MAX_LENGTH = 1000


class _Unsupported(Exception):
    """A construct the example cannot be built for (a back-reference, say)."""


class _Choices:
    """Picks the i-th choice at each varying place, ``index`` read as digits across places."""

    def __init__(self, index: int) -> None:
        self.rest = max(index, 0)

    def pick(self, options: str) -> str:
        if not options:
            raise _Unsupported
        choice = options[self.rest % len(options)]
        self.rest //= len(options)
        return choice


def regex_example(pattern: str, index: int = 0) -> str | None:
    """A string matching ``pattern`` (varying with ``index``), or None when none is made."""
    if _p is None or not isinstance(pattern, str) or not pattern:
        return None
    for posix, python in _POSIX.items():
        pattern = pattern.replace(posix, python)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set": PostgreSQL's syntax
            parsed = _p.parse(pattern)
            text = _emit(parsed, _Choices(index))
            matches = re.search(pattern, text) is not None
    except (re.error, _Unsupported, RecursionError, OverflowError, ValueError, TypeError):
        return None
    return text if matches and len(text) <= _MAX_LENGTH else None


def _emit(items: Any, choices: _Choices) -> str:
    return "".join(_item(op, value, choices) for op, value in items)


def _item(op: Any, value: Any, choices: _Choices) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(value)
    if name == "NOT_LITERAL":
        return choices.pick(_ALPHABET.replace(chr(value), ""))
    if name == "ANY":
        return choices.pick(_ALPHABET)
    if name == "IN":
        return choices.pick(_class(value))
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = value
        count = low if high == low else min(high, low + _EXTRA_REPEATS)
        if count > _MAX_LENGTH:
            raise _Unsupported
        return "".join(_emit(sub, choices) for _ in range(count))
    if name == "SUBPATTERN":
        return _emit(value[-1], choices)
    if name == "ATOMIC_GROUP":
        return _emit(value, choices)
    if name == "BRANCH":
        return _emit(value[1][0], choices)
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return ""
    if name == "CATEGORY":
        return choices.pick(_CATEGORIES.get(str(value), ""))
    raise _Unsupported


def _class(items: Any) -> str:
    """The characters of a ``[...]`` class, in order (a negated one: of a plain alphabet)."""
    allowed: list[str] = []
    negated = False
    for op, value in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            allowed.append(chr(value))
        elif name == "RANGE":
            low, high = value
            allowed += [chr(c) for c in range(low, min(high, low + 61) + 1)]
        elif name == "CATEGORY":
            allowed += list(_CATEGORIES.get(str(value), ""))
        else:
            raise _Unsupported
    if negated:
        return "".join(c for c in _ALPHABET if c not in allowed)
    return "".join(dict.fromkeys(allowed))
