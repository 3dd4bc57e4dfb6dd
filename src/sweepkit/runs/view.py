"""``RunView``: one run as search methods and stopping rules see it (plain data, no database object)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sweepkit.runs.metric import MetricStats
from sweepkit.runs.states import RunState


@dataclass(frozen=True)
class RunView:
    """A run's id, state, parameters (flat dotted names, as the search space names them) and metric."""

    id: str
    state: RunState
    params: Mapping[str, Any]
    metric: MetricStats = field(default_factory=MetricStats)
    #: Its number in the sweep (None when the store did not say).
    number: int | None = None
