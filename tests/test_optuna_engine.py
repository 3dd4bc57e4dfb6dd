"""The Optuna engine (``method: custom``): each suggestion comes from a study rebuilt from the runs
alone (the same runs and seed give the same point: nothing else is kept), every sweepkit
distribution keeps its meaning, and pending, failed and finished runs reach the sampler as running,
failed and complete trials."""

from __future__ import annotations

import math
import random

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search import next_run
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import load_config

optuna = pytest.importorskip("optuna")

PARAMETERS = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "layers": {"min": 1, "max": 6},
    "act": {"values": ["relu", "tanh", {"kind": "gelu"}]},
    "q": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
    "fixed": {"value": 3},
}


def _sweep(sampler: str, metrics: int = 2):
    objectives = [{"name": "a"}, {"name": "b", "goal": "maximize"}][:metrics]
    key = {"metrics": objectives} if metrics > 1 else {"metric": objectives[0]}
    cfg = load_config(
        {
            "method": "custom",
            **key,
            "parameters": PARAMETERS,
            "scheduler": {"engine": "optuna", "settings": {"sampler": sampler, "seed": 1}},
        }
    )
    return cfg, SearchSpace.from_config(cfg)


def _stats(a: float, b: float | None) -> MetricStats:
    first = MetricStats.from_values([a])
    return first if b is None else first.add_others([{"b": b}], {}, ["b"])


def _runs(cfg, space, n: int) -> list[RunView]:
    runs: list[RunView] = []
    rng = random.Random(0)
    for i in range(n):
        params = next_run(cfg, space, runs, rng).params
        a = math.log10(params["lr"]) ** 2 + params["layers"]
        state = [RunState.FINISHED, RunState.FINISHED, RunState.FAILED, RunState.RUNNING][i % 4]
        runs.append(RunView(str(i), state, params, _stats(a, -a + params["q"])))
    return runs


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "qmc", "random"])
def test_points_lie_in_the_space_and_depend_only_on_the_runs(sampler):
    cfg, space = _sweep(sampler)
    runs = _runs(cfg, space, 16)
    for run in runs:
        p = run.params
        assert 1e-5 <= p["lr"] <= 1e-1 and p["layers"] in range(1, 7) and isinstance(p["layers"], int)
        assert p["act"] in ("relu", "tanh", {"kind": "gelu"}) and p["q"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert p["fixed"] == 3
    again = [next_run(cfg, space, runs, random.Random(9)).params for _ in range(2)]
    assert again[0] == again[1]  # a study rebuilt from the same runs (and seed) asks the same
    info = next_run(cfg, space, runs, random.Random(9)).info
    assert info == {"engine": "optuna", "sampler": sampler, "n_trials": 16}


def test_running_runs_are_running_trials_tpe_keeps_away_from():
    cfg, space = _sweep("tpe", metrics=1)
    runs = _runs(cfg, space, 12)
    pending = [RunView(f"p{i}", RunState.RUNNING, runs[0].params) for i in range(3)]
    with_pending = next_run(cfg, space, runs + pending, random.Random(3)).params
    without = next_run(cfg, space, runs, random.Random(3)).params
    assert with_pending != without  # the constant liar sees the running trials


def test_cmaes_runs_one_metric():
    cfg, space = _sweep("cmaes", metrics=1)
    assert next_run(cfg, space, _runs(cfg, space, 8), random.Random(0)).info["sampler"] == "cmaes"


def test_default_samplers():
    for metrics, sampler in ((1, "tpe"), (2, "nsga2")):
        objectives = [{"name": "a"}, {"name": "b"}][:metrics]
        key = {"metrics": objectives} if metrics > 1 else {"metric": objectives[0]}
        cfg = load_config({"method": "custom", **key, "parameters": {"x": {"min": 0.0, "max": 1.0}}})
        assert next_run(cfg, SearchSpace.from_config(cfg), [], random.Random(0)).info["sampler"] == sampler
