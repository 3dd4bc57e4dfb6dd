"""Who may do what: a request's token, its scope, and a brake on failed attempts.

Until the store holds a token, requests need none (``serve`` then listens on loopback only). Once one
was ever created, every request needs a live one: ``Authorization: Bearer <token>``. Scopes are
ordered (read < agent < admin, see ``sweepkit.service.tokens``). Each request looks its token up in
the store, so a revoked token stops working at once; hashes are compared in constant time.

A client address that sent ``MAX_FAILURES`` bad tokens within ``WINDOW_S`` seconds is answered 429
until the oldest of them ages out, before its token is even looked at; every failure is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from sweepkit import env
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
        self._brake(client)
        scheme, _, token = authorization.strip().partition(" ")
        info = (
            self.service.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        )
        if info is None:
            count = self._failed(client)
            log.warning(
                "refused a request from %s: unknown, malformed or revoked token (%d failed attempt%s in %g s)",
                client,
                count,
                "" if count == 1 else "s",
                self.window_s,
            )
            raise Refused(401, "the token is unknown or revoked")
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
        return info

    def _brake(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            recent = self._failures.get(client)
            if recent is None:
                return
            while recent and recent[0] <= now - self.window_s:
                recent.popleft()
            if not recent:
                del self._failures[client]
                return
            if len(recent) >= self.max_failures:
                wait = recent[0] + self.window_s - now
                raise Refused(
                    429,
                    f"too many failed attempts from {client}: try again in {wait:.0f} s",
                    retry_after=max(1.0, wait),
                )

    def _failed(self, client: str) -> int:
        now = time.monotonic()
        with self._lock:
            recent = self._failures.setdefault(client, deque())
            recent.append(now)
            if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
                for key in [k for k, q in self._failures.items() if q[-1] <= now - self.window_s]:
                    del self._failures[key]
            return len(recent)
