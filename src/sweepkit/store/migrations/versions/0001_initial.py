"""The first schema: sweeps, agents, runs and their history.

Created 2026-01-01.

Tables are spelt out here as they are at this revision (no import of the runtime schema), so later
changes to ``sweepkit.store.schema`` never change what this migration does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sweepkit.store.migrations.ops import belongs_to, ids, timestamp

revision, down_revision = "0001", None


def _timestamps(*names: str, nullable: bool) -> list[sa.Column]:
    return [sa.Column(name, timestamp(), nullable=nullable) for name in names]


def _texts(*names: str, length: int | None = None, nullable: bool = True) -> list[sa.Column]:
    kind = sa.Text() if length is None else sa.String(length)
    return [sa.Column(name, kind, nullable=nullable) for name in names]


def upgrade() -> None:
    op.create_table(
        "sweeps",
        *ids("id"),
        *_texts("project", "entity", "name", length=255),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        *_timestamps("created_at", "updated_at", nullable=False),
        *_texts("finished_reason"),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sweeps"),
    )
    op.create_index("ix_sweeps_project_created_at", "sweeps", ["project", "created_at"])
    op.create_index("ix_sweeps_created_at", "sweeps", ["created_at"])

    op.create_table(
        "agents",
        *ids("id"),
        *ids("sweep_id", nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        *_timestamps("created_at", nullable=False),
        *_timestamps("heartbeat_at", "finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        belongs_to("agents", "sweep_id", "sweeps"),
    )
    op.create_index("ix_agents_sweep_id", "agents", ["sweep_id"])

    op.create_table(
        "runs",
        *ids("id"),
        *ids("sweep_id", nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        *_texts("project", "name", length=255),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("metric_history", sa.JSON(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        *_timestamps("created_at", nullable=False),
        *_timestamps("started_at", "finished_at", "heartbeat_at", nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        *ids("agent_id", nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        *_texts("stop_reason"),
        sa.Column("stop_info", sa.JSON(), nullable=True),
        sa.Column("suggestion_info", sa.JSON(), nullable=False),
        *_texts("error"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        belongs_to("runs", "sweep_id", "sweeps"),
        belongs_to("runs", "agent_id", "agents", on_delete="SET NULL"),
        sa.UniqueConstraint("sweep_id", "number", name="uq_runs_sweep_id_number"),
    )
    op.create_index("ix_runs_sweep_id_state", "runs", ["sweep_id", "state"])
    op.create_index("ix_runs_state_heartbeat_at", "runs", ["state", "heartbeat_at"])
    op.create_index("ix_runs_project_created_at", "runs", ["project", "created_at"])

    op.create_table(
        "history",
        *ids("run_id"),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step", name="pk_history"),
        belongs_to("history", "run_id", "runs"),
    )


def downgrade() -> None:
    for table in ("history", "runs", "agents", "sweeps"):
        op.drop_table(table)
