"""What runs print: the first and the newest characters of each run's output (2026-12-02)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import belongs_to, ids, new_table

revision, down_revision = "0003", "0002"

upgrade, downgrade = new_table(
    "run_output",
    *ids("run_id"),
    sa.Column("head", sa.Text(), nullable=False),
    sa.Column("tail", sa.Text(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    key=("run_id",),
    extra=(belongs_to("run_output", "run_id", "runs"),),
)
