"""Launchers against a sweepkit server: the agents they start get the server's URL and token through
the environment only (a stand-in ``sbatch`` runs the job array here; ``sweepkit k8s --dry-run`` names
them without their values). Needs the server (``sweepkit.service.http``, ``sweepkit server``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sweepkit.connect import open_local
from sweepkit.runs import RunState

pytest.importorskip("sweepkit.service.http")

STANDINS = Path(__file__).parent / "standins"


def test_slurm_agents_and_a_k8s_job_use_the_server_and_its_token(tmp_path, sqlite_template, request):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent", name="launchers").secret
    (tmp_path / "train.py").write_text("pass\n")
    sweep_id = local.create_sweep(
        {
            "program": "train.py",
            "method": "grid",
            "command": ["${interpreter}", "${program}", "${args}"],
            "parameters": {"a": {"values": [1, 2, 3, 4]}},
        }
    ).id
    server = request.getfixturevalue("server_factory")(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(
        PATH=f"{STANDINS}{os.pathsep}{env['PATH']}",
        SWEEPKIT_INTERPRETER=sys.executable,
        SWEEPKIT_URL=server.url,
        SWEEPKIT_TOKEN=token,
        STANDIN_SBATCH_RECORD=str(tmp_path / "sbatch.jsonl"),
    )

    def sweepkit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sweepkit", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    out = sweepkit("slurm", sweep_id, "--agents", "2")
    assert out.returncode == 0, out.stderr
    assert "loopback address" in out.stderr
    runs = local.all_runs(sweep_id)
    assert sorted(r.params["a"] for r in runs) == [1, 2, 3, 4]
    assert {r.state for r in runs} == {RunState.FINISHED}
    (call,) = [json.loads(line) for line in (tmp_path / "sbatch.jsonl").read_text().splitlines()]
    assert call["exit_codes"] == [0, 0]
    assert token not in json.dumps(call)
    assert "(SWEEPKIT_TOKEN and SWEEPKIT_URL)" in call["script"]

    # A finished sweep gets no agents; --server on the command line wins over the environment.
    out = sweepkit("slurm", sweep_id, "--agents", "2")
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: sweep {sweep_id} is finished (grid exhausted")
    waiting = local.create_sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}).id
    env.update(SWEEPKIT_URL="http://127.0.0.1:1")
    out = sweepkit("k8s", waiting, "--agents", "2", "--image", "train:1", "--server", server.url, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert token not in out.stdout + out.stderr
    assert "Their pods take SWEEPKIT_TOKEN, SWEEPKIT_URL" in out.stdout
