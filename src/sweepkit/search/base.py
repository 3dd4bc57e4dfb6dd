"""What every search method returns: the next run's parameters, or "finished" with a reason.

Every method module exposes ``next_run(config, space, runs, rng) -> Suggestion | Finished``:
``config`` the validated ``SweepConfig``, ``space`` its ``SearchSpace``, ``runs`` a sequence of
``sweepkit.runs.RunView`` (every run of the sweep so far) or a ``SweepRuns`` (``sweep_runs``: the
same runs, those that ended for good as the method's ``digests(config, space)`` keep them), ``rng``
a ``random.Random``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Suggestion:
    """The next run's parameters (flat dotted names) and why they were chosen."""

    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """The method has nothing more to hand out (a used-up grid, for instance)."""

    reason: str
