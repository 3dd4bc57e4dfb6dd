"""Who may see the dashboard and who may control sweeps: the ``authorize`` hook and its local default.

Every JSON endpoint of the dashboard asks the hook ``authorize(request, scope)`` first, with
``scope`` either ``"read"`` (every GET) or ``"admin"`` (pausing, resuming, stopping, cancelling).
The hook allows by returning ``True``; it refuses by returning anything else (the answer is 403
with one sentence) or by raising ``starlette.exceptions.HTTPException`` itself (401 when no valid
token came, say). It may be a plain function (run in a worker thread) or a coroutine function.

``sweepkit server`` supplies a token check. ``sweepkit ui`` has no tokens and uses
:func:`loopback_only`: it allows every scope to a browser on this machine that reached the server by
a loopback name (which also defeats DNS rebinding; the names and the rule are
``sweepkit.allowed_hosts``, which ``sweepkit server`` applies to every request).

Controls are POST only, with a JSON body: a page on another site cannot send that without the
browser asking first, and :func:`same_origin_post` refuses a request whose ``Origin`` is another
site's. The page sends a token it was given in the ``Authorization: Bearer`` header; no token or
other secret is ever written into a page.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from sweepkit.allowed_hosts import HostPolicy, host_name, is_loopback

__all__ = [
    "ADMIN",
    "READ",
    "SCOPES",
    "Authorize",
    "is_loopback",
    "loopback_only",
    "require",
    "same_origin_post",
]

#: Seeing sweeps, runs, charts and logs.
READ = "read"
#: Pausing, resuming, stopping and cancelling sweeps.
ADMIN = "admin"
SCOPES = (READ, ADMIN)

#: ``authorize(request, scope)``: True allows; see the module docstring.
Authorize = Callable[[Request, str], bool | Awaitable[bool]]

#: Same origin only: a control request's ``Origin`` must name the host and port it was sent to.
_SAME_ORIGIN = HostPolicy(own_names=False)


def loopback_only(request: Request, scope: str) -> bool:
    """Allow every scope to a client on this machine that addressed the server by a loopback name."""
    client = request.client.host if request.client else None
    return is_loopback(client) and is_loopback(host_name(request.headers.get("host", "")))


async def require(authorize: Authorize, request: Request, scope: str) -> None:
    """Ask ``authorize``; raise 403 with one sentence unless it answers True."""
    if inspect.iscoroutinefunction(authorize):
        allowed = await authorize(request, scope)
    else:
        allowed = await run_in_threadpool(authorize, request, scope)
        if inspect.isawaitable(allowed):
            allowed = await allowed
    if allowed is not True:
        what = "see sweeps" if scope == READ else "control sweeps"
        raise HTTPException(403, f"This needs a token with the '{scope}' scope to {what}.")


def same_origin_post(request: Request) -> None:
    """Refuse a control request that a page of another site could have sent (403), or that is not JSON (415)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "Send controls as JSON (Content-Type: application/json).")
    # The host, not the scheme: behind a TLS proxy the page is https and this request may be http.
    foreign = not _SAME_ORIGIN.allows_origin(request.headers.get("origin"), request.headers.get("host", ""))
    if foreign or request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "Controls must come from the dashboard's own pages.")
