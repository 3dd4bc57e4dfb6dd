"""``sweepkit slurm``: a job array of agents, submitted to a stand-in ``sbatch`` on PATH that runs the
array's tasks here (tests/standins/sbatch); real agent processes and a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sweepkit.connect import open_local
from sweepkit.runs import RunState

STANDINS = Path(__file__).parent / "standins"
SECRET = "s3cret-pw-4242"


def _sweepkit(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SWEEPKIT_DB", "SWEEPKIT_URL", "SWEEPKIT_TOKEN")}
    env.update(
        PATH=f"{STANDINS}{os.pathsep}{env['PATH']}",
        SWEEPKIT_INTERPRETER=sys.executable,
        STANDIN_SBATCH_RECORD=str(tmp_path / "sbatch.jsonl"),
    )
    env.update(extra)
    return env


def _grid(service, tmp_path: Path) -> str:
    (tmp_path / "train.py").write_text("import time\ntime.sleep(0.2)\n")
    config = {
        "program": "train.py",
        "method": "grid",
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": ["x", "y", "z"]}},
    }
    return service.create_sweep(config).id


def test_a_job_array_of_agents_finishes_a_grid_exactly_once(store_url, tmp_path):
    service = open_local(store_url, create=True)
    sweep_id = _grid(service, tmp_path)
    if store_url.startswith("sqlite"):
        # A relative --db: the tasks, started elsewhere, get it made absolute.
        secret, args = str(tmp_path / "store.db"), ["--db", "store.db"]
        env = _env(tmp_path, SWEEPKIT_TOKEN=SECRET)  # a token is no store's: not passed on
    else:
        # A database URL with a password (the test server trusts local connections and ignores it).
        secret, args = SECRET, []
        env = _env(tmp_path, SWEEPKIT_DB=store_url.replace("postgres@", f"postgres:{SECRET}@", 1))
    out = _sweepkit(["slurm", sweep_id, "--agents", "3", *args], tmp_path, env)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip()
    assert job_id.isdigit()
    assert f"Submitted job array {job_id}: 3 agents of sweep {sweep_id}" in out.stderr

    runs = service.all_runs(sweep_id)
    assert sorted((r.params["a"], r.params["b"]) for r in runs) == [(a, b) for a in (1, 2, 3) for b in "xyz"]
    assert {r.state for r in runs} == {RunState.FINISHED}
    assert service.get_sweep(sweep_id).state == "finished"

    (call,) = [json.loads(line) for line in (tmp_path / "sbatch.jsonl").read_text().splitlines()]
    assert call["exit_codes"] == [0, 0, 0]
    assert call["argv"][1:-1] == ["--parsable"]
    assert secret not in json.dumps(call["argv"]) and secret not in call["script"]
    assert SECRET not in Path(call["argv"][-1]).read_text()
    assert "#SBATCH --array=0-2\n" in call["script"]
    logs = sorted((tmp_path / ".sweepkit" / "slurm").glob(f"{sweep_id}-{job_id}_*.log"))
    assert [log.name for log in logs] == [f"{sweep_id}-{job_id}_{task}.log" for task in range(3)]
    for log in logs:
        assert f"agent stops: sweep {sweep_id} is finished" in log.read_text()


def test_dry_run_prints_the_script_and_submits_nothing(tmp_path):
    service = open_local(f"sqlite:///{tmp_path / 's.db'}", create=True)
    sweep_id = _grid(service, tmp_path)
    env = _env(tmp_path, SWEEPKIT_DB=str(tmp_path / "s.db"), SWEEPKIT_KILL_GRACE="30")
    options = ["--agents", "4", "--gpus-per-agent", "2", "--time", "4:00:00", "--partition", "gpu"]
    out = _sweepkit(["slurm", sweep_id, *options, "--sbatch-option=--account=ml", "--dry-run"], tmp_path, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "\n".join(
        [
            "#!/bin/bash",
            f"#SBATCH --job-name=sweepkit-{sweep_id}",
            "#SBATCH --array=0-3",
            "#SBATCH --ntasks=1",
            f"#SBATCH --chdir={tmp_path}",
            f"#SBATCH --output={tmp_path}/.sweepkit/slurm/{sweep_id}-%A_%a.log",
            "#SBATCH --export=ALL",
            "#SBATCH --gres=gpu:2",
            "#SBATCH --time=4:00:00",
            "#SBATCH --signal=B:TERM@90",
            "#SBATCH --partition=gpu",
            "#SBATCH --account=ml",
            f"# 4 sweepkit agents of sweep {sweep_id}, one per array task.",
            "# Where they find the sweep (SWEEPKIT_DB) comes from the environment sbatch was",
            "# given (--export=ALL), not from this file.",
            f"exec {sys.executable} -m sweepkit agent {sweep_id} --gpus all --gpus-per-run 1",
            "",
        ]
    )
    assert "not submitted (--dry-run); sbatch would pass SWEEPKIT_DB from this environment" in out.stderr
    assert not (tmp_path / "sbatch.jsonl").exists()
    assert not (tmp_path / ".sweepkit" / "slurm").exists()

    out = _sweepkit(["slurm", sweep_id, *options, "--gpus-per-run", "3", "--dry-run"], tmp_path, env)
    assert out.returncode == 1
    assert out.stderr == "error: --gpus-per-run 3 is more than an agent's 2 GPUs (--gpus-per-agent)\n"
