"""Parameter importance against the sweep metric, as W&B shows it: correlation and forest importance.

Each run with a metric value (its best value, ``MetricStats.best``) is one sample. A numeric
parameter is one feature, on the scale it is drawn on (log10 for log-distributed parameters, so a
learning rate's correlation means something); a categorical one is one 0/1 feature per value
(``optimizer = adam``), as W&B does. For each feature:

* **correlation**: Pearson's correlation of the feature with the metric (None when either is constant);
* **importance**: the feature's share of a random forest's impurity decrease (scikit-learn's
  ``RandomForestRegressor.feature_importances_``) when the forest predicts the metric from every
  feature; None when scikit-learn is not installed (``pip install 'sweepkit[server]'``).

A conditional parameter (``when``) is absent from some runs: its correlation is taken over the runs
that have it; for the forest its absence is a value of its own below every value it takes (not the
median, which would credit it with what its siblings did), and a categorical one has no "null"
category (its 0/1 features are all 0 where it is absent).

Computed by the server, off the request path, and cached per sweep (:class:`ImportanceCache`): a
request gets the last result at once, and a new computation starts when the runs changed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from sweepkit.dashboard.params import ParamAxis, label

#: Runs with a metric value needed before anything is computed.
MIN_RUNS = 3
#: The forest: small trees on bounded samples, so 10,000 runs take about a second on one core.
FOREST_TREES = 64
FOREST_SAMPLES = 1000
FOREST_MIN_LEAF = 2


def features(
    params: Sequence[ParamAxis], values: Sequence[Sequence[Any]]
) -> tuple[list[tuple[str, str | None]], list[list[float]]]:
    """Feature names ``(parameter, category or None)`` and a column of floats for each.

    ``values[i][j]``: run i's value of ``params[j]``; a value that does not fit (text for a numeric
    parameter, a zero on a log axis) is NaN.
    """
    names: list[tuple[str, str | None]] = []
    columns: list[list[float]] = []
    for j, param in enumerate(params):
        if param.constant:
            continue
        column = [v[j] for v in values]
        if param.kind == "number":
            names.append((param.name, None))
            columns.append([_scaled(x, param.log) for x in column])
            continue
        labels = [label(x) if not (param.conditional and x is None) else None for x in column]
        order = list(param.labels or [])
        order += sorted({x for x in labels if x is not None and x not in order})
        for category in order:
            names.append((param.name, category))
            columns.append([1.0 if x == category else 0.0 for x in labels])
    return names, columns


def _scaled(value: Any, log: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    value = float(value)
    if not math.isfinite(value):
        return math.nan
    if log:
        return math.log10(value) if value > 0 else math.nan
    return value


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r over the pairs where ``x`` is a number; None when fewer than 3 or one is constant."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(x)]
    if len(pairs) < MIN_RUNS:
        return None
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def forest_importance(
    columns: Sequence[Sequence[float]], ys: Sequence[float], absent: Sequence[bool] | None = None
) -> list[float] | None:
    """Each column's random-forest importance for predicting ``ys``; None without scikit-learn.

    ``absent[j]``: column j belongs to a conditional parameter, so a missing value means "absent"
    and is put below every value the column has, where a tree can split it off."""
    try:
        import numpy as np
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return None
    x = np.array(columns, dtype=float).T
    for j in range(x.shape[1]):  # a value that does not fit counts as the column's median
        column = x[:, j]
        missing = np.isnan(column)
        if missing.all():
            column[missing] = 0.0
        elif missing.any() and absent is not None and absent[j]:
            low, high = np.nanmin(column), np.nanmax(column)
            column[missing] = low - max(high - low, 1.0)
        elif missing.any():
            column[missing] = np.nanmedian(column)
    n = x.shape[0]
    forest = RandomForestRegressor(
        n_estimators=FOREST_TREES,
        max_samples=None if n <= FOREST_SAMPLES else FOREST_SAMPLES / n,
        min_samples_leaf=FOREST_MIN_LEAF,
        random_state=0,
        n_jobs=1,
    )
    forest.fit(x, np.asarray(ys, dtype=float))
    return [float(v) for v in forest.feature_importances_]


def compute(params: Sequence[ParamAxis], samples: Sequence[tuple[Sequence[Any], float]]) -> dict[str, Any]:
    """Correlation and importance of every feature, from ``(parameter values, metric value)`` samples."""
    values = [v for v, _ in samples]
    ys = [y for _, y in samples]
    names, columns = features(params, values)
    out: dict[str, Any] = {"runs": len(samples), "forest": False, "features": []}
    if len(samples) < MIN_RUNS or not names:
        return out
    conditional = {p.name for p in params if p.conditional}
    absent = [param in conditional and category is None for param, category in names]
    importances = forest_importance(columns, ys, absent) if len(set(ys)) > 1 else [0.0] * len(columns)
    out["forest"] = importances is not None
    rows = []
    for index, (param, category) in enumerate(names):
        rows.append(
            {
                "param": param,
                "value": category,
                "correlation": correlation(columns[index], ys),
                "importance": None if importances is None else importances[index],
            }
        )
    rows.sort(key=lambda r: (-(r["importance"] or 0.0), -abs(r["correlation"] or 0.0)))
    out["features"] = rows
    return out


class ImportanceCache:
    """The last importance of one sweep, and a background computation when the runs changed."""

    def __init__(self) -> None:
        self._result: dict[str, Any] | None = None
        self._key: Any = None
        self._running = False
        self._finished_at = 0.0
        self._took_s = 0.0
        self._lock = threading.Lock()

    def get(self, key: Any, params: Sequence[ParamAxis], samples: Sequence[tuple[Sequence[Any], float]]):
        """The result for ``key`` (a fingerprint of the samples) if ready, else the last one with
        ``"stale": True``. A computation starts unless one runs or the last one is too fresh (a live
        sweep recomputes now and then, not on every poll); up to ``FOREST_SAMPLES`` runs it runs in
        this request, beyond in a background thread."""
        with self._lock:
            if self._key == key and self._result is not None:
                return {**self._result, "stale": False}
            pause = max(5.0, 3 * self._took_s)
            start = not self._running and (
                self._result is None or time.monotonic() - self._finished_at >= pause
            )
            if start:
                self._running = True
        if start:
            args = (key, list(params), list(samples))
            if len(samples) <= FOREST_SAMPLES:
                self._run(*args)
            else:
                threading.Thread(target=self._run, args=args, daemon=True, name="importance").start()
        with self._lock:
            fresh = self._key == key and self._result is not None
            result = self._result or {"runs": 0, "forest": False, "features": []}
            return {**result, "stale": not fresh}

    def _run(self, key: Any, params: list[ParamAxis], samples: list[tuple[Sequence[Any], float]]) -> None:
        started = time.monotonic()
        try:
            result = compute(params, samples)
        finally:
            with self._lock:
                self._running = False
                self._finished_at = time.monotonic()
                self._took_s = self._finished_at - started
        with self._lock:
            self._result, self._key = result, key
