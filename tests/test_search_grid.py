"""The grid method: W&B's order, content de-duplication against runs in any state, exhaustion."""

from __future__ import annotations

import itertools
import math

import pytest

from sweepkit.runs import UNSUCCESSFUL_STATES, RunState, RunView
from sweepkit.search.base import Finished, Suggestion
from sweepkit.search.grid import grid_size, suggest_grid
from sweepkit.space import GridNotSupported, SearchSpace


def const(value):
    return {"distribution": "constant", "value": value}


def cat(*values):
    return {"distribution": "categorical", "values": list(values)}


def run(params: dict, state: RunState = RunState.FINISHED, i: int = 0) -> RunView:
    return RunView(id=f"r{i}", state=state, params=params)


def exhaust(space: SearchSpace, runs: list[RunView] | None = None) -> list[dict]:
    """Hand out points until the grid is finished, as one agent after another would."""
    runs = list(runs or [])
    points = []
    while True:
        result = suggest_grid(space, runs)
        if isinstance(result, Finished):
            return points
        points.append(result.params)
        runs.append(run(result.params, RunState.PENDING, len(runs)))
        assert len(points) <= 10_000


def test_order_is_sorted_names_with_the_last_varying_fastest_and_constants_everywhere():
    space = SearchSpace.from_parameters(
        {"b": cat(1, 2), "a": cat("x", "y"), "c": const("k"), "opt": {"parameters": {"m": cat(True, False)}}}
    )
    points = exhaust(space)
    expected = [
        {"a": a, "b": b, "c": "k", "opt.m": m}
        for a, b, m in itertools.product(["x", "y"], [1, 2], [True, False])
    ]
    assert points == expected
    assert [list(p) for p in points] == [["a", "b", "c", "opt.m"]] * 8


def test_suggestion_info_holds_index_and_size():
    space = SearchSpace.from_parameters({"a": cat(1, 2, 3), "b": cat(1, 2)})
    first = suggest_grid(space, [])
    assert isinstance(first, Suggestion)
    assert first.params == {"a": 1, "b": 1}
    assert first.info == {"grid_index": 0, "grid_size": 6}
    second = suggest_grid(space, [run(first.params)])
    assert second.params == {"a": 1, "b": 2} and second.info["grid_index"] == 1
    assert grid_size(space) == 6


def test_int_uniform_and_q_uniform_grids_follow_spec():
    space = SearchSpace.from_parameters(
        {
            "n": {"distribution": "int_uniform", "min": 1, "max": 3},
            "q": {"distribution": "q_uniform", "min": 0.0, "max": 0.3, "q": 0.1},
        }
    )
    points = exhaust(space)
    assert [(p["n"], p["q"]) for p in points] == [(n, q) for n in (1, 2, 3) for q in (0.0, 0.1, 0.2)]


@pytest.mark.parametrize("state", list(RunState))
def test_a_point_used_by_a_run_in_any_state_is_skipped(state):
    space = SearchSpace.from_parameters({"a": cat(1, 2)})
    assert suggest_grid(space, [run({"a": 1}, state)]).params == {"a": 2}


def test_values_compare_by_content():
    space = SearchSpace.from_parameters(
        {"n": cat(3, 4), "cfg": cat({"depth": 2, "width": 8}, {"depth": 3, "width": 8}), "flag": cat(1, True)}
    )
    assert grid_size(space) == 8  # 1 and True are two values
    runs = [
        run({"n": 3.0, "cfg": {"width": 8.0, "depth": 2}, "flag": 1}),  # JSON gave 3.0, keys reordered
        run({"n": 3, "cfg": {"width": 8, "depth": 2}, "flag": True}),
    ]
    result = suggest_grid(space, runs)
    assert result.params == {"cfg": {"depth": 2, "width": 8}, "flag": 1, "n": 4}
    assert result.info["grid_index"] == 1
    assert len(exhaust(space, runs)) == 6


def test_true_is_not_one():
    space = SearchSpace.from_parameters({"flag": cat(1, True)})
    assert suggest_grid(space, [run({"flag": True})]).params == {"flag": 1}
    assert suggest_grid(space, [run({"flag": 1.0})]).params == {"flag": True}


def test_constants_do_not_identify_a_point():
    """As in W&B: a changed constant (e.g. after an update) does not make a used point new."""
    space = SearchSpace.from_parameters({"a": cat(1, 2), "c": const("new")})
    assert suggest_grid(space, [run({"a": 1, "c": "old"})]).params == {"a": 2, "c": "new"}


def test_runs_lacking_a_varying_parameter_use_no_point():
    space = SearchSpace.from_parameters({"a": cat(1, 2), "b": cat(1)})
    assert suggest_grid(space, [run({"a": 1})]).params == {"a": 1, "b": 1}


def test_values_outside_the_grid_use_no_point():
    space = SearchSpace.from_parameters({"a": cat(1, 2)})
    assert suggest_grid(space, [run({"a": 7}), run({"a": "1"})]).params == {"a": 1}


def test_exhaustion_finishes():
    space = SearchSpace.from_parameters(
        {"a": cat(1, 2), "b": {"distribution": "int_uniform", "min": 0, "max": 2}}
    )
    points = exhaust(space)
    assert len(points) == 6
    runs = [run(p, RunState.FAILED, i) for i, p in enumerate(points)]
    result = suggest_grid(space, runs)
    assert isinstance(result, Finished)
    assert result.reason == "grid exhausted: all 6 points have been used"


def test_repeated_values_count_once():
    space = SearchSpace.from_parameters({"lr": cat(1e-4, 1e-3, 1e-4, 0.0001)})
    assert grid_size(space) == 2
    assert [p["lr"] for p in exhaust(space)] == [1e-4, 1e-3]


