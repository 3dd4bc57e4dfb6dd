"""The config of a sweep as its author wrote it (the file's text), beside the validated one (2026-12-02)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import new_columns

revision, down_revision = "0006", "0005"

upgrade, downgrade = new_columns(("sweeps", sa.Column("source", sa.Text(), nullable=True)))
