"""Where each sweep's user scheduler process (``sweepkit scheduler``) runs and when it was last heard
from: three nullable columns of ``sweeps``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sweeps", sa.Column("scheduler_host", sa.String(255), nullable=True))
    op.add_column("sweeps", sa.Column("scheduler_pid", sa.Integer(), nullable=True))
    op.add_column(
        "sweeps",
        sa.Column(
            "scheduler_seen_at",
            sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite"),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sweeps DROP COLUMN scheduler_seen_at")
    op.execute("ALTER TABLE sweeps DROP COLUMN scheduler_pid")
    op.execute("ALTER TABLE sweeps DROP COLUMN scheduler_host")