def test_a_grid_of_constants_has_one_point():
    space = SearchSpace.from_parameters({"a": const(1), "b": const([1, 2])})
    assert exhaust(space) == [{"a": 1, "b": [1, 2]}]


def test_failed_points_can_be_handed_out_again_on_request():
    space = SearchSpace.from_parameters({"a": cat(1, 2)})
    runs = [run({"a": 1}, RunState.FAILED), run({"a": 2}, RunState.FINISHED, 1)]
    assert isinstance(suggest_grid(space, runs), Finished)
    again = suggest_grid(space, runs, reuse_states=UNSUCCESSFUL_STATES)
    assert again.params == {"a": 1}
    runs.append(run({"a": 1}, RunState.RUNNING, 2))
    assert isinstance(suggest_grid(space, runs, reuse_states=UNSUCCESSFUL_STATES), Finished)


def test_suggested_values_are_fresh_copies():
    space = SearchSpace.from_parameters({"a": cat([1, 2]), "c": const({"k": [1]})})
    first = suggest_grid(space, [])
    first.params["a"].append(3)
    first.params["c"]["k"].append(2)
    assert suggest_grid(space, []).params == {"a": [1, 2], "c": {"k": [1]}}


def test_a_kind_grid_cannot_take_is_refused_naming_it():
    space = SearchSpace.from_parameters({"a": cat(1), "lr": {"distribution": "uniform", "min": 0, "max": 1}})
    with pytest.raises(
        GridNotSupported, match=r"parameters\.lr: distribution uniform cannot be used with method grid"
    ):
        suggest_grid(space, [])


def test_a_huge_grid_is_walked_lazily():
    """Like corpus config 028: a 235-value categorical among 19 parameters (about 10**12 points)."""
    parameters = {"env_name": cat(*[f"env-{i}" for i in range(235)])}
    parameters.update({f"p{i:02d}": cat(*range(2 + i % 3)) for i in range(18)})
    parameters["total_timesteps"] = const(100_000_000)
    space = SearchSpace.from_parameters(parameters)
    size = 235 * math.prod(2 + i % 3 for i in range(18))
    assert grid_size(space) == size > 10**10

    runs: list[RunView] = []
    for i in range(50):
        result = suggest_grid(space, runs)
        assert result.info == {"grid_index": i, "grid_size": size}
        runs.append(run(result.params, RunState.RUNNING, i))
    assert runs[0].params["env_name"] == "env-0" and runs[0].params["p17"] == 0
    assert runs[1].params["p17"] == 1  # the last name varies fastest ("total_timesteps" is a constant)
    assert len({tuple(sorted(r.params.items())) for r in runs}) == 50


def test_grid_points_are_each_handed_out_once_with_runs_in_mixed_states():
    space = SearchSpace.from_parameters(
        {"a": cat(1, 2, 3), "b": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}, "c": const(0)}
    )
    states = list(RunState)
    runs: list[RunView] = []
    seen = set()
    while not isinstance(result := suggest_grid(space, runs), Finished):
        key = (result.params["a"], result.params["b"])
        assert key not in seen
        seen.add(key)
        runs.append(run(result.params, states[len(runs) % len(states)], len(runs)))
    assert len(seen) == 12


ENV_PARAMS = [
    {"env_id": "CartPole-v1", "max_steps": 500},
    {"env_id": "Acrobot-v1", "max_steps": 200},
]


def test_a_dict_value_with_a_key_the_program_added_is_not_handed_out_again():
    # W&B's test suite: a program adds keys to its dict-valued config at run time; the grid
    # compares only the keys its own dict values have (their union).
    space = SearchSpace.from_parameters({"env_params": cat(*ENV_PARAMS), "lr": cat(0.1, 0.01)})
    first = suggest_grid(space, [])
    assert isinstance(first, Suggestion)
    grown = dict(first.params)
    grown["env_params"] = {**first.params["env_params"], "obs_dim": 4, "seed": 7}
    runs = [run(grown, RunState.FINISHED, 0)]
    second = suggest_grid(space, runs)
    assert isinstance(second, Suggestion)
    assert second.params != first.params
    points = exhaust(space, runs)
    assert len(points) == 3
    assert first.params not in points


def test_a_dict_value_missing_a_grid_key_is_a_different_point():
    space = SearchSpace.from_parameters({"env_params": cat(*ENV_PARAMS)})
    partial = run({"env_params": {"env_id": "CartPole-v1"}}, RunState.FINISHED, 0)
    points = exhaust(space, [partial])
    assert [p["env_params"] for p in points] == ENV_PARAMS


def test_q_uniform_grid_values_are_exact_decimals_where_w_and_b_has_float_noise():
    # W&B's grid is numpy.arange(min, max, q): its 78th value here is -2.1879999999999997.
    # sweepkit computes min + i * q in exact decimal arithmetic (docs/config.md, differences).
    np = pytest.importorskip("numpy")
    space = SearchSpace.from_parameters(
        {"x": {"distribution": "q_uniform", "min": -2.5, "max": -2.0, "q": 0.004}}
    )
    ours = space.params[0].grid_values()
    theirs = [float(v) for v in np.arange(-2.5, -2.0, 0.004)]
    assert len(ours) == len(theirs) == 125
    assert theirs[78] == -2.1879999999999997
    assert ours[78] == -2.188
    assert all(abs(a - b) < 1e-12 for a, b in zip(ours, theirs, strict=True))
    assert [p["x"] for p in exhaust(space)][78] == -2.188
