"""The hypervolume indicator: the size of the region that a set of points dominates, bounded by a
reference point (every coordinate "lower is better", as ``Objective.key`` gives them).

Exact, by slicing along the first coordinate (HSO, While et al. 2006): fine for the fronts of a
sweep (hundreds of points, two to four objectives). Pure: no numpy. Used by the dashboard's
hypervolume over time and by benchmarks/multi_objective.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from sweepkit.runs.objective import dominates


def non_dominated(points: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    """The points no other point dominates (duplicates kept once), sorted; two coordinates in
    O(n log n), more by comparing each point with the ones kept so far."""
    unique = sorted({tuple(p) for p in points})
    if unique and len(unique[0]) == 2:
        kept, lowest = [], float("inf")
        for point in unique:  # by x, then y: a point is kept when its y is below every earlier one's
            if point[1] < lowest:
                kept.append(point)
                lowest = point[1]
        return kept
    # Sorted, so no point is dominated by a later one: compare with those kept only.
    front: list[tuple[float, ...]] = []
    for point in unique:
        if not any(dominates(q, point) for q in front):
            front.append(point)
    return front


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (points not strictly better
    than the reference in every coordinate add nothing)."""
    inside = [tuple(p) for p in points if all(x < r for x, r in zip(p, reference, strict=True))]
    return _volume(non_dominated(inside), tuple(reference))


def _volume(points: list[tuple[float, ...]], reference: tuple[float, ...]) -> float:
    if not points:
        return 0.0
    if len(reference) == 1:
        return reference[0] - min(p[0] for p in points)
    if len(reference) == 2:
        total, ceiling = 0.0, reference[1]
        for x, y in sorted(points):
            if y < ceiling:
                total += (reference[0] - x) * (ceiling - y)
                ceiling = y
        return total
    ordered = sorted(points)
    total = 0.0
    for i, point in enumerate(ordered):
        right = ordered[i + 1][0] if i + 1 < len(ordered) else reference[0]
        width = right - point[0]
        if width <= 0:
            continue
        slab = non_dominated([p[1:] for p in ordered[: i + 1]])
        total += width * _volume(slab, reference[1:])
    return total
