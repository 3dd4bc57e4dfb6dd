"""The store's access tokens: rows holding a token's name, scope and the hash of its secret.

Only the local sweep service uses these (``LocalSweepService.create_token``, ``authenticate``...). A
revoked token keeps its row, with ``revoked_at`` set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from sweepkit.errors import NotFoundError
from sweepkit.store.schema import tokens
from sweepkit.store.sqltypes import utcnow
from sweepkit.store.store import Store, new_id

#: ``last_used_at`` is written at most this often per token (a write per request would cost more).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str | None
    scope: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: sa.Row) -> TokenRecord:
    m = row._mapping
    return TokenRecord(
        id=m["id"],
        name=m["name"],
        scope=m["scope"],
        secret_hash=m["secret_hash"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


def new_token_id() -> str:
    return new_id()


def create_token(
    store: Store, token_id: str, *, scope: str, name: str | None, secret_hash: str
) -> TokenRecord:
    """Record a token (its hash only)."""
    stmt = (
        sa.insert(tokens)
        .values(
            id=token_id,
            name=name,
            scope=scope,
            secret_hash=secret_hash,
            created_at=utcnow(),
            last_used_at=None,
            revoked_at=None,
        )
        .returning(*tokens.c)
    )
    return store.transact(lambda t: _record(t.conn.execute(stmt).one()))


def list_tokens(store: Store) -> list[TokenRecord]:
    """Every token, oldest first (revoked ones too)."""
    stmt = sa.select(tokens).order_by(tokens.c.created_at, tokens.c.id)
    return store.transact(lambda t: [_record(r) for r in t.conn.execute(stmt)], write=False)


#: Looked up on every request of a server that needs tokens: built once.
_BY_ID = sa.select(tokens).where(tokens.c.id == sa.bindparam("token_id"))


def get_token(store: Store, token_id: str) -> TokenRecord | None:
    def tx(t) -> TokenRecord | None:
        row = t.conn.execute(_BY_ID, {"token_id": token_id}).first()
        return None if row is None else _record(row)

    return store.transact(tx, write=False)


def any_token(store: Store) -> bool:
    """Whether a token was ever created (revoked ones count: a protected server stays protected)."""
    stmt = sa.select(tokens.c.id).limit(1)
    return store.transact(lambda t: t.conn.execute(stmt).first() is not None, write=False)


def revoke_token(store: Store, token_id: str) -> TokenRecord:
    """Revoke a token (idempotent: a revoked token keeps its first revocation time)."""

    def tx(t) -> TokenRecord:
        t.conn.execute(
            sa.update(tokens)
            .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        row = t.conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token {token_id!r} in {store.url}")
        return _record(row)

    return store.transact(tx)


def touch_token(store: Store, token_id: str) -> None:
    """Note that the token was used now (database clock)."""
    stmt = sa.update(tokens).where(tokens.c.id == token_id).values(last_used_at=utcnow())
    store.transact(lambda t: t.conn.execute(stmt), durable=False)
