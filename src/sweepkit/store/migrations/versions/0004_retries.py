"""Retried runs: a run re-run by ``retry_runs`` points at its retry, the retry at the run it re-runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

``runs.retried_by`` marks a run whose parameters were queued again (the id of the new run);
``runs.retry_of`` marks the new run (the id of the run it re-runs). ``sweeps.retry_count`` counts
the runs a sweep handed out as retries: they come on top of ``run_cap``. Retries wait in state
``pending`` until an agent claims them. Existing rows need nothing: no run was retried before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("retry_of", sa.String(16), nullable=True))
    op.add_column("runs", sa.Column("retried_by", sa.String(16), nullable=True))
    op.add_column(
        "sweeps", sa.Column("retry_count", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sweeps DROP COLUMN retry_count")
    op.execute("ALTER TABLE runs DROP COLUMN retried_by")
    op.execute("ALTER TABLE runs DROP COLUMN retry_of")
