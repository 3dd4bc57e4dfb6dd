"""The first schema: sweeps, agents, runs and their history.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Tables are spelt out here as they are at this revision (no import of the runtime schema), so later
changes to ``sweepkit.store.schema`` never change what this migration does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp() -> sa.types.TypeEngine:
    # timestamptz on PostgreSQL; sortable "YYYY-MM-DD HH:MM:SS.fff" UTC text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("project", sa.String(255), nullable=True),
        sa.Column("entity", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("finished_reason", sa.Text(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sweeps"),
    )
    op.create_index("ix_sweeps_project_created_at", "sweeps", ["project", "created_at"])
    op.create_index("ix_sweeps_created_at", "sweeps", ["created_at"])

    op.create_table(
        "agents",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("sweep_id", sa.String(16), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("heartbeat_at", _timestamp(), nullable=True),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.id"], name="fk_agents_sweep_id_sweeps", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_agents_sweep_id", "agents", ["sweep_id"])

    op.create_table(
        "runs",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("sweep_id", sa.String(16), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("project", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("metric_history", sa.JSON(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=True),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("heartbeat_at", _timestamp(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.String(16), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("stop_info", sa.JSON(), nullable=True),
        sa.Column("suggestion_info", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.id"], name="fk_runs_sweep_id_sweeps", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_runs_agent_id_agents", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("sweep_id", "number", name="uq_runs_sweep_id_number"),
    )
    op.create_index("ix_runs_sweep_id_state", "runs", ["sweep_id", "state"])
    op.create_index("ix_runs_state_heartbeat_at", "runs", ["state", "heartbeat_at"])
    op.create_index("ix_runs_project_created_at", "runs", ["project", "created_at"])

    op.create_table(
        "history",
        sa.Column("run_id", sa.String(16), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step", name="pk_history"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_history_run_id_runs", ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("history")
    op.drop_table("runs")
    op.drop_table("agents")
    op.drop_table("sweeps")
