"""What every search method takes and returns: a view of the runs so far, a suggestion, or "finished"."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sweepkit.runstate import RunState


@dataclass(frozen=True)
class RunView:
    """One run as search methods and stopping rules see it (no database object).

    ``params`` uses flat dotted names (``optimizer.lr``), the names of the search space.
    ``history`` holds the values of the sweep's ``metric.name`` in the order the run logged them,
    raw (NaN and infinities included: each consumer decides what to drop).
    """

    id: str
    state: RunState
    params: Mapping[str, Any]
    history: Sequence[float] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)

    def finite_history(self) -> list[float]:
        out = []
        for v in self.history:
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            if math.isfinite(f):
                out.append(f)
        return out


@dataclass(frozen=True)
class Suggestion:
    """The next run's parameters (flat dotted names) and why they were chosen."""

    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """The method has nothing more to hand out (a used-up grid, for instance)."""

    reason: str
