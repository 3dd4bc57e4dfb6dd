"""A sweep with several metrics as its Pareto-front charts draw it: every finished run's values, the
front (the service's ranking: rank 1 of ``best_runs``) and the normalised hypervolume over time.

Hypervolume: each metric's values are put on its lower-is-better scale (``Objective.key``) and
scaled to [0, 1] by the smallest and largest value among the finished runs; the reference point is
1.1 in every metric, and the volume is divided by 1.1^m, so 1 would be a single run best in every
metric at once. The series has a point each time a run finished (at most ``MAX_POINTS``, the last
always kept).
"""

from __future__ import annotations

from typing import Any

from sweepkit.runs import RunState
from sweepkit.runs.hypervolume import hypervolume
from sweepkit.runs.objective import dominates
from sweepkit.service import SweepService

#: The reference point of the normalised hypervolume, in every (scaled) metric.
REFERENCE = 1.1
#: The most points of the hypervolume series.
MAX_POINTS = 200


def front_view(service: SweepService, sweep_id: str) -> dict[str, Any]:
    sweep = service.get_sweep(sweep_id)
    objectives = sweep.plan.objectives
    out: dict[str, Any] = {
        "objectives": [{"name": o.name, "goal": o.goal} for o in objectives],
        "points": [],
        "front": [],
        "hypervolume": [],
        "reference": REFERENCE,
    }
    if len(objectives) < 2:
        return out
    finished = []
    for run in service.all_runs(sweep_id, states=[RunState.FINISHED]):
        values = [run.value(o) for o in objectives]
        if run.number is not None and None not in values:
            finished.append((run, values))
    out["points"] = [[run.number, *values] for run, values in finished]
    out["front"] = sorted(r.run.number for r in service.best_runs(sweep_id) if r.rank == 1 and r.run.number)
    out["hypervolume"] = _hypervolume_series(objectives, finished)
    return out


def _hypervolume_series(objectives: Any, finished: list[tuple[Any, list[float]]]) -> list[list[float]]:
    if not finished:
        return []
    keys = [[o.key(v) for o, v in zip(objectives, values, strict=True)] for _run, values in finished]
    low = [min(col) for col in zip(*keys, strict=True)]
    high = [max(col) for col in zip(*keys, strict=True)]
    scaled = [
        tuple((k - lo) / (hi - lo) if hi > lo else 0.0 for k, lo, hi in zip(key, low, high, strict=True))
        for key in keys
    ]
    order = sorted(
        range(len(finished)),
        key=lambda i: (
            finished[i][0].finished_at is None,
            finished[i][0].finished_at or 0,
            finished[i][0].number,
        ),
    )
    step = max(1, -(-len(order) // MAX_POINTS))
    reference = [REFERENCE] * len(objectives)
    whole = REFERENCE ** len(objectives)
    kept: list[tuple[float, ...]] = []
    series = []
    for index, i in enumerate(order, start=1):
        point = scaled[i]
        if not any(dominates(q, point) or q == point for q in kept):
            kept = [q for q in kept if not dominates(point, q)] + [point]
        if index % step == 0 or index == len(order):
            run = finished[i][0]
            when = run.finished_at.timestamp() if run.finished_at is not None else None
            series.append(
                [round(when, 3) if when is not None else None, index, hypervolume(kept, reference) / whole]
            )
    return series
