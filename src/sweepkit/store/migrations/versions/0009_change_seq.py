"""A change counter per sweep, stamped on the runs that end for good or are retried, so that a claim reads
only the runs that changed since the last one (``StoreTx.changed_runs``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sweeps", sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("sweeps", sa.Column("reset_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("runs", sa.Column("change_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_runs_sweep_id_change_seq", "runs", ["sweep_id", "change_seq"])


def downgrade() -> None:
    op.drop_index("ix_runs_sweep_id_change_seq", table_name="runs")
    op.execute("ALTER TABLE runs DROP COLUMN change_seq")
    op.execute("ALTER TABLE sweeps DROP COLUMN reset_seq")
    op.execute("ALTER TABLE sweeps DROP COLUMN change_seq")
