"""Sweeps with several metrics end to end: program agents (real processes) on a local store and
over ``sweepkit server``, with ``engine: optuna`` (NSGA-II, TPE) and sweepkit's bayes; every run
records every metric, ``sweepkit best`` prints the Pareto front and ``sweepkit runs`` sorts by it;
targets on several metrics end the sweep when one run meets them all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import sweepkit
from agent_programs import run_agents, sweepkit_cli
from sweepkit.connect import open_local
from sweepkit.runs import RunState
from sweepkit.runs.objective import Objective, dominates
from sweepkit.sweep_config import load_config

pytest.importorskip("optuna")

# ZDT1 in two inputs (its front: f2 = 1 - sqrt(f1) at y = 0), and a categorical that only costs
TRAIN_PY = """
import math, sweepkit
run = sweepkit.init()
c = run.config
g = 1 + 9 * c.y + (0.5 if c.kind == "slow" else 0.0)
sweepkit.log({"f1": c.x, "f2": g * (1 - math.sqrt(c.x / g))})
"""

PARAMETERS = {
    "x": {"min": 0.0, "max": 1.0},
    "y": {"min": 0.0, "max": 1.0},
    "kind": {"values": ["fast", "slow"]},
}
METRICS = [{"name": "f1", "goal": "minimize"}, {"name": "f2", "goal": "minimize"}]


def _config(**extra) -> dict:
    return {"program": "train.py", "metrics": METRICS, "parameters": PARAMETERS, **extra}


def _cli(cwd, env, *args: str) -> subprocess.CompletedProcess:
    return sweepkit_cli(list(args), env, cwd)


def _check_front(cwd, env, sweep_id: str, n_runs: int) -> list[dict]:
    """Every run has both values; best prints exactly the non-dominated runs; runs sorts by front."""
    runs = json.loads(_cli(cwd, env, "runs", sweep_id, "--format", "json").stdout)
    assert len(runs) == n_runs and all(r["state"] == "finished" for r in runs)
    for r in runs:
        assert r["objectives"] == {"f1": r["summary"]["f1"], "f2": r["summary"]["f2"]}
    objectives = [Objective("f1"), Objective("f2")]
    keys = {r["id"]: tuple(o.key(r["objectives"][o.name]) for o in objectives) for r in runs}
    front = {i for i in keys if not any(dominates(keys[j], keys[i]) for j in keys if j != i)}
    shown = _cli(cwd, env, "best", sweep_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"Pareto front of sweep {sweep_id}: {len(front)} run")
    assert {line.split()[0] for line in shown.stdout.splitlines()[1:]} == front
    as_json = json.loads(_cli(cwd, env, "best", sweep_id, "--format", "json").stdout)
    assert {r["id"] for r in as_json} == front
    table = _cli(cwd, env, "runs", sweep_id, "--sort", "pareto_rank", "--format", "csv").stdout.splitlines()
    header = table[0].split(",")
    assert "metric.f1" in header and "metric.f2" in header and "pareto_rank" in header
    ranks = [int(line.split(",")[header.index("pareto_rank")]) for line in table[1:]]
    assert ranks == sorted(ranks) and ranks.count(1) == len(front)
    return runs


@pytest.mark.parametrize("sampler", ["nsga2", "tpe"])
def test_optuna_engine_with_program_agents(store_url, tmp_path, sampler):
    (tmp_path / "train.py").write_text(TRAIN_PY)
    config = _config(
        method="custom",
        run_cap=14,
        scheduler={"engine": "optuna", "settings": {"sampler": sampler, "seed": 3}},
    )
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    env = {**os.environ, "SWEEPKIT_DB": store_url}
    created = _cli(tmp_path, env, "sweep", "sweep.json")
    assert created.returncode == 0, created.stderr
    sweep_id = created.stdout.strip()
    run_agents(sweep_id, env, tmp_path, 2)
    runs = _check_front(tmp_path, env, sweep_id, 14)
    assert {r["suggestion"]["sampler"] for r in runs} == {sampler}
    assert len({json.dumps(r["config"], sort_keys=True) for r in runs}) == 14


def test_bayes_with_metrics_scalarises_and_records_both(store_url):
    def train():
        run = sweepkit.init()
        c = run.config
        g = 1 + 9 * c["y"]
        run.log({"f1": c["x"], "f2": g * (1 - (c["x"] / g) ** 0.5)})

    sweep_id = sweepkit.sweep({"method": "bayes", "seed": 1, **_config(), "run_cap": 14}, db=store_url)
    report = sweepkit.agent(sweep_id, function=train, count=14, db=store_url, quiet=True)
    assert all(state == RunState.FINISHED for state in report.runs.values())
    service = open_local(store_url)
    try:
        runs = service.all_runs(sweep_id)
        assert all(set(run.objective_values) == {"f1", "f2"} for run in runs)
        assert all(None not in run.objective_values.values() for run in runs)
        modelled = [r.suggestion for r in runs if (r.suggestion or {}).get("phase") == "model"]
        assert modelled and all(len(info["scalarisation_weights"]) == 2 for info in modelled)
        weights = {tuple(info["scalarisation_weights"]) for info in modelled}
        assert len(weights) == len(modelled)  # a fresh direction for each suggestion
        best = service.best_runs(sweep_id)
        assert best[0].rank == 1 and {r.rank for r in best} >= {1}
    finally:
        service.close()


def test_targets_on_several_metrics_end_the_sweep_when_one_run_meets_all(store_url):
    config = {
        "method": "grid",
        "metrics": [{"name": "a", "target": 1}, {"name": "b", "goal": "maximize", "target": 5}],
        "parameters": {"i": {"values": [0, 1, 2, 3, 4, 5]}},
    }

    def train():
        run = sweepkit.init()
        i = run.config["i"]
        run.log({"a": 0 if i != 3 else 1, "b": i if i != 1 else 9})

    sweep_id = sweepkit.sweep(config, db=store_url)
    sweepkit.agent(sweep_id, function=train, db=store_url, quiet=True)
    service = open_local(store_url)
    try:
        runs = service.all_runs(sweep_id)
        assert sorted(run.params["i"] for run in runs) == [0, 1]  # i=0 meets a (0 <= 1) only; i=1 both
        assert "every target of metrics reached by run" in (service.get_sweep(sweep_id).state_reason or "")
    finally:
        service.close()


def test_optuna_engine_over_the_server(tmp_path, sqlite_template, server_factory):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent", name="multi-objective agents").secret
    config = _config(
        method="custom", run_cap=10, scheduler={"engine": "optuna", "settings": {"sampler": "nsga2"}}
    )
    sweep = local.create_sweep(load_config(config).data)
    local.close()
    server = server_factory(db)
    (tmp_path / "train.py").write_text(TRAIN_PY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=token)
    run_agents(sweep.id, env, tmp_path, 2)
    _check_front(tmp_path, {**env, "SWEEPKIT_TOKEN": token}, sweep.id, 10)
