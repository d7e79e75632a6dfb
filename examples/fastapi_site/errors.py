"""Errors of the reference site, apart from the harness's: the site is the system under contract."""

from __future__ import annotations


class SiteError(Exception):
    """Root of the errors the reference site raises on purpose."""


class ReadOnlyError(SiteError):
    """Something tried to write to a production-bound Billig database."""
