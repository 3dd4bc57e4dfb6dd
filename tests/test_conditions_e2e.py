"""Conditional parameters end to end: real agent processes, real stores, a real ``sweepkit server``.

- A program agent runs a grid over a 3-branch tree: each valid point runs exactly once, and neither
  ``${args}`` nor ``run.config`` nor the stored run holds an inactive parameter.
- Function agents run random and bayes sweeps over the tree through ``sweepkit server`` (URL and
  token only): every run holds exactly its active parameters.
- ``sweepkit runs`` shows an inactive parameter as a blank cell, CSV leaves it empty and JSON leaves
  it out.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sweepkit.connect import open_local
from sweepkit.run_export import flatten
from sweepkit.runs import RunState
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import load_config

PARAMETERS = {
    "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
    "momentum": {"values": [0.0, 0.9], "when": {"optimizer": "sgd"}},
    "adam": {
        "when": {"optimizer": "adam"},
        "parameters": {
            "beta1": {"values": [0.9, 0.99]},
            "amsgrad": {"values": [True, False], "when": {"adam.beta1": 0.99}},
        },
    },
    "rho": {"values": [0.5, 0.9, 0.95], "when": {"optimizer": "rmsprop"}},
}
#: sgd 2 + adam (0.9 alone, 0.99 with 2 amsgrad) 3 + rmsprop 3
GRID_POINTS = 8

PROGRAM = """
import json, os, sys
import wandb

run = wandb.init()
out = {"argv": sys.argv[1:], "config": run.config.as_dict()}
with open(os.path.join(os.environ["OUT_DIR"], run.id + ".json"), "w") as f:
    json.dump(out, f)
loss = {"sgd": 1.0, "adam": 0.5, "rmsprop": 0.7}[run.config["optimizer"]]
wandb.log({"loss": loss})
"""

FUNCTION_AGENT = """
import json, os
import sweepkit

def train():
    run = sweepkit.init()
    config = run.config.as_dict()
    with open(os.path.join(os.environ["OUT_DIR"], run.id + ".json"), "w") as f:
        json.dump({"config": config}, f)
    score = {"sgd": 1.0, "adam": 0.5, "rmsprop": 0.7}[config["optimizer"]]
    sweepkit.log({"loss": score + config.get("momentum", 0.0) + config.get("rho", 0.0)})

report = sweepkit.agent(os.environ["SWEEP_ID"], function=train, count=int(os.environ["COUNT"]), quiet=True)
assert not report.gave_up, report
"""


def _space() -> SearchSpace:
    return SearchSpace.from_config(load_config({"method": "random", "parameters": PARAMETERS}))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env["SWEEPKIT_INTERPRETER"] = sys.executable
    env.update(extra)
    return env


def _assert_only_active(space: SearchSpace, params: dict) -> None:
    assert set(params) == space.active(params), params


def test_a_program_agents_grid_over_a_three_branch_tree_runs_each_valid_point_once(store_url, tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent(PROGRAM))
    out = tmp_path / "out"
    out.mkdir()
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": PARAMETERS,
    }
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(config)
    assert service.get_sweep(sweep.id).planned_runs == GRID_POINTS
    agents = [
        subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep.id, "--quiet"],
            cwd=tmp_path,
            env=_env(SWEEPKIT_DB=store_url, OUT_DIR=str(out)),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for agent in agents:
        _, err = agent.communicate(timeout=300)
        assert agent.returncode == 0, err
    space = _space()
    runs = service.all_runs(sweep.id)
    assert len(runs) == GRID_POINTS and all(r.state == RunState.FINISHED for r in runs)
    points = {json.dumps(r.params, sort_keys=True) for r in runs}
    assert len(points) == GRID_POINTS  # each valid point once
    for run in runs:
        _assert_only_active(space, run.params)
        seen = json.loads((out / f"{run.id}.json").read_text())
        assert flatten(seen["config"]) == run.params  # run.config: the active parameters only
        # ${args}: --name=value, a nested group as one Python dict (as W&B writes it)
        given = {}
        for arg in seen["argv"]:
            key, _, raw = arg.lstrip("-").partition("=")
            given[key] = ast.literal_eval(raw) if raw.startswith("{") else raw
        assert set(flatten(given)) == set(run.params)
    assert service.get_sweep(sweep.id).state == "finished"

    # `sweepkit runs`: blank (not zero) for an inactive parameter; CSV empty; JSON absent
    def runs_as(fmt: str, *more: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "sweepkit", "runs", sweep.id, "--format", fmt, *more],
            cwd=tmp_path,
            env=_env(SWEEPKIT_DB=store_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    rows = list(csv.DictReader(io.StringIO(runs_as("csv"))))
    for row in rows:
        if row["config.optimizer"] == "sgd":
            assert row["config.rho"] == "" and row["config.adam.beta1"] == "" and row["config.momentum"] != ""
    listed = json.loads(runs_as("json"))
    listed = listed["runs"] if isinstance(listed, dict) else listed
    for run in listed:
        assert set(flatten(run["config"])) == space.active(flatten(run["config"]))
    table = runs_as("table", "--columns", "optimizer,rho").splitlines()
    assert table[0].split() == ["config.optimizer", "config.rho"]
    cells = [line.split() for line in table[1:]]
    assert cells.count(["sgd"]) == 2 and cells.count(["adam"]) == 3  # rho blank, not 0
    assert sorted(c[1] for c in cells if c[0] == "rmsprop") == ["0.5", "0.9", "0.95"]


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_function_agents_over_the_server_hold_only_active_parameters(
    method, tmp_path, sqlite_template, server_factory
):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent", name="conditions").secret
    sweep = local.create_sweep({"method": method, "metric": {"name": "loss"}, "parameters": PARAMETERS})
    local.close()
    server = server_factory(db)
    out = tmp_path / "out"
    out.mkdir()
    env = _env(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=token, SWEEP_ID=sweep.id, OUT_DIR=str(out), COUNT="7")
    agents = [
        subprocess.Popen(
            [sys.executable, "-c", FUNCTION_AGENT], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for agent in agents:
        _, err = agent.communicate(timeout=300)
        assert agent.returncode == 0, err
    space = _space()
    local = open_local(db)
    runs = local.all_runs(sweep.id)
    local.close()
    assert len(runs) == 14
    branches = set()
    for run in runs:
        assert run.state == RunState.FINISHED
        _assert_only_active(space, run.params)
        seen = json.loads((Path(out) / f"{run.id}.json").read_text())
        assert flatten(seen["config"]) == run.params
        branches.add(run.params["optimizer"])
    assert len(branches) >= 2
