"""Who is calling the service: the token of the server request being handled, or nobody.

``sweepkit server`` authenticates each request (``sweepkit.server.auth``) and sets the caller here
for the rest of that request (a context variable: each request's own, on its own thread); the local
service reads it to bind work to credentials (an agent to the token it registered with, and so each
run to its agent's token). In-process callers and a server without tokens have no caller: they
are trusted as the store's own users.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_CALLER: ContextVar[Any] = ContextVar("sweepkit_caller", default=None)


def current() -> Any:
    """The ``TokenInfo`` of the request being served, or None."""
    return _CALLER.get()


def set_current(token: Any) -> None:
    """Make ``token`` (a ``TokenInfo``, or None) the caller for the rest of this context."""
    _CALLER.set(token)
