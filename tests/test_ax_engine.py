"""The Ax engine (``scheduler: {engine: ax}``): each suggestion comes from an Ax experiment rebuilt
from the runs alone (the same runs and seed give the same point), every sweepkit distribution keeps
its meaning, running runs are Ax's pending points, and conditional parameters are left out where
inactive. End to end: program agents on a local store (one metric) and over ``sweepkit server`` (two
metrics, the Pareto front). Without ax-platform: one sentence naming the extra.

These tests need the ``ax`` extra (in the ``test`` extra, so CI runs them); each model-based
suggestion fits BoTorch's GP, so they are marked slow."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys

import pytest

from agent_programs import sweepkit_cli
from sweepkit.connect import open_local
from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.runs.objective import Objective, dominates
from sweepkit.search import next_run
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import ConfigError, load_config

PARAMETERS = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "layers": {"min": 1, "max": 6},
    "act": {"values": ["relu", "tanh", {"kind": "gelu"}]},
    "q": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
    "fixed": {"value": 3},
}
MISSING = "pip install 'sweepkit[ax]'"


def _config(metrics: int, **settings) -> dict:
    objectives = [{"name": "val/a"}, {"name": "b", "goal": "maximize"}][:metrics]
    key = {"metrics": objectives} if metrics > 1 else {"metric": objectives[0]}
    settings = {"seed": 1, "n_startup_trials": 3, **settings}
    return {
        "method": "custom",
        **key,
        "parameters": PARAMETERS,
        "scheduler": {"engine": "ax", "settings": settings},
    }


def _stats(a: float, b: float) -> MetricStats:
    return MetricStats.from_values([a]).add_others([{"b": b}], {}, ["b"])


def _runs(cfg, space, n: int) -> list[RunView]:
    runs: list[RunView] = []
    rng = random.Random(0)
    for i in range(n):
        params = next_run(cfg, space, runs, rng).params
        a = math.log10(params["lr"]) ** 2 + params["layers"]
        state = [RunState.FINISHED, RunState.FINISHED, RunState.FAILED, RunState.RUNNING][i % 4]
        runs.append(RunView(str(i), state, params, _stats(a, -a + params["q"])))
    return runs


@pytest.fixture
def ax():
    return pytest.importorskip("ax", reason="needs the ax extra (ax-platform)")


@pytest.mark.slow
@pytest.mark.parametrize("metrics", [1, 2])
def test_points_lie_in_the_space_and_depend_only_on_the_runs(ax, metrics):
    cfg = load_config(_config(metrics))
    space = SearchSpace.from_config(cfg)
    runs = _runs(cfg, space, 5)
    for run in runs:
        p = run.params
        assert 1e-5 <= p["lr"] <= 1e-1 and p["layers"] in range(1, 7) and isinstance(p["layers"], int)
        assert p["act"] in ("relu", "tanh", {"kind": "gelu"}) and p["q"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert p["fixed"] == 3
    assert runs[0].params["lr"] == pytest.approx(1e-3)  # Ax starts at the centre: of log10 for lr
    last = next_run(cfg, space, runs, random.Random(9))
    assert last.info == {"engine": "ax", "node": "MBM", "n_trials": 5}
    assert next_run(cfg, space, runs, random.Random(9)).params == last.params  # nothing else is kept
    # running runs are pending points of Ax's acquisition: three more of them move the next point
    pending = [RunView(f"p{i}", RunState.RUNNING, runs[1].params) for i in range(3)]
    assert next_run(cfg, space, runs + pending, random.Random(9)).params != last.params


@pytest.mark.slow
def test_conditional_parameters_are_left_out_where_inactive(ax):
    parameters = {
        "model": {"values": ["linear", "tree"]},
        "depth": {"min": 1, "max": 9, "when": {"model": "tree"}},
        "x": {"min": 0.0, "max": 1.0},
    }
    cfg = load_config({**_config(1), "parameters": parameters})
    space = SearchSpace.from_config(cfg)
    runs: list[RunView] = []
    for i in range(5):
        params = next_run(cfg, space, runs, random.Random(i)).params
        assert ("depth" in params) == (params["model"] == "tree")
        value = params["x"] + (params["depth"] / 10 if "depth" in params else 0.5)
        runs.append(RunView(str(i), RunState.FINISHED, params, _stats(value, 0.0)))
    assert next_run(cfg, space, runs, random.Random(0)).info["n_trials"] == 5  # every run was told


def test_without_ax_one_sentence_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ax", None)  # import ax fails, find_spec finds nothing
    with pytest.raises(ConfigError) as caught:
        load_config(_config(2))
    assert "scheduler.engine: the ax engine needs the package ax-platform where the sweep runs" in str(
        caught.value
    )
    assert MISSING in str(caught.value)
    # a sweep made where ax was installed, whose runs are claimed where it is not: the engine says
    # so before it looks at the sweep
    from sweepkit.search import ax_engine

    with pytest.raises(RuntimeError) as raised:
        ax_engine.next_run(None, None, [], random.Random(0))
    assert str(raised.value) == (
        "scheduler.engine ax needs the package ax-platform where the sweep runs: " + MISSING
    )


def test_without_ax_the_cli_refuses_the_sweep_in_one_sentence(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['ax'] = None\n")
    (tmp_path / "sweep.json").write_text(json.dumps({"program": "train.py", **_config(1)}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(
        SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}",
        PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
    )
    made = sweepkit_cli(["sweep", "sweep.json"], env, tmp_path)
    assert made.returncode == 1 and "Traceback" not in made.stderr
    assert "scheduler.engine" in made.stderr and MISSING in made.stderr


# --- end to end --------------------------------------------------------------------------------------

# ZDT1 in two inputs (its front: f2 = 1 - sqrt(f1) at y = 0), and a categorical that only costs
TRAIN_PY = """
import math, sweepkit
run = sweepkit.init()
c = run.config
g = 1 + 9 * c.y + (0.5 if c.kind == "slow" else 0.0)
sweepkit.log({"f1": c.x, "f2": g * (1 - math.sqrt(c.x / g)), "n": c.n})
"""
E2E_PARAMETERS = {
    "x": {"min": 0.0, "max": 1.0},
    "y": {"min": 0.0, "max": 1.0},
    "kind": {"values": ["fast", "slow"]},
    "n": {"min": 1, "max": 4},
}


def _agents(cwd, env, sweep_id: str, n: int = 2) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, "\n".join(errors)
    assert not any("Traceback" in e or "[INFO" in e for e in errors), "\n".join(errors)


def _runs_of(cwd, env, sweep_id: str) -> list[dict]:
    shown = sweepkit_cli(["runs", sweep_id, "--format", "json"], env, cwd)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


@pytest.mark.slow
def test_one_metric_with_program_agents(ax, tmp_path):
    (tmp_path / "train.py").write_text(TRAIN_PY)
    config = {
        "program": "train.py",
        "method": "custom",
        "metric": {"name": "f2", "goal": "minimize"},
        "parameters": E2E_PARAMETERS,
        "run_cap": 8,
        "scheduler": {"engine": "ax", "settings": {"seed": 3, "n_startup_trials": 4}},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env["SWEEPKIT_DB"] = f"sqlite:///{tmp_path / 'store.db'}"
    created = sweepkit_cli(["sweep", "sweep.json"], env, tmp_path)
    assert created.returncode == 0, created.stderr
    sweep_id = created.stdout.strip()
    _agents(tmp_path, env, sweep_id)
    runs = _runs_of(tmp_path, env, sweep_id)
    assert len(runs) == 8 and all(r["state"] == "finished" for r in runs)
    assert all(r["config"]["n"] in (1, 2, 3, 4) and r["summary"]["n"] == r["config"]["n"] for r in runs)
    nodes = [r["suggestion"]["node"] for r in sorted(runs, key=lambda r: r["number"])]
    assert nodes[0] == "CenterOfSearchSpace" and "MBM" in nodes
    assert {r["suggestion"]["engine"] for r in runs} == {"ax"}
    best = sweepkit_cli(["best", sweep_id, "--format", "json"], env, tmp_path)
    assert best.returncode == 0, best.stderr


@pytest.mark.slow
def test_two_metrics_over_the_server(ax, tmp_path, sqlite_template, server_factory):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent", name="ax agents").secret
    config = {
        "program": "train.py",
        "method": "custom",
        "metrics": [{"name": "f1", "goal": "minimize"}, {"name": "f2", "goal": "minimize"}],
        "parameters": E2E_PARAMETERS,
        "run_cap": 8,
        "scheduler": {"engine": "ax", "settings": {"seed": 5, "n_startup_trials": 4}},
    }
    sweep = local.create_sweep(load_config(config).data)
    local.close()
    server = server_factory(db)
    (tmp_path / "train.py").write_text(TRAIN_PY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=token)
    _agents(tmp_path, env, sweep.id)
    runs = _runs_of(tmp_path, env, sweep.id)
    assert len(runs) == 8 and all(r["state"] == "finished" for r in runs)
    assert all(set(r["objectives"]) == {"f1", "f2"} for r in runs)
    assert "MBM" in {r["suggestion"]["node"] for r in runs}
    objectives = [Objective("f1"), Objective("f2")]
    keys = {r["id"]: tuple(o.key(r["objectives"][o.name]) for o in objectives) for r in runs}
    front = {i for i in keys if not any(dominates(keys[j], keys[i]) for j in keys if j != i)}
    best = sweepkit_cli(["best", sweep.id, "--format", "json"], env, tmp_path)
    assert best.returncode == 0, best.stderr
    assert {r["id"] for r in json.loads(best.stdout)} == front


def test_settings_of_optuna_are_refused_with_ax(ax):
    with pytest.raises(ConfigError) as caught:
        load_config(_config(1, sampler="tpe"))
    assert "scheduler.settings.sampler: engine ax takes only seed and n_startup_trials" in str(caught.value)
