"""An agent of a sweep as the store keeps it and ``list_agents`` shows it: one record for both sides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AgentInfo:
    """An agent of a sweep: where it runs, whether it is alive, where it works and its GPUs."""

    id: str
    host: str
    pid: int
    #: "running" until the agent says it has stopped, then "finished".
    state: str
    created_at: datetime
    #: When it was last heard from (the database's clock).
    heartbeat_at: datetime | None
    finished_at: datetime | None
    #: Running and heard from within the heartbeat timeout: the agents ``SweepInfo.live_agents`` counts.
    live: bool
    #: The directory it runs its runs in (each run's files are under ``.sweepkit/runs/<run id>``).
    workdir: str | None = None
    #: The GPUs of each of its slots (``[]`` for a slot on CPUs); None when the agent did not say.
    slots: list[list[str]] | None = None
