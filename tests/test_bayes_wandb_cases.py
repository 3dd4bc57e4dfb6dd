"""Edge cases W&B's own test suite checks for its bayes method: a used-up discrete space without
signal, and preempted runs (which resume, so they are pending, not failures)."""

from __future__ import annotations

import random

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search import next_run as suggest
from sweepkit.search.base import Suggestion
from sweepkit.space import SearchSpace, canonical_key
from sweepkit.sweep_config import load_config

pytest.importorskip("numpy")
pytest.importorskip("scipy")


def make(parameters: dict):
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss", "goal": "minimize"}, "parameters": parameters}
    )
    return cfg, SearchSpace.from_config(cfg)


def ask(cfg, space, runs, seed: int) -> Suggestion:
    out = suggest(cfg, space, runs, random.Random(seed))
    assert isinstance(out, Suggestion)
    return out


DISCRETE = {"a": {"values": ["x", "y", "z"]}, "b": {"values": [1, 2]}}


def _every_point(value) -> list[RunView]:
    points = [{"a": a, "b": b} for a in ("x", "y", "z") for b in (1, 2)]
    return [
        RunView(str(i), RunState.FINISHED, p, MetricStats.from_values([value(p)]))
        for i, p in enumerate(points)
    ]


def test_a_used_up_space_without_signal_falls_back_to_random_points():
    cfg, space = make(DISCRETE)
    runs = _every_point(lambda p: 1.0)  # the metric says nothing
    out = [ask(cfg, space, runs, seed) for seed in range(12)]
    assert all("note" in o.info for o in out)
    keys = {canonical_key(o.params) for o in out}
    assert len(keys) >= 4  # not the first point (or any one point) over and over


def test_a_used_up_space_keeps_giving_valid_points_as_repeats_pile_up():
    cfg, space = make(DISCRETE)
    runs = _every_point(lambda p: float(p["b"]))
    for i in range(10):
        p = ask(cfg, space, runs, seed=i).params
        assert p["a"] in ("x", "y", "z") and p["b"] in (1, 2)
        runs.append(RunView(f"r{i}", RunState.FINISHED, p, MetricStats.from_values([float(p["b"])])))


def test_preempted_runs_are_pending_points_not_failures():
    cfg, space = make({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    rng = random.Random(0)
    runs = []
    for i in range(10):
        p = space.draw(rng)
        runs.append(RunView(str(i), RunState.FINISHED, p, MetricStats.from_values([p["x"] + p["y"]])))
    good = {"x": 0.01, "y": 0.02}
    # preempted after logging a bad value at its first step: it resumes, so that value is no verdict
    runs.append(RunView("pre", RunState.PREEMPTED, good, MetricStats.from_values([50.0])))
    runs.append(RunView("ing", RunState.PREEMPTING, {"x": 0.9, "y": 0.1}, MetricStats.from_values([50.0])))
    out = ask(cfg, space, runs, seed=1)
    assert out.info["n_pending"] == 2
    assert out.info["n_observations"] == 10
    failed = [RunView(r.id, RunState.FAILED, r.params, r.metric) if r.id == "pre" else r for r in runs]
    assert ask(cfg, space, failed, seed=1).info["n_observations"] == 11
