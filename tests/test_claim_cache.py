"""Claims keep what they learnt of a sweep's runs (``sweepkit.search.sweep_runs``) and still suggest
exactly what a policy that reads every run from scratch suggests.

A bayes, a grid and a targeted random sweep live through finishes, failures, crashes (and runs heard
from again), retries, deletions and a config update, over real stores (memory, SQLite, PostgreSQL)
and with a second service on the same store (another server process, or one restarted). Before each
claim, a fresh ``SweepPolicy`` computes the suggestion from every run in the store; the claim must
hand out the same parameters with the same explanation.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest

from sweepkit.runs import RunState
from sweepkit.search.base import Finished
from sweepkit.service.local import LocalSweepService
from sweepkit.service.sweep_policy import SweepPolicy
from sweepkit.service.types import LogBatch
from sweepkit.store import open_store

CONFIGS = {
    "bayes": {
        "method": "bayes",
        "seed": 7,
        "metric": {"name": "loss", "goal": "minimize", "impute": "latest"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
            "width": {"min": 1, "max": 6},
            "act": {"values": ["relu", "tanh", "gelu"]},
        },
    },
    # several metrics (issue 24): bayes's scalarisations and the Optuna engine read every run afresh;
    # a target on both metrics is a digest of its own
    "bayes-metrics": {
        "method": "bayes",
        "seed": 7,
        "metrics": [{"name": "loss", "target": -5.0}, {"name": "size", "goal": "maximize", "target": 100}],
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
            "width": {"min": 1, "max": 6},
            "act": {"values": ["relu", "tanh", "gelu"]},
        },
    },
    "optuna-nsga2": {
        "method": "custom",
        "metrics": [{"name": "loss"}, {"name": "size", "goal": "maximize"}],
        "scheduler": {"engine": "optuna", "settings": {"sampler": "nsga2", "seed": 2, "population_size": 4}},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
            "width": {"min": 1, "max": 6},
            "act": {"values": ["relu", "tanh", "gelu"]},
        },
    },
    "grid": {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2, 3, 4]}, "b": {"values": ["x", "y", "z"]}, "c": {"value": 1}},
    },
    "random": {
        "method": "random",
        "seed": 3,
        "metric": {"name": "loss", "goal": "minimize", "target": -1.9},
        "parameters": {"x": {"min": -2.0, "max": 2.0}},
    },
}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_services(request, tmp_path):
    """Two services on one store: each keeps its own digests, as two server processes would."""
    if request.param == "memory":
        store = open_store(f"memory://claims-{uuid.uuid4().hex}")
        services = [LocalSweepService(store), LocalSweepService(store)]
    else:
        if request.param == "sqlite":
            import shutil

            shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "s.db")
            url = f"sqlite:///{tmp_path / 's.db'}"
        else:
            url = request.getfixturevalue("postgres_url")
        services = [LocalSweepService(open_store(url)), LocalSweepService(open_store(url))]
    yield services
    for service in {id(s.store): s for s in services}.values():
        service.close()


def expected(service, sweep_id):
    """The claim's outcome computed from scratch: a new policy over every run in the store."""

    def tx(t):
        sweep = t.sweep(sweep_id)
        pending = t.runs(sweep_id, states=[RunState.PENDING])
        return sweep, list(t.run_views(sweep_id)), bool(pending)

    sweep, views, pending = service.store.transact(tx, write=False)
    if pending:
        return None  # a queued retry is handed out first: no suggestion to compare
    policy = SweepPolicy(sweep.config, source="scratch")
    return policy.next_run(sweep.run_count - sweep.retry_count, views)


def loss(params):
    if "lr" in params:
        return (params["lr"] - 0.01) ** 2 * 100 + params["width"] * 0.1 + (params["act"] == "tanh")
    if "a" in params:
        return params["a"] * 1.5 - (params["b"] == "y")
    return params["x"]


