"""A change counter per sweep, stamped on the runs that end for good or are retried, so that a claim reads
only the runs that changed since the last one (``StoreTx.changed_runs``) (2026-12-07)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import new_columns

revision, down_revision = "0009", "0008"

upgrade, downgrade = new_columns(
    ("sweeps", sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0")),
    ("sweeps", sa.Column("reset_seq", sa.BigInteger(), nullable=False, server_default="0")),
    ("runs", sa.Column("change_seq", sa.BigInteger(), nullable=True)),
    index=("ix_runs_sweep_id_change_seq", "runs", ["sweep_id", "change_seq"]),
)
