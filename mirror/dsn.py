"""Connection targets: the one parser of every PostgreSQL DSN the harness takes, no SQLAlchemy.

A :class:`Dsn` is a set of libpq connection parameters: host, port, user, password, database and
any other libpq keyword (``sslmode``, ``options``, …). :meth:`Dsn.parse` reads the URL forms
``postgresql://``, ``postgres://`` and ``postgresql+DRIVER://`` and libpq's ``key=value`` form
with libpq's own parser, so every spelling means what it means to libpq (several hosts, a socket
directory as host, percent-encoding, query parameters). One rule is stricter than libpq: in a
URL, everything between ``scheme://`` and the last ``@`` must be a URL-encoded
``user[:password]``. libpq reads a password written raw (``Secret@2024``, ``Sec/ret``) partly as
the host or port, which is how fragments of it reached messages; such a DSN is refused and shown
masked whole (:func:`mask_whole`). A Dsn renders as the keyword arguments of ``psycopg2.connect``
(:meth:`Dsn.params`), as a URL with its password (:meth:`Dsn.url`) or without (:meth:`Dsn.masked`,
also ``str`` and ``repr``), and, at the boundary of the parts built on SQLAlchemy, as a SQLAlchemy
URL (:meth:`Dsn.sqlalchemy`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from mirror.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MASK = "***"
# libpq keywords whose values are secrets (masked wherever a Dsn is shown).
SECRET_KEYS = frozenset({"password", "sslpassword"})

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?$", re.IGNORECASE)
# RFC 3986 userinfo: unreserved characters, sub-delims, ":" and %XX escapes; non-ASCII letters
# too, which libpq takes as they are. A raw "@", "/", "?", "#", "%" or space is not in it.
USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2}|[^\x00-\x7f\s])*")
_KV_SECRET = re.compile(r"\b(?:ssl)?password\s*=", re.IGNORECASE)
# Fragments libpq quotes in its parse errors; any of them may be a piece of a password.
_QUOTED = re.compile(r'"[^"]*"')
_HARMLESS_QUOTED = frozenset({'"="', '":"', '"/"', '"]"'})


class SqlAlchemyUrl(Protocol):
    """What a SQLAlchemy URL looks like here: recognised without importing SQLAlchemy."""

    def render_as_string(self, hide_password: bool = ...) -> str: ...


@dataclass(frozen=True, slots=True)
class Dsn:
    """A PostgreSQL connection target (libpq parameters); shown, it never shows the password.

    ``host`` and ``port`` are libpq's values: a comma-separated list for several hosts, and a
    host may be a socket directory. ``query`` holds every other libpq keyword, sorted.
    """

    host: str | None = None
    port: str | None = None
    username: str | None = None
    password: str | None = None
    database: str | None = None
    query: tuple[tuple[str, str], ...] = ()

    # ------------------------------------------------------------------ reading

    @classmethod
    def parse(cls, text: str) -> Dsn:
        """The Dsn of a URL or key=value string; :class:`~mirror.errors.UsageError` otherwise.

        The message of the error never holds the password, nor any piece of one.
        """
        import psycopg2.extensions

        stripped = text.strip()
        if not stripped:
            raise UsageError("empty DSN: give a postgresql:// URL or libpq key=value settings")
        scheme = _SCHEME.match(stripped)
        libpq_text = stripped
        if scheme is not None:
            if not _POSTGRES_SCHEME.match(scheme["scheme"]):
                raise UsageError(
                    f"{mask_whole(stripped)}: the harness needs a PostgreSQL URL "
                    "(postgresql://, postgres://) or libpq key=value settings"
                )
            rest = stripped[scheme.end() :]
            at = rest.rfind("@")
            if at >= 0 and not USERINFO.fullmatch(rest[:at]):
                raise UsageError(
                    # No "@" after the masked DSN: scrubbing would mask up to it.
                    f"malformed DSN {mask_whole(stripped)}: the user name and password must be "
                    "URL-encoded (%40 for an at sign, %3A for :, %2F for /, %25 for %, %23 for #, "
                    "%3F for ?, %20 for a space; also an at sign after the host is %40)"
                )
            libpq_text = "postgresql://" + rest
        try:
            params: dict[str, str] = psycopg2.extensions.parse_dsn(libpq_text)
        except psycopg2.Error as exc:
            reason = _parse_reason(exc)
            raise UsageError(f"malformed DSN {mask_whole(stripped)}: {reason}") from None
        dsn = cls.from_params(params)
        # libpq checks ports only when it connects: a typo is a usage error, not "unreachable".
        for port in (dsn.port or "").split(","):
            if port.strip() and not port.strip().isdigit():
                raise UsageError(f"malformed DSN {dsn.masked()}: port {port!r} is not a number")
        return dsn

    @classmethod
    def from_params(cls, params: Mapping[str, str | int | None]) -> Dsn:
        """The Dsn of libpq keyword parameters (``user``, ``dbname``, …), leaving out Nones."""
        values = {k: str(v) for k, v in params.items() if v is not None}
        return cls(
            host=values.pop("host", None),
            port=values.pop("port", None),
            username=values.pop("user", None),
            password=values.pop("password", None),
            database=values.pop("dbname", None),
            query=tuple(sorted(values.items())),
        )

    @classmethod
    def of(cls, target: str | Dsn | SqlAlchemyUrl) -> Dsn:
        """``target`` as a Dsn: parsed when text, converted when a SQLAlchemy URL."""
        if isinstance(target, Dsn):
            return target
        if isinstance(target, str):
            return cls.parse(target)
        if hasattr(target, "render_as_string") and hasattr(target, "get_backend_name"):
            return cls._from_sqlalchemy(target)
        raise UsageError(f"not a database URL: a {type(target).__name__}")

    @classmethod
    def _from_sqlalchemy(cls, url: Any) -> Dsn:
        if url.get_backend_name() != "postgresql":
            raise UsageError(
                f"{url.render_as_string(hide_password=True)}: the harness needs a PostgreSQL URL"
            )
        query = {k: v if isinstance(v, str) else ",".join(v) for k, v in url.query.items()}
        return cls(
            host=url.host or query.pop("host", None),
            port=str(url.port) if url.port is not None else query.pop("port", None),
            username=url.username,
            password=None if url.password is None else str(url.password),
            database=url.database,
            query=tuple(sorted(query.items())),
        )

    def set(self, **changes: Any) -> Dsn:
        """A copy with fields changed (``port`` may be an int, ``query`` a mapping)."""
        if changes.get("port") is not None:
            changes["port"] = str(changes["port"])
        if isinstance(changes.get("query"), Mapping):
            changes["query"] = tuple(sorted((k, str(v)) for k, v in changes["query"].items()))
        return replace(self, **changes)

    def option(self, key: str) -> str | None:
        """The value of another libpq keyword (``sslmode``, ``options``, …), or None."""
        return dict(self.query).get(key)

    # ------------------------------------------------------------------ rendering

    def params(self) -> dict[str, str]:
        """Keyword arguments of ``psycopg2.connect`` (libpq keyword names), password included."""
        main = {
            "host": self.host,
            "port": self.port,
            "user": self.username,
            "password": self.password,
            "dbname": self.database,
        }
        return {**{k: v for k, v in main.items() if v is not None}, **dict(self.query)}

    def url(self) -> str:
        """The ``postgresql://`` URL with the password (for psql and libpq-based tools)."""
        return self._render(mask=False)

    def masked(self) -> str:
        """The ``postgresql://`` URL with every secret replaced by ``***``."""
        return self._render(mask=True)

    @property
    def where(self) -> str:
        """``user@host:port/database`` for messages: never the password."""
        user = f"{self.username}@" if self.username else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.host or 'localhost'}{port}/{self.database or ''}"

    def sqlalchemy(self) -> URL:
        """The SQLAlchemy URL (``postgresql+psycopg2``) of this target; imports SQLAlchemy."""
        from sqlalchemy.engine import URL

        query = dict(self.query)
        single = self.host is not None and "," not in self.host
        port = self.port if self.port and self.port.isdigit() and single else None
        if not single and self.host is not None:
            query["host"] = self.host
        if self.port and port is None:
            query["port"] = self.port
        return URL.create(
            "postgresql+psycopg2",
            username=self.username,
            password=self.password,
            host=self.host if single else None,
            port=int(port) if port else None,
            database=self.database,
            query=query,
        )

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"Dsn({self.masked()!r})"

    def _render(self, *, mask: bool) -> str:
        query = list(self.query)
        host = self.host or ""
        port = self.port or ""
        authority = ""
        # Host lists and socket directories go into the query, where libpq reads them as written.
        if "," in host or "," in port or host.startswith(("/", "@")):
            query = [*(("host", host),) * bool(host), *(("port", port),) * bool(port), *query]
        else:
            authority = f"[{host}]" if ":" in host else quote(host, safe="")
            authority += f":{port}" if port else ""
        userinfo = ""
        if self.username is not None or self.password is not None:
            userinfo = quote(self.username or "", safe="")
            if self.password is not None:
                userinfo += ":" + (MASK if mask else quote(self.password, safe=""))
            userinfo += "@"
        text = f"postgresql://{userinfo}{authority}"
        if self.database is not None:
            text += "/" + quote(self.database, safe="")
        if query:
            text += "?" + "&".join(
                f"{quote(k, safe='')}={MASK if mask and k in SECRET_KEYS else quote(v, safe='')}"
                for k, v in query
            )
        return text


