"""bayes with agents claiming at once: a suggestion prepared before the sweep's lock and completed
under it (``bayes.prepare`` / ``bayes.complete``) when other agents claimed points meanwhile."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search.sweep_runs import SweepRuns
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import load_config

pytest.importorskip("numpy")
pytest.importorskip("scipy")

from sweepkit.search import bayes  # noqa: E402
from sweepkit.search.bayes.encoding import row_key  # noqa: E402

BOWL = {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}
MIXED = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
    "width": {"min": 1, "max": 6},
    "act": {"values": ["relu", "tanh", "gelu"]},
}


def _setup(parameters: dict):
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss", "goal": "minimize"}, "parameters": parameters}
    )
    return cfg, SearchSpace.from_config(cfg)


def _loss(p: dict) -> float:
    if "x" in p:
        return (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2
    return (math.log10(p["lr"]) + 2) ** 2 + 0.1 * p["width"] + (p["act"] == "tanh")


def _views(space, n: int, pending: int, seed: int) -> list[RunView]:
    rng = random.Random(seed)
    views = []
    for number in range(n):
        params = space.draw(rng)
        if number >= n - pending:
            views.append(RunView(f"r{number}", RunState.RUNNING, params, MetricStats(), number))
        else:
            stats = MetricStats.from_values([_loss(params)])
            views.append(RunView(f"r{number}", RunState.FINISHED, params, stats, number))
    return views


def _runs(cfg, space, views):
    return SweepRuns.of(views, bayes.digests(cfg, space))


def test_a_claim_of_the_prepared_point_moves_the_suggestion_beside_it_not_across_the_space():
    cfg, space = _setup(BOWL)
    views = _views(space, 30, 2, seed=3)
    prepared = bayes.prepare(cfg, space, _runs(cfg, space, views), random.Random(30))
    taken = RunView("r30", RunState.RUNNING, dict(prepared.suggestion.params), MetricStats(), 30)
    done = bayes.complete(prepared, _runs(cfg, space, [*views, taken]))
    assert done is not None and done.params != prepared.suggestion.params
    assert done.info["penalised_for_new_pending"] == 1
    a, b = prepared.suggestion.params, done.params
    # near the acquisition's peak the model found (the bowl's centre), not a distant pool draw
    assert math.dist((a["x"], a["y"]), (b["x"], b["y"])) < 0.2
    assert math.dist((b["x"], b["y"]), (0.3, 0.6)) < 0.2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mixed=st.booleans(),
    n=st.integers(8, 30),
    pending=st.integers(0, 4),
    fresh=st.integers(0, 4),
    take_prepared=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_a_completed_suggestion_is_a_new_point_of_the_space(mixed, n, pending, fresh, take_prepared, seed):
    cfg, space = _setup(MIXED if mixed else BOWL)
    views = _views(space, n, pending, seed)
    prepared = bayes.prepare(cfg, space, _runs(cfg, space, views), random.Random(seed))
    rng = random.Random(seed + 1)
    claimed = [space.draw(rng) for _ in range(fresh)]
    if take_prepared and fresh:
        claimed[0] = dict(prepared.suggestion.params)
    later = [
        *views,
        *(RunView(f"r{n + i}", RunState.RUNNING, p, MetricStats(), n + i) for i, p in enumerate(claimed)),
    ]
    runs = _runs(cfg, space, later)
    done = bayes.complete(prepared, runs)
    if done is None:  # no model yet (initial design): the service computes a full suggestion
        assert prepared.model is None
        return
    if not fresh:
        assert done.params == prepared.suggestion.params
        return
    assert set(done.params) == set(space.names)
    digest = runs.digests["bayes"]
    _, used = digest.with_live(runs.live)
    assert row_key(digest.domain.encode(done.params)) not in used
