"""Access tokens of a sweepkit server: their form, their hash and their scopes.

A token reads ``skt_<id>_<secret>``: ``id`` (8 characters) names its row in the store, ``secret`` is
32 random bytes in URL-safe base64. Only the SHA-256 hash of the whole token is stored; a token is
checked by comparing hashes in constant time (``hmac.compare_digest``). With 256 random bits a plain
hash is enough (there is nothing to brute-force that a slow hash would protect).

Scopes are ordered: ``read`` (queries) < ``agent`` (also claim, log, heartbeat, finish, standalone
runs) < ``admin`` (also create and control sweeps, and manage tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX = "skt_"
SCOPES = ("read", "agent", "admin")
_FORM = re.compile(r"skt_([a-z0-9]{8})_([A-Za-z0-9_-]{43})")
#: Compared against when a token names no known row, so that an unknown id costs the same time.
_DUMMY_HASH = hashlib.sha256(b"sweepkit: no such token").hexdigest()


def new_secret(token_id: str) -> str:
    """A fresh token for the row ``token_id``."""
    return f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The hash stored for ``token`` (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_id(token: str) -> str | None:
    """The row id named by ``token``, or None when it does not have a token's form."""
    match = _FORM.fullmatch(token)
    return match.group(1) if match else None


def matches(token: str, stored_hash: str | None) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, in time that does not depend on where they differ."""
    return hmac.compare_digest(token_hash(token), stored_hash or _DUMMY_HASH) and stored_hash is not None


def check_scope(scope: str) -> str:
    """``scope`` if it is one of SCOPES; ValueError otherwise."""
    if scope not in SCOPES:
        raise ValueError(f"scope: expected one of {', '.join(SCOPES)}, got {scope!r}")
    return scope


def allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return scope in SCOPES and SCOPES.index(scope) >= SCOPES.index(needed)
