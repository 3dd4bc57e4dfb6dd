"""Search methods: given the space and the runs so far, the next parameters or "finished".

:func:`suggest` dispatches on the config's ``method``. Every method is a pure function of
``(space, runs, rng)`` with no I/O; grid and random import neither numpy nor scipy (bayes is
imported only when a sweep uses it).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sweepkit.search.base import Finished, RunView, Suggestion
from sweepkit.search.grid import suggest_grid
from sweepkit.search.random_search import suggest_random

if TYPE_CHECKING:  # pragma: no cover
    from sweepkit.space import SearchSpace
    from sweepkit.sweep_config import SweepConfig

METHODS = ("grid", "random", "bayes")

__all__ = ["METHODS", "Finished", "RunView", "Suggestion", "suggest"]


def suggest(
    cfg: SweepConfig, space: SearchSpace, runs: Sequence[RunView], rng: random.Random
) -> Suggestion | Finished:
    """The next run's parameters for the sweep's method (``cfg.method``), or Finished."""
    method = cfg.method
    if method == "grid":
        return suggest_grid(space, runs)
    if method == "random":
        return suggest_random(space, runs, rng)
    if method == "bayes":
        from sweepkit.search.bayes import suggest_bayes  # numpy/scipy only for bayes sweeps

        return suggest_bayes(cfg, space, runs, rng)
    raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
