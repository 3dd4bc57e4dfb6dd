"""The store: the only part of sweepkit that talks to a database (SQLite or PostgreSQL).

``open_store(url)`` returns a ``Store`` whose methods create and control sweeps, hand out runs
(``claim_run``, one transaction under the sweep's row lock), record what runs log, track heartbeats,
and answer queries. Results are plain frozen records (``SweepRecord``, ``RunRecord``, ...).
"""

from __future__ import annotations

from sweepkit.store.engine import ENV_VAR, StoreError
from sweepkit.store.records import (
    CLAIMED,
    SWEEP_CANCELLED,
    SWEEP_FINISHED,
    SWEEP_PAUSED,
    SWEEP_RUNNING,
    SWEEP_STATES,
    SWEEP_STOPPED,
    ClaimResult,
    LogResult,
    RunControl,
    RunRecord,
    StopRequest,
    SweepRecord,
)
from sweepkit.store.store import Plan, StopCheck, Store, new_id, open_store

__all__ = [
    "CLAIMED",
    "ENV_VAR",
    "SWEEP_CANCELLED",
    "SWEEP_FINISHED",
    "SWEEP_PAUSED",
    "SWEEP_RUNNING",
    "SWEEP_STATES",
    "SWEEP_STOPPED",
    "ClaimResult",
    "LogResult",
    "Plan",
    "RunControl",
    "RunRecord",
    "StopCheck",
    "StopRequest",
    "Store",
    "StoreError",
    "SweepRecord",
    "new_id",
    "open_store",
]