def mask_whole(text: str) -> str:
    """``text`` as a DSN that did not parse cleanly may be shown: no part of a password left.

    In a URL everything between ``scheme://`` and the last ``@`` is masked; in key=value settings
    everything from the first password keyword on.
    """
    scheme = _SCHEME.match(text)
    if scheme is not None:
        rest = text[scheme.end() :]
        at = rest.rfind("@")
        return text if at < 0 else f"{text[: scheme.end()]}{MASK}{rest[at:]}"
    secret = _KV_SECRET.search(text)
    return text if secret is None else f"{text[: secret.end()]}{MASK}"


def presumed_password(text: str) -> str | None:
    """The password a DSN that does not parse meant, to scrub it (and its pieces) from output."""
    scheme = _SCHEME.match(text.strip())
    if scheme is not None:
        rest = text.strip()[scheme.end() :]
        at = rest.rfind("@")
        _, colon, password = rest[: max(at, 0)].partition(":")
        return password if colon and password else None
    secret = _KV_SECRET.search(text)
    if secret is None:
        return None
    value = text[secret.end() :].strip()
    if value.startswith("'"):
        return value[1:].split("'", 1)[0] or None
    return value.split(None, 1)[0] if value else None


def _parse_reason(exc: BaseException) -> str:
    """libpq's parse error, one line, with every fragment of the input it quotes masked."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _QUOTED.sub(lambda m: m[0] if m[0] in _HARMLESS_QUOTED else f'"{MASK}"', text)
