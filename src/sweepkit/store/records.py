"""What the store hands back: plain, frozen, JSON-able records of sweeps, runs and decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sweepkit.runs import RunState

#: Sweep states. ``stopped``: start nothing new, running runs finish; ``cancelled``: also kill them.
SWEEP_RUNNING = "running"
SWEEP_PAUSED = "paused"
SWEEP_STOPPED = "stopped"
SWEEP_CANCELLED = "cancelled"
SWEEP_FINISHED = "finished"
SWEEP_STATES = (SWEEP_RUNNING, SWEEP_PAUSED, SWEEP_STOPPED, SWEEP_CANCELLED, SWEEP_FINISHED)

#: ``ClaimResult.status`` when a run was handed out.
CLAIMED = "claimed"


@dataclass(frozen=True)
class SweepRecord:
    """One sweep as stored: its config (the normalized ``SweepConfig.data``) and its state."""

    id: str
    project: str | None
    entity: str | None
    name: str | None
    state: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    finished_reason: str | None
    run_count: int


@dataclass(frozen=True)
class RunRecord:
    """One run as stored.

    ``params`` holds the sweep's parameters under flat dotted names; ``config`` is ``run.config`` as the
    program saw it; ``metric_history`` holds the raw values of the sweep's metric in log order (NaN kept).
    """

    id: str
    sweep_id: str | None
    project: str | None
    name: str | None
    state: RunState
    params: dict[str, Any]
    config: dict[str, Any] | None
    summary: dict[str, Any]
    metric_history: list[float]
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
    #: The run's number within its sweep (1, 2, ...); None for a standalone run.
    number: int | None = None
    #: The highest ``_step`` logged so far; None before the first log.
    last_step: int | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish (to now while the run is still going); None if it never started."""
        start = self.started_at or self.created_at
        if start is None:
            return None
        end = self.finished_at or datetime.now(timezone.utc)
        return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of ``Store.claim_run``: a run (``status == "claimed"``) or why there is none."""

    run: RunRecord | None
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class StopRequest:
    """A stopping rule's verdict on one run: stop it, and why."""

    run_id: str
    reason: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogResult:
    """What a ``Store.log`` call tells the logging run: has anyone asked it to stop?"""

    stop_requested: bool
    stop_reason: str | None = None


@dataclass(frozen=True)
class RunControl:
    """What a run heartbeat learns: has the run been asked to stop, and its state in the store."""

    stop_requested: bool
    stop_reason: str | None = None
    state: RunState = RunState.RUNNING
