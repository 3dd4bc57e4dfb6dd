"""Hyperband's values at each band of the runs that ended for good, kept sorted from one decision to the next.

A band's threshold counts the value at that band of every run of the sweep, in any state
(``sweepkit.stopping.hyperband``), and a sweep may have 10,000 runs: reading all of them again each time
a run reaches a band, and each time a dashboard draws the thresholds, made both ever slower. A run that
ended for good (``ENDED_FOR_GOOD``) changes only by being retried or deleted, so ``BandValues`` keeps,
per band, the values those runs reached there, sorted, and each run's values (to take them out when it
is retried). It is a ``Digest`` of the sweep's ``SweepRuns`` (``sweepkit.search.sweep_runs``): the
service brings it up to date from the runs stamped since it last looked (``StoreTx.changed_runs``),
builds it again from the store in a new process or after a deletion, and saves it with the rest.
The live runs (running, pending, crashed ...) are read at each decision, as before; the rule
merges them with what is kept (``hyperband.decide_runs``'s ``ended``).

Values are kept signed, ``sign * value`` (maximize negated), ascending: lower is better, as the rule
compares them. Memory: one float per ended run and band it reached, and its id.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from sweepkit.runs import RunView
from sweepkit.runs.objective import sign as goal_sign
from sweepkit.search.sweep_runs import Digest

if TYPE_CHECKING:
    import numpy as np

#: The key of this digest in a ``SweepRuns``.
BAND_VALUES = "hyperband.bands"


class BandValues(Digest, Mapping[int, Sequence[float]]):
    """Band -> the signed values there of the runs that ended for good, ascending (see the module).

    ``bands`` are the iterations the rule compares runs at; ``goal`` the judged metric's.
    """

    def __init__(self, bands: Collection[int], goal: str) -> None:
        self.bands = frozenset(int(band) for band in bands)
        self.sign = goal_sign(goal)
        self._sorted: dict[int, list[float]] = {}
        #: Run id -> its (band, signed value) pairs, to take them out again.
        self._runs: dict[str, tuple[tuple[int, float], ...]] = {}

    # --- Digest ---------------------------------------------------------------------------------------

    def update(self, added: Sequence[RunView], removed: Iterable[str]) -> None:
        for run_id in [*removed, *(view.id for view in added)]:
            self._forget(run_id)
        for view in added:
            stats = view.metric
            kept = tuple(
                (band, self.sign * value)
                for band, value in sorted(stats.bands.items())
                if band in self.bands and band <= stats.count
            )
            if not kept:
                continue
            self._runs[view.id] = kept
            for band, value in kept:
                insort(self._sorted.setdefault(band, []), value)

    def _forget(self, run_id: str) -> None:
        for band, value in self._runs.pop(run_id, ()):
            values = self._sorted[band]
            del values[bisect_left(values, value)]
            if not values:
                del self._sorted[band]

    def state(self) -> dict[str, np.ndarray]:
        import numpy as np

        ids = sorted(self._runs)
        pairs = [(i, band, value) for i, run_id in enumerate(ids) for band, value in self._runs[run_id]]
        return {
            "ids": np.array(ids, dtype=str),
            "run": np.array([p[0] for p in pairs], dtype=np.int64),
            "band": np.array([p[1] for p in pairs], dtype=np.int64),
            "value": np.array([p[2] for p in pairs], dtype=float),
        }

    def restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        ids = arrays["ids"].tolist()
        found: dict[str, list[tuple[int, float]]] = {}
        for run, band, value in zip(
            arrays["run"].tolist(), arrays["band"].tolist(), arrays["value"].tolist(), strict=True
        ):
            found.setdefault(ids[run], []).append((int(band), float(value)))
        self._runs = {run_id: tuple(pairs) for run_id, pairs in found.items()}
        self._sorted = {}
        for pairs in self._runs.values():
            for band, value in pairs:
                self._sorted.setdefault(band, []).append(value)
        for values in self._sorted.values():
            values.sort()

    # --- Mapping: what the rule reads -----------------------------------------------------------------

    def __getitem__(self, band: int) -> Sequence[float]:
        return self._sorted[band]

    def __iter__(self):
        return iter(sorted(self._sorted))

    def __len__(self) -> int:
        return len(self._sorted)

    def most(self) -> int:
        """The largest band any ended run reached (0: none)."""
        return max(self._sorted, default=0)