@pytest.mark.parametrize("method", ["bayes", "grid", "random", "bayes-metrics", "optuna-nsga2"])
def test_kept_runs_suggest_what_every_run_read_from_scratch_suggests(two_services, method):
    rng = random.Random(method)
    first, second = two_services
    sweep_id = first.create_sweep(CONFIGS[method]).id
    agents = {id(s): s.register_agent(sweep_id, host="h", pid=1) for s in two_services}
    live: list[str] = []
    compared = 0
    for step in range(60 if method.startswith("bayes") else 30):
        service = first if rng.random() < 0.7 else second
        want = expected(service, sweep_id)
        claim = service.claim_run(sweep_id, agents[id(service)], f"{method}-{step}-{uuid.uuid4().hex}")
        if isinstance(want, Finished):
            assert claim.assignment is None and claim.reason == want.reason
            break
        assert claim.assignment is not None, claim
        run = service.get_run(claim.assignment.run_id)
        if want is not None:
            assert dict(claim.assignment.params) == want.params
            assert run.suggestion == want.info
            compared += 1
        live.append(run.id)
        # What happens to the runs in between claims: each of the lifecycle's paths.
        action = rng.random()
        if action < 0.55 and live:
            done = live.pop(rng.randrange(len(live)))
            params = first.get_run(done).config
            value = loss(params if "a" not in params else {**params})
            size = params.get("width", 0)
            first.log(done, LogBatch(seq=1, rows=[{"_step": 0, "loss": value, "size": size}]))
            first.finish_run(done, rng.choice([RunState.FINISHED] * 4 + [RunState.FAILED]))
        elif action < 0.65 and live:
            crashed = live[0]
            first.store.transact(
                lambda t: t.end_silent_runs(
                    sweep_id,
                    from_states=[RunState.RUNNING],
                    silent_before=t.now() + timedelta(seconds=1),
                    state=RunState.CRASHED,
                    error="silent",
                )
            )
            if rng.random() < 0.5:  # heard from again: running again
                first.heartbeat(agents[id(first)], [crashed])
        elif action < 0.72:
            first.retry_runs(sweep_id, [RunState.FAILED, RunState.CRASHED])
        elif action < 0.78:
            ended = [
                r.id for r in first.list_runs(sweep_id, states=[RunState.FINISHED, RunState.FAILED]).runs
            ]
            if ended:
                first.delete_runs(sweep_id, [rng.choice(ended)])
        elif action < 0.8 and method == "bayes":
            config = dict(CONFIGS[method], metric={**CONFIGS[method]["metric"], "impute": "worst"})
            first.update_sweep(sweep_id, config)
        live = [r for r in live if first.get_run(r).state in (RunState.RUNNING, RunState.PENDING)]
    assert compared >= 10


def test_a_kept_digest_matches_one_built_from_scratch_after_changes():
    """The bayes digest updated run by run (adds, replacements, removals) equals one built at once."""
    from sweepkit.runs import MetricStats, RunView
    from sweepkit.search.bayes import digests
    from sweepkit.search.sweep_runs import SweepRuns
    from sweepkit.space import SearchSpace
    from sweepkit.sweep_config import load_config

    cfg = load_config(CONFIGS["bayes"])
    space = SearchSpace.from_config(cfg)
    rng = random.Random(1)
    views = {}
    kept = SweepRuns(digests(cfg, space))
    for number in range(1, 200):
        state = rng.choice([RunState.FINISHED, RunState.FAILED, RunState.KILLED, RunState.PREEMPTED])
        view = RunView(f"r{number}", state, space.draw(rng), MetricStats().add([rng.random()]), number)
        views[view.id] = view
        kept.update([view], [])
        if rng.random() < 0.1:
            gone = rng.choice(list(views))
            del views[gone]
            kept.update([], [gone])
    scratch = SweepRuns.of(sorted(views.values(), key=lambda v: v.number), digests(cfg, space))
    a, b = kept.digests["bayes"].points, scratch.digests["bayes"].points
    for name in ("numbers", "rows", "has_row", "kind", "best", "last", "worst"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert len(kept) == len(scratch) == len(views)
