"""Objectives and the ranking of runs (``sweepkit.runs.objective``): the one rule for which runs are best."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweepkit.runs import DEFAULT_GOAL, MetricStats, Objective, allowed_actions, rank
from sweepkit.runs.objective import dominates
from sweepkit.runs.states import SweepAction, SweepState

values = st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False))


def test_an_objective_knows_its_direction_its_value_and_its_target():
    loss, acc = Objective("loss"), Objective("acc", "maximize", target=0.9)
    assert loss.goal == DEFAULT_GOAL == "minimize"
    assert loss.better(1.0, 2.0) and not loss.better(2.0, 1.0) and not loss.better(1.0, 1.0)
    assert acc.better(2.0, 1.0) and acc.key(0.5) == -0.5 and loss.key(0.5) == 0.5
    assert acc.reached(0.9) and not acc.reached(0.89) and not loss.reached(0.0)
    stats = MetricStats.from_values([3.0, 1.0, 2.0]).with_summary(0.5)
    assert loss.value_of(stats) == 0.5 and acc.value_of(stats) == 3.0
    assert loss.value_of(MetricStats()) is None
    assert Objective.from_json(acc.to_json()) == acc
    with pytest.raises(ValueError, match="metric.goal: expected 'minimize' or 'maximize'"):
        Objective("x", "lower").better(1, 2)


@given(st.lists(values, max_size=30), st.sampled_from(["minimize", "maximize"]))
def test_one_objective_ranks_by_value_and_equal_values_share_a_rank(found, goal):
    objective = Objective("m", goal)
    ranked = rank(list(range(len(found))), [objective], lambda i: [found[i]])
    assert sorted(i for i, _ in ranked) == [i for i, v in enumerate(found) if v is not None]
    for (a, rank_a), (b, rank_b) in zip(ranked, ranked[1:], strict=False):
        assert not objective.better(found[b], found[a])
        assert (rank_a == rank_b) == (found[a] == found[b])
        assert rank_a < rank_b or found[a] == found[b]
        if found[a] == found[b]:
            assert a < b  # ties keep their order
    if ranked:
        assert ranked[0][1] == 1


@given(st.lists(st.tuples(values, values), max_size=25))
def test_several_objectives_rank_by_pareto_front(found):
    objectives = [Objective("loss"), Objective("acc", "maximize")]
    ranked = rank(list(range(len(found))), objectives, lambda i: list(found[i]))
    complete = [i for i, pair in enumerate(found) if None not in pair]
    assert sorted(i for i, _ in ranked) == complete

    def keys(i):
        return tuple(o.key(v) for o, v in zip(objectives, found[i], strict=True))

    front_of = dict(ranked)
    assert [f for _, f in ranked] == sorted(f for _, f in ranked)
    for i in complete:
        for j in complete:
            if dominates(keys(i), keys(j)):
                assert front_of[i] < front_of[j]
        if front_of[i] > 1:  # something on the front before dominates it
            assert any(dominates(keys(j), keys(i)) for j in complete if front_of[j] == front_of[i] - 1)


def test_actions_allowed_in_each_state():
    assert allowed_actions(SweepState.RUNNING) == [SweepAction.PAUSE, SweepAction.STOP, SweepAction.CANCEL]
    assert allowed_actions(SweepState.FINISHED) == [SweepAction.CANCEL]
    assert allowed_actions(SweepState.CANCELLED) == []
    assert SweepAction.RESUME in allowed_actions(SweepState.STOPPED)
