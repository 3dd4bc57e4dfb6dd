"""End to end: real agent processes and programs on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sweepkit.connect import open_local
from sweepkit.runs import RunState


def _env(store_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["SWEEPKIT_DB"] = store_url
    env["SWEEPKIT_INTERPRETER"] = sys.executable
    env.update(extra)
    return env


def _sweepkit(args: list[str], store_url: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=_env(store_url, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _start_agent(sweep_id: str, store_url: str, cwd: Path, *more: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet", *more],
        cwd=cwd,
        env=_env(store_url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_eight_agents_run_each_grid_point_exactly_once(store_url, tmp_path):
    _write(tmp_path / "noop.py", "import sys\n")
    config = {
        "program": "noop.py",
        "method": "grid",
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {
            "a": {"values": list(range(20))},
            "b": {"values": ["x", "y", "z", "w", "v", "u", "t", "s", "r", "q"]},
        },
    }
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    agents = [_start_agent(record.id, store_url, tmp_path) for _ in range(8)]
    for proc in agents:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    runs = service.all_runs(record.id)
    points = [(r.params["a"], r.params["b"]) for r in runs]
    assert len(points) == 200
    assert len(set(points)) == 200
    assert all(r.state == RunState.FINISHED for r in runs)
    assert service.get_sweep(record.id).state == "finished"


def test_random_sweep_respects_run_cap_across_agents(store_url, tmp_path):
    _write(tmp_path / "noop.py", "pass\n")
    config = {
        "program": "noop.py",
        "method": "random",
        "run_cap": 13,
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {"lr": {"min": 0.0, "max": 1.0}},
    }
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    agents = [_start_agent(record.id, store_url, tmp_path) for _ in range(4)]
    for proc in agents:
        proc.communicate(timeout=300)
        assert proc.returncode == 0
    assert len(service.all_runs(record.id)) == 13
    sweep = service.get_sweep(record.id)
    assert sweep.state == "finished" and "run_cap" in sweep.state_reason


def test_program_run_sees_its_parameters_and_logs_metrics(store_url, tmp_path):
    _write(
        tmp_path / "train.py",
        """
        import argparse, json, os, sys
        import sweepkit

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float)
        parser.add_argument("--opt")
        args = parser.parse_args()
        run = sweepkit.init(config={"epochs": 3, "opt": {"manual": 1}})
        with open(os.environ["OUT"], "w") as fh:
            json.dump({"argv": sys.argv[1:], "config": dict(run.config),
                       "params_file": open(os.environ["SWEEPKIT_SWEEP_PARAM_PATH"]).read()}, fh)
        for epoch in range(3):
            sweepkit.log({"loss": args.lr * (3 - epoch)})
        print("trained")
        """,
    )
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "lr": {"values": [0.5]},
            "opt": {"parameters": {"name": {"value": "adam"}, "beta": {"value": 0.9}}},
        },
    }
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    out_file = tmp_path / "seen.json"
    result = _sweepkit(["agent", record.id], store_url, tmp_path, OUT=str(out_file))
    assert result.returncode == 0, result.stderr
    seen = json.loads(out_file.read_text())
    assert seen["argv"] == ["--lr=0.5", "--opt={'beta': 0.9, 'name': 'adam'}"]
    # The sweep's nested group replaces the whole dict given to init(); other keys stay.
    assert seen["config"] == {"epochs": 3, "lr": 0.5, "opt": {"beta": 0.9, "name": "adam"}}
    assert "wandb_version: 1" in seen["params_file"]
    (run,) = service.all_runs(record.id)
    assert run.state == RunState.FINISHED and run.exit_code == 0
    assert (run.metric.count, run.metric.last, run.metric.min, run.metric.max) == (3, 0.5, 0.5, 1.5)
    assert run.summary["loss"] == 0.5
    assert [row["loss"] for row in service.full_history(run.id)] == [1.5, 1.0, 0.5]
    log_file = tmp_path / ".sweepkit" / "runs" / run.id / "output.log"
    assert "trained" in log_file.read_text()
    assert "trained" in service.run_output(run.id).text  # the agent sent it to the service too
    assert service.best_run(record.id).id == run.id


def test_agent_killed_with_sigkill_leaves_a_crashed_run(store_url, tmp_path):
    _write(tmp_path / "slow.py", "import time\ntime.sleep(1.0)\n")
    config = {
        "program": "slow.py",
        "method": "grid",
        "command": ["${interpreter}", "${program}"],
        "parameters": {"i": {"values": list(range(6))}},
    }
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    fast = {"SWEEPKIT_HEARTBEAT_TIMEOUT": "2", "SWEEPKIT_HEARTBEAT_INTERVAL": "0.3"}
    victim = _start_agent(record.id, store_url, tmp_path, **fast)
    deadline = time.time() + 60
    while time.time() < deadline and not service.all_runs(record.id):
        time.sleep(0.1)
    assert service.all_runs(record.id), "the first agent never claimed a run"
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    survivor = _start_agent(record.id, store_url, tmp_path, **fast)
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    time.sleep(2.5)
    states = [r.state for r in service.all_runs(record.id)]
    assert states.count(RunState.CRASHED) == 1
    assert states.count(RunState.FINISHED) == 5
    assert service.get_sweep(record.id).state == "finished"


def test_cancel_kills_running_runs_within_seconds(store_url, tmp_path):
    _write(tmp_path / "forever.py", "import time\nwhile True:\n    time.sleep(0.1)\n")
    config = {"program": "forever.py", "method": "random", "parameters": {"x": {"min": 0, "max": 9}}}
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    agent = _start_agent(record.id, store_url, tmp_path, SWEEPKIT_KILL_GRACE="2")
    deadline = time.time() + 60
    while time.time() < deadline and not service.all_runs(record.id):
        time.sleep(0.1)
    result = _sweepkit(["sweep", "--cancel", record.id], store_url, tmp_path)
    assert result.returncode == 0, result.stderr
    cancelled_at = time.time()
    agent.communicate(timeout=60)
    assert time.time() - cancelled_at < 10
    (run,) = service.all_runs(record.id)
    assert run.state == RunState.KILLED
    assert service.get_sweep(record.id).state == "cancelled"


def test_pause_holds_agents_until_resume(store_url, tmp_path):
    _write(tmp_path / "noop.py", "pass\n")
    config = {"program": "noop.py", "method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}}
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    assert _sweepkit(["sweep", "--pause", record.id], store_url, tmp_path).returncode == 0
    agent = _start_agent(record.id, store_url, tmp_path, SWEEPKIT_PAUSE_POLL="0.2")
    time.sleep(2.0)
    assert agent.poll() is None
    assert service.all_runs(record.id) == []
    assert _sweepkit(["sweep", "--resume", record.id], store_url, tmp_path).returncode == 0
    agent.communicate(timeout=120)
    assert agent.returncode == 0
    assert len(service.all_runs(record.id)) == 3


def test_ctrl_c_stops_the_run_cleanly(store_url, tmp_path):
    _write(
        tmp_path / "graceful.py",
        """
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
        while True:
            time.sleep(0.05)
        """,
    )
    config = {"program": "graceful.py", "method": "random", "parameters": {"x": {"min": 0, "max": 9}}}
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    agent = _start_agent(record.id, store_url, tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and not service.all_runs(record.id):
        time.sleep(0.1)
    time.sleep(0.5)
    agent.send_signal(signal.SIGINT)
    agent.communicate(timeout=60)
    (run,) = service.all_runs(record.id)
    assert run.state == RunState.KILLED
    assert run.exit_code == 3


def test_metric_target_ends_the_sweep(store_url, tmp_path):
    _write(
        tmp_path / "hit.py",
        """
        import sweepkit
        run = sweepkit.init()
        sweepkit.log({"acc": run.config["x"] / 10})
        """,
    )
    config = {
        "program": "hit.py",
        "method": "grid",
        "metric": {"name": "acc", "goal": "maximize", "target": 0.3},
        "parameters": {"x": {"values": list(range(10))}},
    }
    service = open_local(store_url, create=True)
    record = service.create_sweep(config)
    result = _sweepkit(["agent", record.id, "--quiet"], store_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(service.all_runs(record.id)) == 4
    sweep = service.get_sweep(record.id)
    assert sweep.state == "finished" and "target" in sweep.state_reason


def test_cli_sweep_prints_only_the_id_and_runs_json(store_url, tmp_path):
    _write(tmp_path / "noop.py", "pass\n")
    _write(
        tmp_path / "sweep.yaml",
        """
        program: noop.py
        method: grid
        parameters:
          lr:
            values: [1e-3, 1e-2]
          opt:
            parameters:
              kind:
                value: adam
        """,
    )
    created = _sweepkit(["sweep", "sweep.yaml"], store_url, tmp_path)
    assert created.returncode == 0, created.stderr
    sweep_id = created.stdout.strip()
    assert created.stdout == sweep_id + "\n"
    assert "sweepkit agent" in created.stderr and sweep_id in created.stderr
    assert _sweepkit(["agent", f"myproject/{sweep_id}", "--quiet"], store_url, tmp_path).returncode == 0
    listed = _sweepkit(["runs", sweep_id, "--format", "json"], store_url, tmp_path)
    runs = json.loads(listed.stdout)
    assert sorted(r["config"]["lr"] for r in runs) == [0.001, 0.01]
    assert all(r["config"]["opt"] == {"kind": "adam"} for r in runs)
    assert {"id", "name", "state", "config", "summary", "created_at", "duration_s", "exit_code"} <= set(
        runs[0]
    )
    table = _sweepkit(["runs", sweep_id], store_url, tmp_path)
    assert "config.opt.kind" in table.stdout
    csv_out = _sweepkit(["runs", sweep_id, "--format", "csv"], store_url, tmp_path)
    assert csv_out.stdout.splitlines()[0].startswith("id,name,state")


def test_invalid_config_is_refused_with_a_sentence(store_url, tmp_path):
    _write(
        tmp_path / "bad.yaml",
        "method: grid\nmetric:\n  name: x\n  goal: maximise\nparameters:\n  a:\n    values: [1]\n",
    )
    result = _sweepkit(["sweep", "bad.yaml"], store_url, tmp_path)
    assert result.returncode == 1
    assert "metric.goal" in result.stderr and "maximize" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
