"""What a sweep's search method kept of its ended runs, saved so that a new process need not read
every run again (``sweep_digests``; a cache: dropping it loses nothing) (2026-12-07)."""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import belongs_to, ids, new_table

revision, down_revision = "0012", "0011"

upgrade, downgrade = new_table(
    "sweep_digests",
    *ids("sweep_id"),
    sa.Column("change_seq", sa.BigInteger(), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    key=("sweep_id",),
    extra=(belongs_to("sweep_digests", "sweep_id", "sweeps"),),
)
