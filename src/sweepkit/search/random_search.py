"""The random method: every parameter drawn independently from its distribution; never finishes."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sweepkit.search.base import RunView, Suggestion
from sweepkit.space import SearchSpace


def suggest_random(space: SearchSpace, runs: Sequence[RunView], rng: random.Random) -> Suggestion:
    """One independent draw of every parameter, using only ``rng`` (the runs do not matter)."""
    return Suggestion(params=space.draw(rng))
