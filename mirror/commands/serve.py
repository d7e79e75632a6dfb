"""``billig serve``: the site's Billig API on a mirror, or a command run against it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from datetime import datetime

from mirror.commands.console import Echo, echo, sigterm_as_interrupt
from mirror.commands.mirror import configured_mirror, reference_time
from mirror.config import load_config
from mirror.errors import EXIT_INTERRUPTED, UsageError


def serve_site(
    *,
    dsn: str | None = None,
    site_db: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    provider: str = "auto",
    events: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    command: Sequence[str] = (),
    out: Echo = echo,
) -> int:
    """Serve the API until Ctrl-C (exit 0), or run ``command`` against it (its exit code)."""
    from mirror.secrets import redact
    from mirror.serve import BackgroundServer, base_url, bind, require_server, serve_forever
    from mirror.sources.site_loading import load_site

    require_server()
    now = reference_time(now)
    config = load_config(overrides={"events": events, "seed": seed})
    site = load_site(config)
    serving = getattr(site, "serving", None)
    if site is None or not callable(serving):
        raise UsageError("billig serve needs a site with an app ([tool.billig] site)")
    sock = bind(host, port)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(sigterm_as_interrupt())
            if dsn:
                billig, billig_shown = dsn, redact(dsn)
            else:
                m = stack.enter_context(configured_mirror(provider, config, now=now))
                billig = m.full_url
                billig_shown = f"{m.masked_url} (fresh mirror, provider {m.provider})"
            app, site_shown = stack.enter_context(serving(billig, site_db))
            url = base_url(sock)
            out(f"Billig: {billig_shown}", err=True)
            out(f"site:   {site_shown}", err=True)
            if not command:
                out(f"serving the API on {url} (OpenAPI: {url}/openapi.json)")
                out("press Ctrl-C to stop", err=True)
                # uvicorn stops cleanly on Ctrl-C; the databases are torn down below.
                with contextlib.suppress(KeyboardInterrupt):
                    serve_forever(app, sock)
                out("stopping the API", err=True)
                return 0
            with BackgroundServer(app, sock) as server:
                env = dict(os.environ, BILLIG_API_URL=server.url)
                args = [a.replace("$BILLIG_API_URL", server.url) for a in command]
                out(f"API ready on {server.url}; running {args[0]}", err=True)
                try:
                    return subprocess.run(args, env=env).returncode
                except FileNotFoundError:
                    raise UsageError(f"command not found: {command[0]}") from None
                except KeyboardInterrupt:
                    return EXIT_INTERRUPTED
    finally:
        sock.close()
