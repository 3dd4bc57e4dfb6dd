"""Access tokens of a sweepkit server (only a hash of each secret is stored) (2026-12-02)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import ids, new_table, timestamp

revision, down_revision = "0005", "0004"

upgrade, downgrade = new_table(
    "tokens",
    *ids("id"),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    *(sa.Column(name, timestamp(), nullable=True) for name in ("last_used_at", "revoked_at")),
)
