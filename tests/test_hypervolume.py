"""The hypervolume indicator (``sweepkit.runs.hypervolume``) against an independent count on a grid,
and the aggregates a run keeps of several metrics (``MetricStats.others``, ``values_of``,
``targets_reached``)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from sweepkit.runs import MetricStats, Objective
from sweepkit.runs.hypervolume import hypervolume, non_dominated
from sweepkit.runs.objective import targets_reached, values_of


def _grid_volume(points, reference, n: int) -> float:
    """The volume dominated, by counting the cells of an n^m grid whose lower corner is dominated
    (exact when every coordinate is a multiple of 1/n)."""
    cell = 1.0 / n
    count = 0
    for corner in itertools.product(range(n), repeat=len(reference)):
        at = [c * cell for c in corner]
        if any(all(p_i <= a_i for p_i, a_i in zip(p, at, strict=True)) for p in points):
            count += 1
    return count * cell ** len(reference)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda m: st.lists(st.lists(st.integers(0, 7), min_size=m, max_size=m), min_size=0, max_size=7)
    )
)
def test_hypervolume_is_the_volume_the_points_dominate(raw):
    points = [[v / 8 for v in p] for p in raw]
    m = len(raw[0]) if raw else 2
    assert abs(hypervolume(points, [1.0] * m) - _grid_volume(points, [1.0] * m, 8)) < 1e-9


def test_known_volumes_and_points_outside_the_reference():
    assert hypervolume([(0.5, 0.5)], (1, 1)) == 0.25
    assert hypervolume([(0, 1), (1, 0)], (2, 2)) == 3.0
    assert hypervolume([(0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)], (1, 1, 1)) == 0.5
    assert hypervolume([(2, 0)], (1, 1)) == 0.0 and hypervolume([], (1, 1)) == 0.0
    assert non_dominated([(1, 2), (2, 1), (2, 2), (1, 2)]) == [(1, 2), (2, 1)]


def test_a_run_keeps_every_metric_and_its_json_round_trips():
    stats = (
        MetricStats().add([3.0, 1.0]).add_others([{"b": 5.0}, {"b": 7.0, "c": "x"}], {"c": 2.0}, ["b", "c"])
    )
    assert stats.of("b").max == 7.0 and stats.of("c").count == 0 and stats.of("c").summary == 2.0
    assert stats.of("missing") == MetricStats()
    assert MetricStats.from_json(stats.to_json()) == stats
    assert "others" not in MetricStats().add([1.0]).to_json()  # one metric: stored as before
    objectives = [Objective("a"), Objective("b", "maximize", target=6), Objective("c", target=1)]
    assert values_of(objectives, stats) == [1.0, 7.0, 2.0]
    assert not targets_reached(objectives, [1.0, 7.0, 2.0])  # c misses its target
    assert targets_reached(objectives, [9.0, 6.0, 1.0])  # a has no target
    assert not targets_reached([Objective("a"), Objective("b")], [0.0, 0.0])  # no target at all
