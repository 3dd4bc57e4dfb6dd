"""What the server does around every request, before any route: checks ``Host`` and ``Origin``, logs
the request when asked, and compresses large answers.

Order, outermost first: the access log (so that it sees refusals too), the host check
(``sweepkit.allowed_hosts``: 403 for a name that is not the server's, or a page of another site), and
gzip for answers over 2 KiB to clients that accept it (httpx and browsers do). The access log is
one line per request on the ``sweepkit.server`` logger: client, method, path, status and time;
never the query string or a header, so never a token.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware

from sweepkit.allowed_hosts import HostPolicy
from sweepkit.printable import printable
from sweepkit.service.wire import dumps, error_body

log = logging.getLogger("sweepkit.server")

#: Answers smaller than this are sent as they are.
GZIP_MIN_BYTES = 2048


def install(app: Any, *, policy: HostPolicy, access_log: bool = False) -> None:
    """Wrap ``app`` (a Starlette application, before it starts) in the server's middleware."""
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=1)
    app.add_middleware(HostCheck, policy=policy)
    if access_log:
        app.add_middleware(AccessLog)


class HostCheck:
    """Refuses (403) a request whose ``Host`` is not the server's or whose ``Origin`` is another site."""

    def __init__(self, app: Any, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if not self.policy.allows_host(host):
            message = (
                f"this server does not answer to the host name {_shown(host)}: allow it with "
                "`sweepkit server --allowed-host NAME` (or SWEEPKIT_ALLOWED_HOSTS) if it is this server's name"
            )
        elif not self.policy.allows_origin(origin, host):
            message = (
                f"requests from pages of {_shown(origin)} are refused: only the server's own pages "
                "(or names allowed with --allowed-host) may call it from a browser"
            )
        else:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        log.warning(
            "refused %s %s from %s: %s", scope["method"], scope["path"], client[0] if client else "?", message
        )
        body = dumps(error_body("AccessDenied", message, 403))
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One line per request: client, method, path, status, milliseconds (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            log.info(
                "%s %s %s %d %.1f ms",
                client[0] if client else "-",
                scope["method"],
                printable(scope["path"][:500]),
                status[0],
                (time.perf_counter() - started) * 1000,
            )


def _shown(text: str | None) -> str:
    """``text`` quoted for a log line or a message, cut short, without control characters."""
    if text is None:
        return "(none)"
    return repr(printable(text[:200]))
