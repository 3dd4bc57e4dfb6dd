"""Credentials bound to work: the token each agent registered with (its runs are bound to it, and
writes to them from another agent token are refused).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("token_id", sa.String(16), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE agents DROP COLUMN token_id")
