"""Untrusted names made safe to print: production's relation and column names reach terminals,
CI logs and report files, so nothing in them may act as a line break, a terminal escape
sequence or a GitHub workflow command.

Production belongs to another team, and every name it returns is untrusted input. A name
holding a newline could start a line of its own in a CI log and forge ``::error``,
``::add-mask::`` or ``::stop-commands::``; an ANSI escape could rewrite the terminal. Every
renderer passes each value it prints through :func:`printable`, which writes control
characters, Unicode line and paragraph separators and bidirectional overrides as visible
Python-style escapes (``\\n``, ``\\x1b``, ``\\u2028``), and escapes the first colon of a value
that would otherwise begin with ``::``.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line/paragraph separators, bidirectional marks, embeddings,
# overrides and isolates, and the byte-order mark: none of them belongs in a printed name.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
# What JSON leaves raw in strings (it escapes C0 controls itself; its own newlines stay).
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_COMMAND = re.compile(r"^(\s*):(?=:)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """``text`` on one line with every unsafe character escaped, never starting with ``::``.

    GitHub reads a workflow command from a line that begins with ``::`` after spaces; a value
    that begins so (and may begin a line of a report) has its first colon written ``\\x3a``.
    """
    return _COMMAND.sub(r"\1\\x3a", UNSAFE.sub(_escape, text))


def json_safe(text: str) -> str:
    """JSON text with the characters that JSON leaves raw escaped as ``\\uXXXX`` too.

    JSON escapes C0 controls itself but, without ``ensure_ascii``, leaves DEL, C1 controls,
    separators and bidirectional marks raw; outside strings none of them can occur, so the
    escaped text is the same JSON value.
    """
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def printable_lines(text: str) -> str:
    """Multi-line text made of names (fixing help, check summaries) with each line printable:
    its own line breaks kept, nothing else; a trailing newline stays."""
    lines = [printable(line) for line in text.split("\n")]
    return "\n".join(lines)
