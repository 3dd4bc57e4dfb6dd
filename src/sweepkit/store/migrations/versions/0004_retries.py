"""Retried runs: a run re-run by ``retry_runs`` points at its retry, the retry at the run it re-runs
(2026-12-02).

``runs.retried_by`` marks a run whose parameters were queued again (the id of the new run);
``runs.retry_of`` marks the new run (the id of the run it re-runs). ``sweeps.retry_count`` counts
the runs a sweep handed out as retries: they come on top of ``run_cap``. Retries wait in state
``pending`` until an agent claims them. Existing rows need nothing: no run was retried before.
"""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.migrations.ops import ids, new_columns

revision, down_revision = "0004", "0003"

upgrade, downgrade = new_columns(
    *(("runs", column) for column in ids("retry_of", "retried_by", nullable=True)),
    ("sweeps", sa.Column("retry_count", sa.Integer(), nullable=False, server_default=sa.text("0"))),
)
