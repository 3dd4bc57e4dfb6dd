"""Where agents run their runs: each agent's working directory and the GPUs of each of its slots, and
the slot each run ran in (the dashboard's agents view and its runs' files) (2026-12-07)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import new_columns

revision, down_revision = "0007", "0006"

upgrade, downgrade = new_columns(
    ("agents", sa.Column("workdir", sa.Text(), nullable=True)),
    ("agents", sa.Column("slots", sa.JSON(), nullable=True)),
    ("runs", sa.Column("slot", sa.Integer(), nullable=True)),
)
