"""Keeping secrets out of output: DSN password masking and scrubbing of arbitrary text."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

MASK = "***"

# postgresql://user:secret@host/db ; also key=value DSNs (password=secret)
_URL_PASSWORD = re.compile(
    r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<post>@)"
)
_KV_PASSWORD = re.compile(r"(?P<pre>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def redact(dsn: str | URL) -> str:
    """Return the DSN as text with its password replaced by ``***``."""
    if isinstance(dsn, URL):
        return dsn.render_as_string(hide_password=True)
    return scrub(dsn)


def scrub(text: str, *secrets: str | None) -> str:
    """Remove every password-looking part of ``text`` and every given secret (also URL-decoded)."""
    text = _URL_PASSWORD.sub(lambda m: m["pre"] + MASK + m["post"], text)
    text = _KV_PASSWORD.sub(lambda m: m["pre"] + MASK, text)
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, unquote(secret)}:
            if form:
                text = text.replace(form, MASK)
    return text


def password_of(dsn: str | URL) -> str | None:
    """The password in a DSN, or None (used to scrub it from driver error messages)."""
    try:
        url = dsn if isinstance(dsn, URL) else make_url(dsn)
    except Exception:
        match = _URL_PASSWORD.search(str(dsn)) or _KV_PASSWORD.search(str(dsn))
        return unquote(match["pw"]) if match else None
    return url.password if url.password is None else str(url.password)
