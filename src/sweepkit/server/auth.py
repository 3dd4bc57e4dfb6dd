"""Who may do what: a request's token, its scope, and a brake on failed attempts.

Until the store holds a token, requests need none (``serve`` then listens on loopback only). Once one
was ever created, every request needs a live one: ``Authorization: Bearer <token>``. Scopes are
ordered (read < agent < admin, see ``sweepkit.service.tokens``). Each request looks its token up in
the store, so a revoked token stops working at once; hashes are compared in constant time.

The brake slows bad tokens, never a valid one: once a client address sent ``MAX_FAILURES`` bad
tokens within ``WINDOW_S`` seconds, its further bad tokens are answered 429 with ``Retry-After``
(until the oldest failure ages out) instead of 401, so that sweepkit's clients back off, and the log
says so once per window instead of once per attempt. A valid token is always looked up and always
works, from any address: a revoked agent retrying, or a script guessing, never locks out the admin
or the running agents of the same host. (Secrets are 256 random bits, so the brake is not what
stops guessing; it keeps a misbehaving client from filling the log.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from sweepkit import env
from sweepkit.service import caller
from sweepkit.service.tokens import allows

MAX_FAILURES = 10
WINDOW_S = 60.0

log = logging.getLogger("sweepkit.server")


class Refused(Exception):
    """A request refused before it reached the service (401, 403 or 429)."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class Guard:
    """Checks each request's token against the service's store (see the module docstring)."""

    def __init__(self, service: Any, *, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.service = service
        self.max_failures = max_failures
        self.window_s = window_s
        self._required = False
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def required(self) -> bool:
        """Whether requests need a token (once true, true for good: tokens are never deleted)."""
        if not self._required:
            self._required = self.service.tokens_required()
        return self._required

    def known_required(self) -> bool:
        """Whether requests are already known to need a token (never asks the store)."""
        return self._required

    def check(self, client: str, authorization: str | None, needed: str, what: str):
        """The caller's ``TokenInfo`` (None on a server without tokens); ``Refused`` otherwise."""
        if authorization is None:
            if not self.required():
                return None
            raise Refused(
                401,
                f"this server needs a token: send 'Authorization: Bearer TOKEN' (sweepkit clients send {env.TOKEN})",
            )
        scheme, _, token = authorization.strip().partition(" ")
        info = (
            self.service.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        )
        if info is None:
            count, wait = self._failed(client)
            if count <= self.max_failures:
                log.warning(
                    "refused a request from %s: unknown, malformed or revoked token (%d failed attempt%s in %g s)%s",
                    client,
                    count,
                    "" if count == 1 else "s",
                    self.window_s,
                    "; its further bad tokens are answered 429" if count == self.max_failures else "",
                )
                raise Refused(401, "the token is unknown or revoked")
            raise Refused(
                429,
                f"too many failed attempts from {client}: the token is unknown or revoked; "
                f"try again in {wait:.0f} s",
                retry_after=max(1.0, wait),
            )
        if not allows(info.scope, needed):
            log.warning(
                "refused token %s (scope %s) from %s: %s needs scope %s",
                info.id,
                info.scope,
                client,
                what,
                needed,
            )
            label = f"token {info.id}" + (f" ({info.name})" if info.name else "")
            raise Refused(403, f"{label} has scope {info.scope}; {what} needs scope {needed}")
        caller.set_current(info)  # the service binds agents and runs to it (sweepkit.service.caller)
        return info

    def _failed(self, client: str) -> tuple[int, float]:
        """Record a bad token from ``client``: its failures within the window, and the seconds until
        the oldest of them ages out."""
        now = time.monotonic()
        with self._lock:
            recent = self._failures.setdefault(client, deque())
            while recent and recent[0] <= now - self.window_s:
                recent.popleft()
            recent.append(now)
            while len(recent) > self.max_failures + 1:  # the count stays above the limit; memory stays small
                recent.popleft()
            if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
                for key in [k for k, q in self._failures.items() if q[-1] <= now - self.window_s]:
                    del self._failures[key]
            return len(recent), recent[0] + self.window_s - now
