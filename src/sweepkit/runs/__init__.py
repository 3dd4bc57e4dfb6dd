"""The run record both sides share: states, a run's metric values, and the run as policies see it.

Search methods and stopping rules (service side) and the agents, CLI and dashboard (client side)
all import these; nothing here does I/O or imports a third-party package.
"""

from __future__ import annotations

from sweepkit.runs.metric import MetricStats, better, goal_reached, is_metric_value, sign
from sweepkit.runs.states import (
    ACTIVE_STATES,
    FINAL_SWEEP_STATES,
    TERMINAL_STATES,
    UNSUCCESSFUL_STATES,
    RunState,
    SweepAction,
    SweepState,
)
from sweepkit.runs.view import RunView

__all__ = [
    "ACTIVE_STATES",
    "FINAL_SWEEP_STATES",
    "TERMINAL_STATES",
    "UNSUCCESSFUL_STATES",
    "MetricStats",
    "RunState",
    "RunView",
    "SweepAction",
    "SweepState",
    "better",
    "goal_reached",
    "is_metric_value",
    "sign",
]
