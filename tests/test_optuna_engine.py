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


CONDITIONAL = {
    "opt": {"values": ["sgd", "adam"]},
    "momentum": {"min": 0.0, "max": 0.99, "when": {"opt": "sgd"}},
    "nesterov": {"values": [True, False], "when": {"opt": "sgd"}},
    "beta1": {"min": 0.5, "max": 0.999, "when": {"opt": "adam"}},
    "amsgrad": {"value": True, "when": {"opt": "adam"}},
    "lr": {"min": 0.001, "max": 0.1},
}


def _conditional(sampler: str, metrics: int = 1):
    objectives = [{"name": "a"}, {"name": "b", "goal": "maximize"}][:metrics]
    key = {"metrics": objectives} if metrics > 1 else {"metric": objectives[0]}
    settings = {"sampler": sampler, "seed": 1}
    if sampler in ("tpe", "cmaes", "gp"):
        settings["n_startup_trials"] = 4
    cfg = load_config(
        {
            "method": "custom",
            **key,
            "parameters": CONDITIONAL,
            "scheduler": {"engine": "optuna", "settings": settings},
        }
    )
    return cfg, SearchSpace.from_config(cfg)


def _conditional_runs(cfg, space, n: int) -> list[RunView]:
    """Runs as the service stores them: each with the parameters its suggestion held; sgd is better."""
    runs: list[RunView] = []
    rng = random.Random(0)
    for i in range(n):
        params = next_run(cfg, space, runs, rng).params
        a = params["lr"] + (params["momentum"] if params["opt"] == "sgd" else 2.0)
        state = RunState.RUNNING if i % 5 == 4 else RunState.FINISHED
        runs.append(RunView(str(i), state, params, _stats(a, -a)))
    return runs


@pytest.mark.parametrize(
    ("sampler", "metrics"),
    [("tpe", 1), ("nsga2", 2), ("cmaes", 1), ("gp", 1), ("qmc", 2), ("random", 1)],
)
def test_conditional_suggestions_hold_only_their_active_parameters(sampler, metrics, capfd):
    if sampler == "gp":
        pytest.importorskip("torch")
    cfg, space = _conditional(sampler, metrics)
    runs = _conditional_runs(cfg, space, 12)
    for run in runs:
        assert set(run.params) == space.active(run.params), run.params
        assert ("momentum" in run.params) == (run.params["opt"] == "sgd")
        assert ("beta1" in run.params) == (run.params["opt"] == "adam")
        assert run.params.get("amsgrad", True) is True
    assert {r.params["opt"] for r in runs} == {"sgd", "adam"}
    assert "sampled independently" not in capfd.readouterr().err  # no Optuna warning on every trial


def test_runs_without_an_inactive_parameter_reach_the_study_with_the_parameters_they_have():
    from sweepkit.search import optuna_engine

    cfg, space = _conditional("tpe")
    runs = _conditional_runs(cfg, space, 15)
    study = optuna_engine.study_of(cfg, space, runs, random.Random(2))
    assert len(study.trials) == len(runs)  # every run, whichever branch it took
    states = optuna.trial.TrialState
    for run, trial in zip(runs, study.trials, strict=True):
        varying = {k for k in run.params if k != "amsgrad"}  # a constant is no choice for the sampler
        assert set(trial.params) == varying
        assert trial.state == (states.RUNNING if run.state == RunState.RUNNING else states.COMPLETE)
        if trial.state == states.COMPLETE:
            assert trial.values[0] == pytest.approx(run.metric.last)
    assert next_run(cfg, space, runs, random.Random(2)).info["n_trials"] == len(runs)


def test_tpe_learns_from_both_branches():
    """sgd's runs score better: once TPE has seen runs of both branches it proposes sgd far more."""
    cfg, space = _conditional("tpe")
    runs = _conditional_runs(cfg, space, 30)
    late = [r.params["opt"] for r in runs[10:]]
    assert late.count("sgd") >= 14  # 15 of 20 with Optuna 5.1; about 10 at random


def test_the_scheduler_process_study_takes_runs_of_every_branch(tmp_path):
    """``sweepkit scheduler`` without ``search_space`` (the config's parameters are the space): runs
    that lack an inactive parameter become trials, and what it asks holds only active parameters."""
    from types import SimpleNamespace

    from sweepkit.scheduler.trials import Trials
    from sweepkit.scheduler.user_code import UserCode

    cfg, space = _conditional("tpe")
    runs = _conditional_runs(cfg, space, 10)
    trials = Trials(cfg, space, UserCode(tmp_path / "scheduler.py"))
    as_runs = [
        SimpleNamespace(
            id=r.id, state=r.state, params=r.params, objective_values={"a": r.metric.last}, stop_info=None
        )
        for r in runs
    ]
    trials.sync(as_runs)
    assert len(trials.study.trials) == len(runs)
    for _ in range(8):
        number, params = trials.ask()
        assert set(params) == space.active(params)
        trials.study.tell(number, [params["lr"]])


def test_through_the_service_conditional_runs_hold_their_branch_and_every_run_is_a_trial():
    """A conditional ``method: custom`` sweep on a real (memory) store: each claimed run's config holds
    the parameters of its branch only, and the next suggestion's study counts every ended run."""
    from sweepkit.connect import open_local
    from sweepkit.service.types import LogBatch

    service = open_local("memory://test", create=True)
    sweep = service.create_sweep(
        {
            "program": "train.py",
            "method": "custom",
            "metric": {"name": "a"},
            "parameters": CONDITIONAL,
            "scheduler": {
                "engine": "optuna",
                "settings": {"sampler": "tpe", "seed": 3, "n_startup_trials": 4},
            },
        }
    )
    _cfg, space = _conditional("tpe")
    agent = service.register_agent(sweep.id, host="test", pid=1)
    branches = set()
    for i in range(10):
        claim = service.claim_run(sweep.id, agent, f"k{i}")
        config = claim.assignment.config
        flat = space.flatten(config)
        assert set(flat) == space.active(flat), flat
        branches.add(flat["opt"])
        a = flat["lr"] + flat.get("momentum", 2.0)
        service.log(claim.assignment.run_id, LogBatch(1, [{"_step": 0, "a": a}]))
        service.finish_run(claim.assignment.run_id, RunState.FINISHED)
    assert branches == {"sgd", "adam"}
    (last,) = [r for r in service.all_runs(sweep.id) if r.number == 10]
    assert last.suggestion["n_trials"] == 9  # every earlier run, whichever branch it took
    service.close()
