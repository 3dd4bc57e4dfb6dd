"""Several metrics for bayes (``metrics:`` with ``method: bayes``, a sweepkit extension): each
suggestion draws random weights and models one augmented Chebyshev scalarisation of the metrics
(ParEGO, Knowles 2006), so that successive suggestions aim at different parts of the Pareto front.

Each metric's signed value ("lower is better") is scaled to [0, 1] over the runs that have a value
for every metric; a run's scalar value is ``max_i w_i f_i + 0.05 * sum_i w_i f_i``. Runs become
runs of that one scalar (finished runs without every value, and failed ones, are imputed as for one
metric, by the first metric's ``impute``); pending runs stay pending, so parallel suggestions are
handled as for one metric. Pure Python: no numpy.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from sweepkit.runs import MetricStats, Objective
from sweepkit.runs.objective import values_of

#: ParEGO's weight of the sum beside the maximum (keeps weakly dominated points from tying).
RHO = 0.05


def simplex_weights(n: int, rng: random.Random) -> list[float]:
    """Weights drawn uniformly from the simplex of ``n`` objectives (sorted uniform spacings)."""
    cuts = sorted(rng.random() for _ in range(n - 1))
    edges = [0.0, *cuts, 1.0]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


def scalarised(metrics: list[Any], runs: list[Any], rng: random.Random) -> tuple[list[Any], Any, list[float]]:
    """``runs`` as runs of one scalar to minimise, the metric that scalar is, and the weights drawn."""
    objectives = [Objective(m.name, m.goal) for m in metrics]
    signed = []
    for run in runs:
        found = values_of(objectives, run.metric)
        ok = all(v is not None for v in found)
        signed.append([o.key(v) for o, v in zip(objectives, found, strict=True)] if ok else None)
    complete = [s for s in signed if s is not None]
    weights = simplex_weights(len(objectives), rng)
    low = [min(col) for col in zip(*complete, strict=True)] if complete else []
    high = [max(col) for col in zip(*complete, strict=True)] if complete else []
    out = []
    for run, keys in zip(runs, signed, strict=True):
        if keys is None:
            out.append(replace(run, metric=MetricStats()))
            continue
        scaled = [(k - lo) / (hi - lo) if hi > lo else 0.0 for k, lo, hi in zip(keys, low, high, strict=True)]
        terms = [w * f for w, f in zip(weights, scaled, strict=True)]
        out.append(replace(run, metric=MetricStats.from_values([max(terms) + RHO * sum(terms)])))
    metric = replace(metrics[0], name="scalarised metrics", goal="minimize", target=None)
    return out, metric, weights
