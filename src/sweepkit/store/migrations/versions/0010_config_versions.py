"""Every version of each sweep's config, with its time and what changing to it did; the config a sweep
has when this migration runs becomes its version 1 (dated when the sweep was created).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_configs",
        sa.Column(
            "sweep_id",
            sa.String(16),
            sa.ForeignKey("sweeps.id", ondelete="CASCADE", name="fk_sweep_configs_sweep_id_sweeps"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite"), nullable=False
        ),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("sweep_id", "version", name="pk_sweep_configs"),
    )
    op.execute(
        "INSERT INTO sweep_configs (sweep_id, version, created_at, config, source, changes) "
        "SELECT id, 1, created_at, config, source, NULL FROM sweeps"
    )


def downgrade() -> None:
    op.drop_table("sweep_configs")
