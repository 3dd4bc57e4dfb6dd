"""The run record both sides share: states, a run's metric values, objectives and how runs rank by
them, and the run as policies see it.

Search methods and stopping rules (service side) and the agents, CLI and dashboard (client side)
all import these (and the agents' record, which the store keeps and the service shows); nothing here does I/O or imports a third-party package. The names below are
loaded when first used, so that a training process that needs one module (``runs.objective`` for
``define_metric``) does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Each name this package hands on -> the module of ``sweepkit.runs`` that defines it.
_HOMES = {
    "AgentInfo": "agent",
    "MetricStats": "metric",
    "is_metric_value": "metric",
    "DEFAULT_GOAL": "goals",
    "Objective": "objective",
    "better": "objective",
    "goal_reached": "objective",
    "rank": "objective",
    "sign": "goals",
    "ACTIVE_STATES": "states",
    "ENDED_FOR_GOOD": "states",
    "FINAL_SWEEP_STATES": "states",
    "TERMINAL_STATES": "states",
    "UNSUCCESSFUL_STATES": "states",
    "RunState": "states",
    "SweepAction": "states",
    "SweepState": "states",
    "allowed_actions": "states",
    "RunView": "view",
}

__all__ = [
    "ACTIVE_STATES",
    "AgentInfo",
    "DEFAULT_GOAL",
    "ENDED_FOR_GOOD",
    "FINAL_SWEEP_STATES",
    "MetricStats",
    "Objective",
    "RunState",
    "RunView",
    "SweepAction",
    "SweepState",
    "TERMINAL_STATES",
    "UNSUCCESSFUL_STATES",
    "allowed_actions",
    "better",
    "goal_reached",
    "is_metric_value",
    "rank",
    "sign",
]

if TYPE_CHECKING:
    from sweepkit.runs.agent import AgentInfo
    from sweepkit.runs.goals import DEFAULT_GOAL, sign
    from sweepkit.runs.metric import MetricStats, is_metric_value
    from sweepkit.runs.objective import Objective, better, goal_reached, rank
    from sweepkit.runs.states import (
        ACTIVE_STATES,
        ENDED_FOR_GOOD,
        FINAL_SWEEP_STATES,
        TERMINAL_STATES,
        UNSUCCESSFUL_STATES,
        RunState,
        SweepAction,
        SweepState,
        allowed_actions,
    )
    from sweepkit.runs.view import RunView


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sweepkit.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sweepkit.runs.{home}"), name)
    globals()[name] = value
    return value
