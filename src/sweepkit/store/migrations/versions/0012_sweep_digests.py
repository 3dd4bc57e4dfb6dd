"""What a sweep's search method kept of its ended runs, saved so that a new process need not read
every run again (``sweep_digests``; a cache: dropping it loses nothing).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_digests",
        sa.Column(
            "sweep_id",
            sa.String(16),
            sa.ForeignKey("sweeps.id", ondelete="CASCADE", name="fk_sweep_digests_sweep_id_sweeps"),
            nullable=False,
        ),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", name="pk_sweep_digests"),
    )


def downgrade() -> None:
    op.drop_table("sweep_digests")
