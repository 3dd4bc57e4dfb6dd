"""Sweeps that change and build on earlier work, with real agents on a real SQLite file and a real
PostgreSQL server: points queued with ``sweep --add`` run first and once under four agent processes;
a grid widened mid-sweep runs exactly its new points once; a bayes sweep given a parameter mid-sweep
keeps its earlier runs as observations; a sweep started ``--from`` an earlier one skips the initial
design; ``sweepkit import`` keeps the rows that fit and names the others."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import sweepkit
from agent_programs import run_agents, store_env, sweepkit_cli
from sweepkit.connect import open_local
from sweepkit.runs import RunState, SweepState

# Records the arguments it was run with (one line per run) in $POINTS_LOG.
RECORDER = """
import json, os, sys, time
time.sleep(0.05)
with open(os.environ["POINTS_LOG"], "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def _sweepkit(args: list[str], store_url: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return sweepkit_cli(args, store_env(store_url, **extra), cwd)


def _logged(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_added_points_run_first_and_once_each_under_four_agents(store_url, tmp_path):
    (tmp_path / "rec.py").write_text(RECORDER)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(
        {
            "program": "rec.py",
            "method": "random",
            "run_cap": 4,
            "command": ["${interpreter}", "${program}", "${args}"],
            "parameters": {"lr": {"min": 0.0, "max": 1.0}, "opt": {"values": ["adam", "sgd"]}},
        }
    )
    points = tmp_path / "points.yaml"
    points.write_text(
        "".join(f"- {{lr: {i / 100 + 0.001}, opt: {'adam' if i % 2 else 'sgd'}}}\n" for i in range(10))
    )
    bad = _sweepkit(["sweep", "--add", sweep.id, "--params", '{"lr": 2, "opt": "adam"}'], store_url, tmp_path)
    assert bad.returncode == 1 and "point 1: lr: expected a number from 0 to 1, got 2" in bad.stderr
    added = _sweepkit(["sweep", "--add", sweep.id, str(points)], store_url, tmp_path)
    assert added.returncode == 0, added.stderr
    assert f"Queued 10 points in sweep {sweep.id} as runs 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" in added.stderr
    listed = _sweepkit(["runs", sweep.id], store_url, tmp_path)
    assert listed.stdout.count("pending") == 10

    log = tmp_path / "points.log"
    run_agents(sweep.id, store_env(store_url, POINTS_LOG=str(log)), tmp_path, 4)
    runs = service.all_runs(sweep.id)
    assert len(runs) == 14 and all(r.state == RunState.FINISHED for r in runs)
    queued = [r for r in runs if r.suggestion.get("queued")]
    assert sorted(r.number for r in queued) == list(range(1, 11))
    # Each queued point ran exactly once (its program saw its values once), before any of the method's.
    ran = _logged(log)
    for r in queued:
        assert ran.count([f"--lr={r.params['lr']}", f"--opt={r.params['opt']}"]) == 1
    assert len(ran) == 14
    last_queued = max(r.started_at for r in queued)
    method_runs = [r for r in runs if not r.suggestion.get("queued")]
    assert all(r.started_at >= min(q.started_at for q in queued) for r in method_runs)
    assert sum(r.started_at < last_queued for r in method_runs) <= 3  # at most the other agents' overlap
    assert service.get_sweep(sweep.id).state == SweepState.FINISHED


def test_a_grid_widened_mid_sweep_runs_exactly_the_new_points_once(store_url, tmp_path):
    (tmp_path / "rec.py").write_text(RECORDER)
    config = {
        "program": "rec.py",
        "method": "grid",
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": ["x", "y"]}},
    }
    (tmp_path / "grid.json").write_text(json.dumps(config))
    wider = {
        **config,
        "parameters": {**config["parameters"], "a": {"values": [1, 2, 3, 4]}, "c": {"values": [0, 1]}},
    }
    (tmp_path / "wider.json").write_text(json.dumps(wider))
    made = _sweepkit(["sweep", "grid.json"], store_url, tmp_path)
    sweep_id = made.stdout.strip()
    log = tmp_path / "points.log"
    first = _sweepkit(
        ["agent", sweep_id, "--quiet", "--count", "4"], store_url, tmp_path, POINTS_LOG=str(log)
    )
    assert first.returncode == 0, first.stderr

    dry = _sweepkit(
        ["sweep", "--update", sweep_id, "wider.json", "--default", "c=0", "--dry-run"], store_url, tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert "the grid grows from 6 to 16 points; 4 already ran, 12 new" in dry.stderr
    assert "parameter c added: the 4 earlier runs are taken to have had c=0" in dry.stderr
    assert "Nothing was changed (--dry-run)." in dry.stderr
    refused = _sweepkit(
        ["sweep", "--update", sweep_id, "wider.json", "--default", "c=5", "--yes"], store_url, tmp_path
    )
    assert refused.returncode == 1 and "default c: expected one of 0, 1, got 5" in refused.stderr
    done = _sweepkit(
        ["sweep", "--update", sweep_id, "wider.json", "--default", "c=0", "--yes"], store_url, tmp_path
    )
    assert done.returncode == 0 and "(now version 2)" in done.stderr

    run_agents(sweep_id, store_env(store_url, POINTS_LOG=str(log)), tmp_path, 2)
    service = open_local(store_url)
    runs = service.all_runs(sweep_id)
    points = [(r.params["a"], r.params["b"], r.params["c"]) for r in runs]
    assert len(points) == 16 and len(set(points)) == 16  # every point of the new grid, none twice
    assert len(_logged(log)) == 16
    history = _sweepkit(["sweep", "--history", sweep_id], store_url, tmp_path)
    assert "version 1" in history.stdout and "version 2" in history.stdout
    assert "  - the grid grows from 6 to 16 points; 4 already ran, 12 new" in history.stdout


def _loss(config) -> float:
    return (config["x"] - 0.3) ** 2 + (config.get("y", 0.5) - 0.7) ** 2


def _train():
    run = sweepkit.init()
    run.log({"loss": _loss(run.config)})


BAYES = {
    "method": "bayes",
    "seed": 3,
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}},
}


def test_a_bayes_sweep_given_a_parameter_keeps_using_its_earlier_runs(store_url):
    pytest.importorskip("scipy")
    sweep_id = sweepkit.sweep(BAYES, db=store_url)
    sweepkit.agent(sweep_id, function=_train, count=6, db=store_url, quiet=True)
    api = sweepkit.Api(db=store_url)
    try:
        wider = {**BAYES, "parameters": {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}}
        changes = api.update_sweep(sweep_id, wider, defaults={"y": 0.5})
        assert "all 6 earlier runs lie in the new space: bayes keeps them all as observations" in changes
        sweepkit.agent(sweep_id, function=_train, count=2, db=store_url, quiet=True)
        runs = sorted(api.runs(sweep_id), key=lambda r: r.number)
        assert [r.params["y"] for r in runs[:6]] == [0.5] * 6
        later = [r.suggestion for r in runs[6:]]
        assert [s["n_observations"] for s in later] == [6, 7] and all(
            s["n_outside_space"] == 0 for s in later
        )
        assert all(s["phase"] == "model" for s in later)  # 6 runs already pass the initial design of 2 inputs
        narrower = {**wider, "parameters": {"x": {"min": 0.0, "max": 0.5}, "y": {"min": 0.0, "max": 1.0}}}
        outside = sum(r.params["x"] > 0.5 for r in runs)
        changes = api.update_sweep(sweep_id, narrower, dry_run=True)
        assert f"{outside} of 8 earlier runs fall outside the new space: bayes ignores them" in changes[-1]
        assert [v.version for v in api.config_versions(sweep_id)] == [1, 2]
        # From Python, a new sweep over the narrower space starts from the runs it can express.
        warm = sweepkit.sweep(narrower, db=store_url, from_sweeps=[sweep_id])
        imported = api.runs(warm)
        assert len(imported) == 8 - outside and all(r.params["x"] <= 0.5 for r in imported)
        assert {r.suggestion["imported"] for r in imported} == {f"sweep {sweep_id}"}
    finally:
        api.close()


def test_a_warm_started_bayes_sweep_skips_the_initial_design(store_url, tmp_path):
    pytest.importorskip("scipy")
    earlier = sweepkit.sweep(BAYES, db=store_url)
    sweepkit.agent(earlier, function=_train, count=8, db=store_url, quiet=True)
    cold = sweepkit.sweep(BAYES, db=store_url)
    (tmp_path / "bayes.json").write_text(json.dumps(BAYES))
    made = _sweepkit(["sweep", "bayes.json", "--from", earlier], store_url, tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"Took 8 of 8 finished runs of sweep {earlier} as observations" in made.stderr
    warm = made.stdout.strip()
    for sweep_id in (cold, warm):
        sweepkit.agent(sweep_id, function=_train, count=2, db=store_url, quiet=True)
    service = open_local(store_url)
    cold_runs = service.all_runs(cold)
    warm_runs = service.all_runs(warm)
    imported = [r for r in warm_runs if "imported" in r.suggestion]
    assert len(imported) == 8 and all(r.suggestion["imported"] == f"sweep {earlier}" for r in imported)
    assert all(r.state == RunState.FINISHED and r.agent_id is None for r in imported)
    assert [r.suggestion["phase"] for r in cold_runs] == ["initial-design"] * 2
    new = [r for r in warm_runs if "imported" not in r.suggestion]
    assert [r.suggestion["phase"] for r in new] == ["model", "model"]
    assert new[0].suggestion["n_observations"] == 8
    assert [r.params for r in new] != [r.params for r in cold_runs]


def test_import_keeps_97_of_100_rows_and_names_the_3_bad_ones(store_url, tmp_path):
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(
        {
            **BAYES,
            "parameters": {"x": {"min": 0.0, "max": 1.0}, "opt": {"values": ["adam", "sgd"]}},
        }
    )
    lines = ["x,opt,loss,acc"]
    for i in range(100):
        x, opt, loss = i / 100, "adam" if i % 2 else "sgd", (i / 100 - 0.3) ** 2
        if i == 10:
            x = 1.5  # outside the range
        if i == 50:
            opt = "lbfgs"  # not a value of the sweep
        lines.append(f"{x},{opt},{'' if i == 90 else loss},0.5")  # row 90 has no loss
    (tmp_path / "results.csv").write_text("\n".join(lines) + "\n")
    out = _sweepkit(["import", sweep.id, "results.csv"], store_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "results.csv: line 12: x: expected a number from 0 to 1, got 1.5",
        "results.csv: line 52: opt: expected one of 'adam', 'sgd', got 'lbfgs'",
        "results.csv: line 92: loss: expected a number for the sweep's metric, it has none",
        f"Imported 97 of 100 rows of results.csv into sweep {sweep.id} as finished runs",
    ]
    runs = service.all_runs(sweep.id)
    assert len(runs) == 97 and all(r.state == RunState.FINISHED for r in runs)
    assert all(r.suggestion == {"imported": "results.csv"} for r in runs)
    assert service.best_run(sweep.id).params == {"opt": "sgd", "x": 0.3}
    # W&B's runs export shape (JSON lines with config and summary) goes in too.
    export = tmp_path / "wandb.jsonl"
    export.write_text(
        json.dumps(
            {
                "name": "wb-1",
                "config": {"x": {"value": 0.25}, "opt": "adam", "_wandb": {}},
                "summary": {"loss": 0.1},
            }
        )
        + "\n"
    )
    api = sweepkit.Api(db=store_url)
    try:
        result = api.import_runs(sweep.id, export)
        assert (len(result.imported), result.refused) == (1, [])
        assert api.run(result.imported[0]).name == "wb-1"
    finally:
        api.close()
