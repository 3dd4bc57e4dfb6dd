"""Curves of one logged key across a sweep's runs, kept in memory and read from history once.

A :class:`Curves` holds, for every run of a sweep, the values one key took against one *x*:

* ``ITERATION``: the k-th value of the sweep metric that counts as a metric value
  (``sweepkit.runs.is_metric_value``), the x axis hyperband's bands are drawn on (the sweep's own
  metric only);
* ``STEP``: the row's ``_step``;
* another logged key (``_runtime`` for the time since the run started, ``_timestamp`` for the wall
  clock, ``epoch``, ...): its value on the same row (rows without it are left out, as W&B does).

Values are read once, many runs per call (``SweepService.metric_series``); later only the rows after
the last step read are fetched, and only for the runs that logged since (for ``ITERATION``, whose
count of metric values grew; otherwise, whose last step moved).

One chart shows every run, so the points sent are budgeted: each run gets at most
``points_per_run(n_runs)`` points (all of them for short curves), always keeping the first and last
point and, by iteration, the band iterations, so thresholds line up with the curves.
"""

from __future__ import annotations

import math
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

ITERATION = "iteration"
STEP = "_step"


def points_per_run(n_runs: int) -> int:
    return max(MIN_POINTS_PER_RUN, min(MAX_POINTS_PER_RUN, TOTAL_POINTS // max(1, n_runs)))


def sample(count: int, budget: int, keep: Collection[int] = ()) -> list[int]:
    """At most about ``budget`` positions (1-based) out of ``1..count``: evenly spaced, with the
    first, the last and those in ``keep`` (band iterations) always included."""
    if count <= budget:
        return list(range(1, count + 1))
    step = (count - 1) / (budget - 1)
    picked = {1 + round(i * step) for i in range(budget)}
    picked.update(k for k in keep if 1 <= k <= count)
    return sorted(picked)


def plottable(value: object) -> bool:
    """Whether a logged value is a point on a chart: a finite number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: float, digits: int = 6) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.{digits}g}"
    return text if "n" not in text else "null"  # nan and inf are never kept; be safe anyway


class Curves:
    """One key's values against one x, for every run of one sweep (see the module docstring).
    Thread-safe."""

    def __init__(
        self, service: SweepService, key: str | None, x: str = ITERATION, bands: Iterable[int] = ()
    ) -> None:
        self.service = service
        self.key = key
        self.x = x
        self.bands = frozenset(bands) if x == ITERATION else frozenset()
        #: Each run's x values (none kept by iteration: the k-th value's x is k) and y values.
        self.xs: dict[int, array] = {}
        self.ys: dict[int, array] = {}
        #: What each run's mark (metric count or last step) was when it was last read.
        self._read_at: dict[int, int | None] = {}
        self._last_step: dict[int, int] = {}
        self._encoded: dict[int, tuple[int, int, bytes]] = {}
        self._lock = threading.Lock()
        # Wall-clock seconds since 1970 need all their digits; other x values and every y, six.
        self._x_digits = 13 if x == "_timestamp" else 9

    def update(
        self, marks: Mapping[int, int | None], ids: Mapping[int, str], only: Iterable[int] | None = None
    ) -> None:
        """Read the new values of the runs (``only`` these numbers) whose mark moved, many runs per
        call. ``marks``: each run's count of metric values (by iteration) or its last step."""
        if self.key is None:
            return
        numbers = marks.keys() if only is None else [n for n in only if n in marks]
        with self._lock:
            if self.x == ITERATION:
                stale = [n for n in numbers if len(self.ys.get(n, ())) < (marks[n] or 0)]
            else:
                stale = [n for n in numbers if marks[n] is not None and self._read_at.get(n) != marks[n]]
            for start in range(0, len(stale), RUNS_PER_CALL):
                chunk = stale[start : start + RUNS_PER_CALL]
                self._read(chunk, ids)
                for number in chunk:
                    self._read_at[number] = marks[number]

    def _read(self, chunk: list[int], ids: Mapping[int, str]) -> None:
        after = {ids[n]: self._last_step[n] for n in chunk if n in self._last_step}
        run_ids = [ids[n] for n in chunk]
        found = self.service.metric_series(run_ids, self.key, after=after)
        by_x = None
        if self.x not in (ITERATION, STEP):
            by_x = self.service.metric_series(run_ids, self.x, after=after)
        for number in chunk:
            run_id = ids[number]
            series = found.get(run_id) or []
            ys = self.ys.setdefault(number, array("d"))
            if self.x == ITERATION:
                ys.extend(float(value) for _step, value in series if is_metric_value(value))
            elif by_x is None:
                xs = self.xs.setdefault(number, array("d"))
                for step, value in series:
                    if plottable(value):
                        xs.append(step)
                        ys.append(float(value))
            else:
                xs = self.xs.setdefault(number, array("d"))
                at = {step: value for step, value in (by_x.get(run_id) or []) if plottable(value)}
                for step, value in series:
                    if plottable(value) and step in at:
                        xs.append(float(at[step]))
                        ys.append(float(value))
            # The key is read before x: every row it holds has its x already (rows are written whole).
            if series:
                self._last_step[number] = series[-1][0]

    def encoded(self, numbers: Iterable[int], n_runs: int) -> bytes:
        """``[[number, [xs], [ys]], ...]`` as JSON, for the runs ``numbers``, each thinned to the
        budget of a chart of ``n_runs`` runs."""
        budget = points_per_run(n_runs)
        parts = []
        with self._lock:
            for number in numbers:
                ys = self.ys.get(number)
                if not ys:
                    continue
                xs = self.xs.get(number)
                cached = self._encoded.get(number)
                if cached is None or cached[0] != len(ys) or cached[1] != budget:
                    picks = sample(len(ys), budget, self.bands)
                    if xs is None:
                        x_text = ",".join(map(str, picks))
                    else:
                        x_text = ",".join(_number(xs[k - 1], self._x_digits) for k in picks)
                    y_text = ",".join(_number(ys[k - 1]) for k in picks)
                    cached = (len(ys), budget, f"[{number},[{x_text}],[{y_text}]]".encode())
                    self._encoded[number] = cached
                parts.append(cached[2])
        return b"[" + b",".join(parts) + b"]"
