"""Metric aggregates instead of a metric history; log batch sequence numbers; claim keys.

Created 2026-12-02.

``runs.metric_history`` (every value of the sweep metric, rewritten on each log) becomes
``runs.metric``: count, last, min, max and the values at hyperband's band iterations, computed here
from the old list. ``runs.log_seq`` makes retried log batches idempotent, ``runs.claim_key`` retried
claims. Self-contained on purpose (it imports nothing of sweepkit that could change later).
"""

from __future__ import annotations

import json
import math
import numbers

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0002", "0001"


def _bands(early_terminate) -> set[int]:
    """Hyperband's band iterations as sweepkit 0.1 computed them (see sweepkit.stopping.hyperband)."""
    if not isinstance(early_terminate, dict):
        return set()
    eta = early_terminate.get("eta", 3)
    found: list[float] = []
    try:
        if "max_iter" in early_terminate and "s" in early_terminate:
            band = float(early_terminate["max_iter"])
            for _ in range(int(early_terminate["s"])):
                band /= eta
                if band < 1:
                    break
                found.append(band)
        elif "min_iter" in early_terminate:
            band = float(early_terminate["min_iter"])
            for _ in range(100):
                if band > 2**53:
                    break
                found.append(band)
                band *= eta
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return set()
    return {int(b) for b in found if int(b) >= 1}


def _value(value):
    if isinstance(value, str):  # non-finite floats were stored as text
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def _stats(history, bands: set[int]) -> dict:
    values = [v for v in map(_value, history or []) if v is not None]
    return {
        "count": len(values),
        "last": values[-1] if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "bands": {str(i): values[i - 1] for i in sorted(bands) if i <= len(values)},
        "summary": None,
    }


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.add_column("runs", sa.Column("metric", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column("runs", sa.Column("log_seq", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
    op.add_column("runs", sa.Column("claim_key", sa.String(64), nullable=True))
    op.create_index("ix_runs_claim_key", "runs", ["claim_key"], unique=True)

    conn = op.get_bind()
    bands = {
        sweep_id: _bands((_json(config) or {}).get("early_terminate"))
        for sweep_id, config in conn.execute(sa.text("SELECT id, config FROM sweeps"))
    }
    rows = conn.execute(sa.text("SELECT id, sweep_id, metric_history FROM runs")).fetchall()
    for run_id, sweep_id, history in rows:
        stats = _stats(_json(history), bands.get(sweep_id, set()))
        conn.execute(
            sa.text("UPDATE runs SET metric = :metric WHERE id = :id"),
            {"metric": json.dumps(stats), "id": run_id},
        )
    # SQLite >= 3.35 drops a plain column in place (no table rebuild, which would cascade deletes).
    op.execute("ALTER TABLE runs DROP COLUMN metric_history")


def downgrade() -> None:
    op.add_column(
        "runs", sa.Column("metric_history", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.execute("ALTER TABLE runs DROP COLUMN metric")
    op.execute("ALTER TABLE runs DROP COLUMN log_seq")
    op.drop_index("ix_runs_claim_key", "runs")
    op.execute("ALTER TABLE runs DROP COLUMN claim_key")
