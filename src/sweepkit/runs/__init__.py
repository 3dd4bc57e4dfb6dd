"""The run record both sides share: states, a run's metric values, objectives and how runs rank by
them, and the run as policies see it.

Search methods and stopping rules (service side) and the agents, CLI and dashboard (client side)
all import these; nothing here does I/O or imports a third-party package.
"""

from __future__ import annotations

from sweepkit.runs.metric import MetricStats, is_metric_value
from sweepkit.runs.objective import DEFAULT_GOAL, Objective, better, goal_reached, rank, sign
from sweepkit.runs.states import (
    ACTIVE_STATES,
    FINAL_SWEEP_STATES,
    TERMINAL_STATES,
    UNSUCCESSFUL_STATES,
    RunState,
    SweepAction,
    SweepState,
    allowed_actions,
)
from sweepkit.runs.view import RunView

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_GOAL",
    "FINAL_SWEEP_STATES",
    "TERMINAL_STATES",
    "UNSUCCESSFUL_STATES",
    "MetricStats",
    "Objective",
    "RunState",
    "RunView",
    "SweepAction",
    "SweepState",
    "allowed_actions",
    "better",
    "goal_reached",
    "is_metric_value",
    "rank",
    "sign",
]
