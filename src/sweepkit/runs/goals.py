"""The goals an objective can have, the one it has when a config names none, and which way is better.

Apart from ``sweepkit.runs.objective`` so that a training process (``define_metric``'s ``goal``) reads
them without the objectives' dataclasses: the run process starts with as little as it can.
"""

from __future__ import annotations

#: The goals an objective can have, and the one it has when a config names none.
GOALS = ("minimize", "maximize")
DEFAULT_GOAL = "minimize"


def sign(goal: str) -> int:
    """+1 when minimizing, -1 when maximizing: ``sign * value`` is "lower is better"."""
    if goal == GOALS[0]:
        return 1
    if goal == GOALS[1]:
        return -1
    raise ValueError(f"metric.goal: expected 'minimize' or 'maximize', got {goal!r}")
