"""Every version of each sweep's config, with its time and what changing to it did; the config a sweep
has when this migration runs becomes its version 1 (dated when the sweep was created) (2026-12-07)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sweepkit.store.migrations.ops import belongs_to, ids, new_table, timestamp

revision, down_revision = "0010", "0009"

_create, downgrade = new_table(
    "sweep_configs",
    *ids("sweep_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("config", sa.JSON(), nullable=False),
    sa.Column("source", sa.Text(), nullable=True),
    sa.Column("changes", sa.JSON(), nullable=True),
    key=("sweep_id", "version"),
    extra=(belongs_to("sweep_configs", "sweep_id", "sweeps"),),
)


def upgrade() -> None:
    _create()
    op.execute(
        "INSERT INTO sweep_configs (sweep_id, version, created_at, config, source, changes) "
        "SELECT id, 1, created_at, config, source, NULL FROM sweeps"
    )
