"""What the store hands back: plain, frozen records of sweeps and runs as stored.

The local service turns them into the service's types (``sweepkit.service.types``); nothing on the
client side sees these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sweepkit.runs import MetricStats, RunState, SweepState


@dataclass(frozen=True)
class SweepRecord:
    """One sweep as stored: its config (the normalized ``SweepConfig.data``) and its state."""

    id: str
    project: str | None
    entity: str | None
    name: str | None
    state: SweepState
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    finished_reason: str | None
    run_count: int
    #: Runs handed out again by a retry (among ``run_count``; not counted against ``run_cap``).
    retry_count: int = 0
    #: The config as its author wrote it (a file's text), or None.
    source: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run as stored.

    ``params`` holds the sweep's parameters under flat dotted names; ``config`` is ``run.config`` as
    the program last reported it (None: exactly its sweep values); ``metric`` the aggregates of the
    sweep metric's values.
    """

    id: str
    sweep_id: str | None
    number: int | None
    project: str | None
    name: str | None
    state: RunState
    params: dict[str, Any]
    config: dict[str, Any] | None
    summary: dict[str, Any]
    metric: MetricStats
    last_step: int | None
    log_seq: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    exit_code: int | None
    agent_id: str | None
    stop_requested: bool
    stop_reason: str | None
    stop_info: dict[str, Any] | None
    suggestion_info: dict[str, Any]
    error: str | None
    claim_key: str | None = None
    #: The run this one re-runs (a retry), and the run that re-runs this one (it was retried).
    retry_of: str | None = None
    retried_by: str | None = None


@dataclass(frozen=True)
class LogTarget:
    """What logging needs to know of a run, read under its row lock."""

    id: str
    sweep_id: str | None
    state: RunState
    summary: dict[str, Any]
    metric: MetricStats
    last_step: int | None
    log_seq: int
    stop_requested: bool
    stop_reason: str | None
    #: The run that re-runs this one, if it was retried (it logs no more).
    retried_by: str | None = None
