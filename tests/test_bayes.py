"""The bayes search method end to end: parameter kinds, run states, pending points, seeds, no repeats."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search import next_run as suggest
from sweepkit.search.base import Suggestion
from sweepkit.space import SearchSpace, canonical_key
from sweepkit.sweep_config import load_config

pytest.importorskip("numpy")
pytest.importorskip("scipy")


def make(parameters: dict, goal: str = "minimize", impute: str | None = None):
    metric = {"name": "loss", "goal": goal}
    if impute:
        metric["impute"] = impute
    cfg = load_config({"method": "bayes", "metric": metric, "parameters": parameters})
    return cfg, SearchSpace.from_config(cfg)


def finished(i: int, params: dict, *values: float, summary: dict | None = None) -> RunView:
    stats = MetricStats.from_values(values).with_summary((summary or {}).get("loss"))
    return RunView(str(i), RunState.FINISHED, dict(params), stats)


def ask(cfg, space, runs, seed: int = 0) -> Suggestion:
    out = suggest(cfg, space, runs, random.Random(seed))
    assert isinstance(out, Suggestion)
    return out


def optimise(cfg, space, fn, n: int, seed: int = 0) -> list[RunView]:
    runs: list[RunView] = []
    for i in range(n):
        params = ask(cfg, space, runs, seed=seed * 1000 + i).params
        runs.append(finished(i, params, fn(params)))
    return runs


MIXED = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
    "layers": {"distribution": "int_uniform", "min": 1, "max": 6},
    "batch": {"distribution": "q_uniform", "min": 16, "max": 256, "q": 16},
    "wd": {"distribution": "q_log_uniform_values", "min": 1e-6, "max": 1e-2, "q": 1e-6},
    "init": {"distribution": "normal", "mu": 0.0, "sigma": 1.0},
    "mom": {"distribution": "beta", "a": 2.0, "b": 2.0},
    "act": {"values": ["relu", "tanh", "gelu"]},
    "opt": {"values": ["adam", "sgd", "lion"], "probabilities": [0.7, 0.2, 0.1]},
    "epochs": {"value": 10},
    "model": {"parameters": {"width": {"values": [32, 64, 128]}, "norm": {"values": [True, False]}}},
}


def mixed_objective(p: dict) -> float:
    return (
        (math.log10(p["lr"]) + 3) ** 2
        + (p["dropout"] - 0.1) ** 2
        + 0.1 * abs(p["layers"] - 3)
        + abs(p["batch"] - 64) / 256
        + {"relu": 0.0, "tanh": 0.3, "gelu": 0.1}[p["act"]]
        + (0.0 if p["model.norm"] else 0.2)
        + 0.01 * abs(p["init"])
    )


def check_valid(space: SearchSpace, params: dict) -> None:
    assert set(params) == set(space.names)
    for p in space.params:
        v = params[p.name]
        if p.is_constant:
            assert canonical_key(v) == canonical_key(p.values[0])
        elif p.is_categorical:
            p.index_of(v)  # raises when the value is not one of the values
        else:
            assert isinstance(v, (int, float)) and not isinstance(v, bool)
            if p.is_integer:
                assert isinstance(v, int)
            lo, hi = p.bounds
            assert lo <= v <= hi, (p.name, v)
            if p.kind.startswith("q_"):
                q = p.spec["q"]
                assert abs(v / q - round(v / q)) < 1e-6, (p.name, v)


def test_every_parameter_kind_gives_valid_values_in_both_phases():
    cfg, space = make(MIXED)
    runs = optimise(cfg, space, mixed_objective, 16)
    phases = [None] * len(runs)
    for run in runs:
        check_valid(space, dict(run.params))
    last = ask(cfg, space, runs, seed=99)
    check_valid(space, last.params)
    assert last.info["phase"] == "model"
    assert phases  # both phases ran: the first suggestions are the initial design
    first = ask(cfg, space, [], seed=1)
    assert first.info["phase"] == "initial-design"
    check_valid(space, first.params)
    # constants stay, nested groups keep their flat names, and unflatten gives the nested dict
    assert last.params["epochs"] == 10
    assert set(space.unflatten(last.params)["model"]) == {"width", "norm"}


def test_model_phase_starts_after_the_initial_design():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    runs = [finished(i, {"x": i / 10, "y": 0.5}, float(i)) for i in range(4)]
    assert ask(cfg, space, runs).info["phase"] == "initial-design"
    runs.append(finished(4, {"x": 0.9, "y": 0.1}, 3.0))
    info = ask(cfg, space, runs).info
    assert info["phase"] == "model"
    assert info["acquisition"] == "logEI"
    assert info["n_observations"] == 5
    for key in ("predicted_mean", "predicted_std", "acquisition_value"):
        assert math.isfinite(info[key])
    assert info["predicted_std"] >= 0


def test_predictions_are_in_the_metric_units_and_direction():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}}, goal="maximize")
    runs = [finished(i, {"x": x}, 0.9 - (x - 0.3) ** 2) for i, x in enumerate([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])]
    info = ask(cfg, space, runs).info
    assert 0.3 < info["predicted_mean"] < 1.2  # an accuracy-like value, not its negation
    assert abs(ask(cfg, space, runs).params["x"] - 0.3) < 0.25


@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_the_value_to_beat_is_the_best_value_observed_even_when_noisy(goal):
    # A noisy metric: the best run is a lucky draw far from what the model predicts there. Expected
    # improvement is measured from that observed value (info["incumbent"], in the metric's units
    # and direction), not from the smoother posterior mean, which kept suggestions beside it.
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}, goal=goal)
    rng = random.Random(3)
    sign = 1.0 if goal == "minimize" else -1.0
    runs = []
    for i in range(25):
        x, y = rng.random(), rng.random()
        runs.append(finished(i, {"x": x, "y": y}, sign * ((x - 0.5) ** 2 + rng.gauss(0.0, 0.3))))
    lucky = sign * -2.0
    runs.append(finished(25, {"x": 0.5, "y": 0.5}, lucky))
    info = ask(cfg, space, runs).info
    assert info["phase"] == "model"
    assert info["incumbent"] == pytest.approx(lucky)
    assert sign * info["predicted_mean"] > sign * lucky


def ackley(p: dict) -> float:
    x = [p[f"x{i}"] for i in range(10)]
    a = math.sqrt(sum(v * v for v in x) / len(x))
    b = sum(math.cos(2 * math.pi * v) for v in x) / len(x)
    return -20 * math.exp(-0.2 * a) - math.exp(b) + 20 + math.e


def share_at_a_bound(runs: list[RunView], low: float, high: float) -> float:
    values = [v for run in runs for v in run.params.values()]
    span = high - low
    return sum(v < low + 0.005 * span or v > high - 0.005 * span for v in values) / len(values)


@pytest.mark.parametrize("percentile, at_most", [(90.0, 0.2), pytest.param(50.0, None, id="old-median")])
def test_no_pull_towards_the_corners_in_ten_dimensions(monkeypatch, percentile, at_most):
    # Where the runs say nothing the GP expects its prior mean. With the median there, expected
    # improvement on this rugged 10-d function sent run after run to the corners of the box (every
    # input at a bound), where the uncertainty is largest; with a poor value expected there
    # (PRIOR_MEAN_PERCENTILE), the suggestions stay inside.
    from sweepkit.search.bayes import model

    monkeypatch.setattr(model, "PRIOR_MEAN_PERCENTILE", percentile)
    cfg, space = make({f"x{i}": {"min": -5.0, "max": 10.0} for i in range(10)})
    # runs 26-45 of three sweeps: the share of inputs set to one end of their range
    late = statistics.mean(
        share_at_a_bound(optimise(cfg, space, ackley, 45, seed=seed)[25:], -5.0, 10.0) for seed in (1, 2, 3)
    )
    if at_most is not None:
        assert late <= at_most
    else:  # the same check fails with the old prior mean: the test can tell them apart
        assert late > 0.3


def test_improves_over_random_on_a_quadratic():
    params = {f"x{i}": {"min": -1.0, "max": 1.0} for i in range(3)}
    cfg, space = make(params)

    def f(p: dict) -> float:
        return sum((p[f"x{i}"] - 0.3 * (i - 1)) ** 2 for i in range(3))

    bayes_best, random_best = [], []
    for seed in range(3):
        runs = optimise(cfg, space, f, 20, seed=seed)
        bayes_best.append(min(r.metric.at(1) for r in runs))
        rng = random.Random(seed)
        random_best.append(min(f(space.draw(rng)) for _ in range(20)))
    assert statistics.median(bayes_best) < 0.5 * statistics.median(random_best)
    assert max(bayes_best) < 0.05


def test_same_rng_and_runs_give_the_same_suggestion():
    cfg, space = make(MIXED)
    runs = optimise(cfg, space, mixed_objective, 14, seed=3)
    a = ask(cfg, space, runs, seed=7)
    b = ask(cfg, space, runs, seed=7)
    assert a.params == b.params and a.info == b.info
    # a different generator gives a different point (in the design phase and in the model phase)
    assert ask(cfg, space, runs, seed=8).params != a.params
    assert ask(cfg, space, [], seed=1).params == ask(cfg, space, [], seed=1).params
    assert ask(cfg, space, [], seed=1).params != ask(cfg, space, [], seed=2).params


def test_reproducible_whatever_the_cache_holds():
    from sweepkit.search.bayes import model

    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    rng = random.Random(5)
    runs = []
    for i in range(60):
        p = space.draw(rng)
        runs.append(finished(i, p, (p["x"] - 0.2) ** 2 + (p["y"] - 0.7) ** 2))
    first = ask(cfg, space, runs, seed=1)
    model._cache.clear()
    assert ask(cfg, space, runs, seed=1) == first


def test_eight_agents_asking_at_once_get_distinct_spread_points():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})

    def spread(runs: list[RunView], n_agents: int) -> list[tuple[float, float]]:
        runs = list(runs)
        points = []
        for k in range(n_agents):
            p = ask(cfg, space, runs, seed=100 + k).params
            points.append((p["x"], p["y"]))
            runs.append(RunView(f"p{k}", RunState.RUNNING, p))
        return points

    # at the start (initial design only) ...
    pts = spread([], 8)
    assert len(set(pts)) == 8
    assert min(math.dist(a, b) for i, a in enumerate(pts) for b in pts[i + 1 :]) > 0.1
    # ... and once the model leads: pending points are fantasies, so the next ones move away
    rng = random.Random(0)
    runs = []
    for i in range(12):
        p = space.draw(rng)
        runs.append(finished(i, p, (p["x"] - 0.5) ** 2 + (p["y"] - 0.5) ** 2))
    pts = spread(runs, 8)
    assert len(set(pts)) == 8
    distances = [math.dist(a, b) for i, a in enumerate(pts) for b in pts[i + 1 :]]
    # Around an optimum the model has found (the bowl's centre), the batch gathers near it, where
    # the model expects improvement, but each pending point pushes the next one off it.
    assert min(distances) > 1e-3
    assert all(math.dist(p, (0.5, 0.5)) < 0.15 for p in pts)


def test_no_point_of_a_discrete_space_is_suggested_twice():
    cfg, space = make({"a": {"values": ["x", "y", "z"]}, "b": {"min": 1, "max": 4}, "c": {"value": 0}})
    runs: list[RunView] = []
    seen = set()
    for i in range(12):
        p = ask(cfg, space, runs, seed=i).params
        key = canonical_key(p)
        assert key not in seen
        seen.add(key)
        state = RunState.RUNNING if i % 3 == 0 else RunState.FINISHED
        values = [] if state == RunState.RUNNING else [float(p["b"])]
        runs.append(RunView(str(i), state, p, MetricStats.from_values(values)))
    # every point used: a graceful repeat, saying so
    out = ask(cfg, space, runs, seed=50)
    check_valid(space, out.params)
    assert "note" in out.info


def test_falsy_values_are_values():
    params = {"a": {"values": [0, False, "", None]}, "b": {"values": [0.0, 1.0]}}
    cfg, space = make(params)
    scores = [(0, 3.0), (False, 0.0), ("", 2.0), (None, 1.0)]  # not a dict: 0 == False in Python

    def f(p: dict) -> float:
        score = next(s for k, s in scores if canonical_key(k) == canonical_key(p["a"]))
        return score + p["b"]

    runs = optimise(cfg, space, f, 8)
    assert len({canonical_key(dict(r.params)) for r in runs}) == 8  # the whole space, each point once
    best = min(runs, key=lambda r: r.metric.at(1))
    assert best.params["a"] is False and best.params["b"] == 0.0


def test_categorical_probabilities_bias_the_initial_design():
    params = {
        "opt": {"values": ["adam", "sgd", "rare"], "probabilities": [0.8, 0.15, 0.05]},
        "x": {"min": 0.0, "max": 1.0},
    }
    cfg, space = make(params)
    counts = {"adam": 0, "sgd": 0, "rare": 0}
    for seed in range(10):
        runs: list[RunView] = []
        for i in range(5):
            p = ask(cfg, space, runs, seed=seed * 100 + i).params
            counts[p["opt"]] += 1
            runs.append(finished(i, p, p["x"]))
    assert counts["adam"] > counts["sgd"] > counts["rare"]


def test_a_categorical_with_list_and_dict_values():
    params = {"layers": {"values": [[64], [64, 32], {"kind": "conv", "k": 3}]}, "x": {"min": 0.0, "max": 1.0}}
    cfg, space = make(params)
    runs = optimise(cfg, space, lambda p: len(str(p["layers"])) * 0.01 + p["x"], 9)
    for r in runs:
        check_valid(space, dict(r.params))


def test_runs_outside_the_space_are_ignored():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "c": {"values": ["a", "b"]}})
    runs = [finished(i, {"x": i / 10, "c": "a"}, float(i)) for i in range(6)]
    runs.append(finished(6, {"x": 0.5, "c": "not-a-value"}, -100.0))
    runs.append(finished(7, {"other": 1}, -100.0))
    runs.append(finished(8, {"x": 1.5, "c": "a"}, -100.0))  # a range narrowed since: not clipped to 1.0
    out = ask(cfg, space, runs)
    assert (out.info["n_observations"], out.info["n_outside_space"]) == (6, 3)
    check_valid(space, out.params)


def test_only_constants():
    cfg, space = make({"a": {"value": 1}, "b": {"value": "x"}})
    assert ask(cfg, space, []).params == {"a": 1, "b": "x"}


def test_failed_runs_without_values_still_give_suggestions():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}})
    runs = [RunView(str(i), RunState.FAILED, {"x": i / 10}) for i in range(8)]
    out = ask(cfg, space, runs)
    assert out.info["phase"] == "model"
    check_valid(space, out.params)


def test_many_runs_use_a_bounded_model():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    rng = random.Random(1)
    runs = []
    for i in range(450):
        p = space.draw(rng)
        runs.append(finished(i, p, (p["x"] - 0.25) ** 2 + (p["y"] - 0.75) ** 2))
    out = ask(cfg, space, runs)
    assert out.info["n_observations"] == 450
    assert out.info["n_model_points"] <= 200
    assert math.dist((out.params["x"], out.params["y"]), (0.25, 0.75)) < 0.2


KINDS = [
    {"distribution": "uniform", "min": -2.0, "max": 3.0},
    {"distribution": "int_uniform", "min": -3, "max": 4},
    {"distribution": "q_uniform", "min": 0.0, "max": 2.0, "q": 0.5},
    {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
    {"distribution": "q_log_uniform_values", "min": 1.0, "max": 1000.0, "q": 10},
    {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 1.0},
    {"distribution": "log_uniform", "min": -5.0, "max": 0.0},
    {"distribution": "normal", "mu": 1.0, "sigma": 2.0},
    {"distribution": "q_normal", "mu": 0.0, "sigma": 5.0, "q": 1},
    {"distribution": "log_normal", "mu": 0.0, "sigma": 1.0},
    {"distribution": "beta", "a": 2.0, "b": 5.0},
    {"distribution": "q_beta", "a": 1.0, "b": 1.0, "q": 0.1},
    {"values": [0, False, "", None]},
    {"values": ["a", "b"], "probabilities": [0.25, 0.75]},
    {"value": {"nested": [1, 2]}},
    {"parameters": {"inner": {"min": 0, "max": 2}, "flag": {"values": [True, False]}}},
]


def test_any_mix_of_kinds_gives_valid_suggestions():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=8, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(range(len(KINDS))), min_size=1, max_size=4), st.integers(0, 2**16))
    def check(kinds: list[int], seed: int) -> None:
        cfg, space = make({f"p{i}": KINDS[k] for i, k in enumerate(kinds)})
        rng = random.Random(seed)
        runs: list[RunView] = []
        for i in range(7):
            p = ask(cfg, space, runs, seed=seed + i).params
            check_valid(space, p)
            runs.append(finished(i, p, rng.random()))

    check()
