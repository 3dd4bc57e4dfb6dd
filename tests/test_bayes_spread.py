"""Spreading (step 4 of a bayes suggestion) moves only inputs the runs have shown to matter little."""

from __future__ import annotations

import random

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import load_config

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")


def _domain(d: int):
    from sweepkit.search.bayes.encoding import Domain

    params = {f"x{i}": {"min": 0.0, "max": 1.0} for i in range(d)}
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss", "goal": "minimize"}, "parameters": params}
    )
    return Domain(SearchSpace.from_parameters(cfg.parameters))


def test_only_the_allowed_columns_are_redrawn():
    from sweepkit.search.bayes.acquisition import diversify, maximise
    from sweepkit.search.bayes.gp import Hyper, Posterior

    domain = _domain(3)
    gen = np.random.default_rng(0)
    x = np.random.default_rng(1).random((15, 3))
    y = (x[:, 0] - 0.3) ** 2
    y = (y - y.mean()) / y.std()
    # the model ignores x1 and x2; only x2 may be spread
    post = Posterior(
        x, y, np.zeros(3, dtype=bool), Hyper(np.log(np.array([0.2, 20.0, 20.0])), 0.0, np.log(1e-4))
    )
    best = float(y.min())
    row, value = maximise(post, best, domain, gen, x[np.argsort(y)[:3]], set())
    allowed = np.array([False, False, True])
    for seed in range(5):
        spread, _ = diversify(
            post, best, domain, np.random.default_rng(seed), row, value, set(), columns=allowed
        )
        assert spread[0] == row[0] and spread[1] == row[1]
    none = np.zeros(3, dtype=bool)
    assert diversify(post, best, domain, gen, row, value, set(), columns=none)[0] is row


def test_no_spreading_while_every_input_is_still_near_the_prior():
    """In 12 dimensions after 30 runs of a function of all of them, no length scale is long: the
    suggestion is the acquisition's maximiser itself."""
    from sweepkit.search import next_run

    params = {f"x{i:02d}": {"min": -1.0, "max": 1.0} for i in range(12)}
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss", "goal": "minimize"}, "parameters": params}
    )
    space = SearchSpace.from_config(cfg)
    rng = random.Random(0)
    runs = []
    for i in range(30):
        p = space.draw(rng)
        value = sum((v - 0.2) ** 2 for v in p.values())
        runs.append(RunView(str(i), RunState.FINISHED, p, MetricStats.from_values([value])))
    out = next_run(cfg, space, runs, random.Random(1))
    assert out.info["phase"] == "model"
    assert out.info["spread_from_maximum"] is False
