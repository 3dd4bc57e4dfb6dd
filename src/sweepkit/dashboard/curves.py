"""Every run's curve of the sweep metric, by iteration, kept in memory and read from history once.

*Iteration k* of a run is the k-th value of the sweep metric it logged that counts as a metric value
(``sweepkit.runs.is_metric_value``): the x axis hyperband's bands are drawn on. A run's values are
read once, many runs per call; later only the rows after the last step read are fetched, and only
for runs whose metric count grew.

One chart shows every run, so the points sent are budgeted: each run gets at most
``points_per_run(n_runs)`` points (all of them for short curves), always keeping the first and last
iteration and the band iterations, so thresholds line up with the curves.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Collection, Iterable, Mapping

from sweepkit.runs import is_metric_value
from sweepkit.service import SweepService

#: Points drawn in the whole chart at most (roughly): 10,000 runs get 20 points each.
TOTAL_POINTS = 200_000
MIN_POINTS_PER_RUN = 20
MAX_POINTS_PER_RUN = 1000
#: Runs whose new values are read per call.
RUNS_PER_CALL = 500


def points_per_run(n_runs: int) -> int:
    return max(MIN_POINTS_PER_RUN, min(MAX_POINTS_PER_RUN, TOTAL_POINTS // max(1, n_runs)))


def sample(count: int, budget: int, keep: Collection[int] = ()) -> list[int]:
    """At most about ``budget`` iterations (1-based) out of ``1..count``: evenly spaced, with the
    first, the last and those in ``keep`` (band iterations) always included."""
    if count <= budget:
        return list(range(1, count + 1))
    step = (count - 1) / (budget - 1)
    picked = {1 + round(i * step) for i in range(budget)}
    picked.update(k for k in keep if 1 <= k <= count)
    return sorted(picked)


def _number(value: float) -> str:
    text = f"{value:.6g}"
    return text if "n" not in text else "null"  # nan and inf are not metric values; be safe anyway


class SweepCurves:
    """The metric values of every run of one sweep (see the module docstring). Thread-safe."""

    def __init__(self, service: SweepService, metric: str | None, bands: Iterable[int] = ()) -> None:
        self.service = service
        self.metric = metric
        self.bands = frozenset(bands)
        self.values: dict[int, array] = {}
        self._last_step: dict[int, int | None] = {}
        self._encoded: dict[int, tuple[int, int, bytes]] = {}
        self._lock = threading.Lock()

    def update(
        self, counts: Mapping[int, int], ids: Mapping[int, str], only: Iterable[int] | None = None
    ) -> None:
        """Read the new values of the runs (``only`` these numbers) whose metric count grew, many runs
        per call (``SweepService.metric_series``)."""
        if self.metric is None:
            return
        numbers = counts.keys() if only is None else [n for n in only if n in counts]
        with self._lock:
            stale = [n for n in numbers if len(self.values.get(n, ())) < counts[n]]
            for start in range(0, len(stale), RUNS_PER_CALL):
                chunk = stale[start : start + RUNS_PER_CALL]
                after = {ids[n]: self._last_step[n] for n in chunk if self._last_step.get(n) is not None}
                found = self.service.metric_series([ids[n] for n in chunk], self.metric, after=after)
                for number in chunk:
                    series = found.get(ids[number]) or []
                    values = self.values.setdefault(number, array("d"))
                    values.extend(float(value) for _step, value in series if is_metric_value(value))
                    if series:
                        self._last_step[number] = series[-1][0]

    def encoded(self, numbers: Iterable[int], n_runs: int) -> bytes:
        """``[[number, [iterations], [values]], ...]`` as JSON, for the runs ``numbers``."""
        budget = points_per_run(n_runs)
        parts = []
        with self._lock:
            for number in numbers:
                values = self.values.get(number)
                if not values:
                    continue
                cached = self._encoded.get(number)
                if cached is None or cached[0] != len(values) or cached[1] != budget:
                    picks = sample(len(values), budget, self.bands)
                    xs = ",".join(map(str, picks))
                    ys = ",".join(_number(values[k - 1]) for k in picks)
                    cached = (len(values), budget, f"[{number},[{xs}],[{ys}]]".encode())
                    self._encoded[number] = cached
                parts.append(cached[2])
        return b"[" + b",".join(parts) + b"]"
