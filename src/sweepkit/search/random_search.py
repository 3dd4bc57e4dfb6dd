"""The random method: every parameter drawn independently from its distribution; never finishes."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sweepkit.runs import RunView
from sweepkit.search.base import Suggestion
from sweepkit.space import SearchSpace


def next_run(config: Any, space: SearchSpace, runs: Sequence[RunView], rng: random.Random) -> Suggestion:
    """One independent draw of every parameter, using only ``rng`` (the runs do not matter)."""
    return Suggestion(params=space.draw(rng))
