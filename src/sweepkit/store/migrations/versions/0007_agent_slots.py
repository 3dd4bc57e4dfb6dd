"""Where agents run their runs: each agent's working directory and the GPUs of each of its slots, and
the slot each run ran in (the dashboard's agents view and its runs' files).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("workdir", sa.Text(), nullable=True))
    op.add_column("agents", sa.Column("slots", sa.JSON(), nullable=True))
    op.add_column("runs", sa.Column("slot", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE runs DROP COLUMN slot")
    op.execute("ALTER TABLE agents DROP COLUMN slots")
    op.execute("ALTER TABLE agents DROP COLUMN workdir")
