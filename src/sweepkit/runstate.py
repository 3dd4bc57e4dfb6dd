"""Run states: the one definition of what a run can be and which states count as what."""

from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CRASHED = "crashed"
    KILLED = "killed"
    PREEMPTING = "preempting"
    PREEMPTED = "preempted"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


#: Runs that occupy a slot now: search methods treat their parameters as pending points.
ACTIVE_STATES = frozenset({RunState.PENDING, RunState.RUNNING, RunState.PREEMPTING})
#: Runs that ended without success: bayes imputes their metric (``metric.impute``).
UNSUCCESSFUL_STATES = frozenset({RunState.FAILED, RunState.CRASHED, RunState.KILLED, RunState.PREEMPTED})
#: Runs that will not change any more.
TERMINAL_STATES = frozenset(
    {RunState.FINISHED, RunState.FAILED, RunState.CRASHED, RunState.KILLED, RunState.PREEMPTED}
)
