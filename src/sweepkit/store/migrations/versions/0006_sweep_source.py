"""The config of a sweep as its author wrote it (the file's text), beside the validated one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sweeps", sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE sweeps DROP COLUMN source")
