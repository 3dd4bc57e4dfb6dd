"""Credentials bound to work: the token each agent registered with (its runs are bound to it, and
writes to them from another agent token are refused) (2026-12-07)."""

from __future__ import annotations

from sweepkit.store.migrations.ops import ids, new_columns

revision, down_revision = "0008", "0007"

upgrade, downgrade = new_columns(*(("agents", column) for column in ids("token_id", nullable=True)))
