"""Keeping secrets out of output: masked DSNs, and scrubbing of any text that may hold one.

A DSN is shown through :func:`redact`: the password of one that parses becomes ``***``, and one
that does not parse cleanly is masked whole (everything between ``scheme://`` and the last
``@``), so that no fragment of a password written raw survives. Text from elsewhere (driver
messages, tracebacks with ``--debug``) goes through :func:`scrub`, which masks every URL on a line
the same way and replaces every given secret in each of its spellings, where it stands as a value:
not inside a longer word, so that a one-letter password ``o`` masks ``o`` but leaves "connect"
readable (a password glued to other letters or digits is not what a message prints as one).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

from mirror.dsn import MASK, USERINFO, Dsn, mask_whole, presumed_password
from mirror.errors import UsageError

__all__ = ["MASK", "learn", "password_of", "redact", "scrub", "spellings"]

# Secrets found while running (a site's configured database passwords): masked by every scrub.
_LEARNED: set[str] = set()


def learn(*secrets: str | None) -> None:
    """Mask ``secrets`` in everything :func:`scrub` handles from now on."""
    _LEARNED.update(s for s in secrets if s)


# A URL's scheme and everything up to the last "@" of its line: a password may hold "@", "/",
# "#", "?" and spaces, so nothing shorter is sure to cover it.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\n]*)@")
_KV_PASSWORD = re.compile(
    r"(?P<pre>\b(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE
)


def redact(dsn: Any) -> str:
    """A DSN (text, :class:`~mirror.dsn.Dsn` or SQLAlchemy URL) as it may be shown."""
    if isinstance(dsn, Dsn):
        return dsn.masked()
    if isinstance(dsn, str):
        try:
            return Dsn.parse(dsn).masked()
        except UsageError:
            return scrub(mask_whole(dsn.strip()))
    render = getattr(dsn, "render_as_string", None)
    if render is not None:  # a SQLAlchemy URL (of any database): its own masking
        return str(render(hide_password=True))
    return scrub(str(dsn))


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every URL's password (or whole userinfo) and every given secret masked."""
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _KV_PASSWORD.sub(lambda m: m["pre"] + MASK, text)
    for secret in (*secrets, *sorted(_LEARNED, key=len, reverse=True)):
        for form in spellings(secret):
            text = _as_value(form).sub(MASK, text)
    return text


def _as_value(secret: str) -> re.Pattern[str]:
    """``secret`` where it is not part of a longer word: a word character at its edge must not
    touch another (the edges of ``\\b``, for secrets of any characters)."""
    before = r"(?<!\w)" if re.match(r"\w", secret) else ""
    after = r"(?!\w)" if re.search(r"\w\Z", secret) else ""
    return re.compile(before + re.escape(secret) + after)


def spellings(secret: str | None) -> list[str]:
    """A secret as it may appear: raw, URL-decoded and URL-encoded; longest first."""
    if not secret:
        return []
    raw = unquote(secret)
    forms = {secret, raw, quote(raw, safe=""), quote(raw), quote(secret, safe="")}
    return sorted((f for f in forms if f), key=len, reverse=True)


def password_of(dsn: Any) -> str | None:
    """The password of a DSN, or of one that does not parse the password it presumably holds."""
    try:
        return Dsn.of(dsn).password
    except UsageError:
        return presumed_password(dsn) if isinstance(dsn, str) else None


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    user, colon, _ = userinfo.partition(":")
    if USERINFO.fullmatch(userinfo):  # a clean user[:password]: keep the user name
        return f"{match['scheme']}{user}{':' + MASK if colon else ''}@"
    return f"{match['scheme']}{MASK}@"
