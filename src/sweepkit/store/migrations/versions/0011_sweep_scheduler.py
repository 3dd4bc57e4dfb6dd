"""Where each sweep's user scheduler process (``sweepkit scheduler``) runs and when it was last heard
from: three nullable columns of ``sweeps`` (2026-12-07)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import new_columns, timestamp

revision, down_revision = "0011", "0010"

upgrade, downgrade = new_columns(
    ("sweeps", sa.Column("scheduler_host", sa.String(255), nullable=True)),
    ("sweeps", sa.Column("scheduler_pid", sa.Integer(), nullable=True)),
    ("sweeps", sa.Column("scheduler_seen_at", timestamp(), nullable=True)),
)
