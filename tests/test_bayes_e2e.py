"""A bayes sweep through the whole loop: store, agents (function and program), ``sweepkit runs``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import sweepkit
from sweepkit.runs import RunState

pytest.importorskip("numpy")
pytest.importorskip("scipy")

CONFIG = {
    "method": "bayes",
    "seed": 7,
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "x": {"min": -2.0, "max": 2.0},
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        "opt": {"values": ["adam", "sgd", "rmsprop"]},
    },
}


def _loss(config) -> float:
    import math

    return (config["x"] - 0.5) ** 2 + (math.log10(config["lr"]) + 2) ** 2 + (config["opt"] != "sgd")


def test_seeded_bayes_sweep_is_reproducible_and_explains_its_suggestions(store_url):
    def train():
        run = sweepkit.init()
        run.log({"loss": _loss(run.config)})

    def one_sweep() -> list[dict]:
        sweep_id = sweepkit.sweep(CONFIG, db=store_url)
        report = sweepkit.agent(sweep_id, function=train, count=12, db=store_url, quiet=True)
        assert all(state == RunState.FINISHED for state in report.runs.values())
        runs = sorted(sweepkit.Api(store_url).runs(sweep_id), key=lambda r: r.created_at)
        return [r.to_json() for r in runs]

    first, second = one_sweep(), one_sweep()
    assert [r["config"] for r in first] == [r["config"] for r in second]
    phases = [r["suggestion"]["phase"] for r in first]
    assert phases[0] == "initial-design" and phases[-1] == "model"
    modelled = [r for r in first if r["suggestion"]["phase"] == "model"]
    for r in modelled:
        info = r["suggestion"]
        assert {"predicted_mean", "predicted_std", "acquisition_value"} <= set(info)
        assert info["predicted_std"] >= 0
    # the model beats the initial design on this easy bowl
    design = min(r["summary"]["loss"] for r in first if r["suggestion"]["phase"] != "model")
    assert min(r["summary"]["loss"] for r in modelled) < design


def test_program_agents_on_a_bayes_sweep_and_the_runs_table(store_url, tmp_path):
    (tmp_path / "train.py").write_text(
        textwrap.dedent(
            """
            import math, sweepkit
            run = sweepkit.init()
            c = run.config
            sweepkit.log({"loss": (c.x - 0.5) ** 2 + (math.log10(c.lr) + 2) ** 2 + (c.opt != "sgd")})
            """
        )
    )
    env = {**os.environ, "SWEEPKIT_DB": store_url}
    config = {**CONFIG, "program": "train.py", "run_cap": 10}
    (tmp_path / "sweep.json").write_text(json.dumps(config))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sweepkit", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    created = cli("sweep", "sweep.json")
    assert created.returncode == 0, created.stderr
    sweep_id = created.stdout.strip()
    agents = [
        subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    for agent in agents:
        assert agent.wait(timeout=300) == 0
    runs = json.loads(cli("runs", sweep_id, "--format", "json").stdout)
    assert len(runs) == 10 and all(r["state"] == "finished" for r in runs)
    assert len({json.dumps(r["config"], sort_keys=True) for r in runs}) == 10
    assert any(r["suggestion"]["phase"] == "model" for r in runs)
    table = cli("runs", sweep_id, "--all").stdout  # the suggestion's details: only with --all
    assert "suggestion.phase" in table and "suggestion.predicted_mean" in table
