"""Retrying and deleting runs from the command line and from Python, with real agent processes on a
real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sweepkit
from sweepkit.connect import open_local
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState, SweepState

# Fails for the points listed in $FAIL_ON (comma-separated values of --i).
FLAKY = """
import os, sys
i = sys.argv[1].split("=")[1]
sys.exit(3 if i in os.environ.get("FAIL_ON", "").split(",") else 0)
"""
CONFIG = {
    "program": "flaky.py",
    "method": "grid",
    "command": ["${interpreter}", "${program}", "${args}"],
    "parameters": {"i": {"values": [0, 1, 2, 3, 4, 5]}},
}


def _sweepkit(args: list[str], store_url: str, cwd: Path, *, stdin: str | None = None, **extra: str):
    env = {**os.environ, "SWEEPKIT_DB": store_url, "SWEEPKIT_INTERPRETER": sys.executable, **extra}
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_retry_reruns_failed_grid_points_and_resumes_the_finished_sweep(store_url, tmp_path):
    (tmp_path / "flaky.py").write_text(FLAKY)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(CONFIG)
    first = _sweepkit(["agent", sweep.id, "--quiet"], store_url, tmp_path, FAIL_ON="1,4")
    assert "grid exhausted" in first.stderr
    before = service.get_sweep(sweep.id)
    assert before.state == SweepState.FINISHED and before.runs_by_state == {"finished": 4, "failed": 2}

    out = _sweepkit(["sweep", "--retry", sweep.id, "--state", "failed"], store_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"Queued 2 runs of sweep {sweep.id} again" in out.stderr
    assert f"run agents with: sweepkit agent {sweep.id}" in out.stderr
    assert service.get_sweep(sweep.id).state == SweepState.RUNNING

    second = _sweepkit(["agent", sweep.id, "--quiet"], store_url, tmp_path)
    assert second.returncode == 0, second.stderr
    runs = service.all_runs(sweep.id)
    finished = sorted(r.params["i"] for r in runs if r.state == RunState.FINISHED)
    assert finished == [0, 1, 2, 3, 4, 5]
    failed = [r for r in runs if r.state == RunState.FAILED]
    assert sorted(r.params["i"] for r in failed) == [1, 4] and all(r.retried_by for r in failed)
    info = service.get_sweep(sweep.id)
    assert (info.state, info.run_count, info.planned_runs) == (SweepState.FINISHED, 8, 8)

    again = _sweepkit(["sweep", "--retry", sweep.id], store_url, tmp_path)
    assert again.returncode == 0 and "no failed, crashed or killed run left to retry" in again.stderr
    bad = _sweepkit(["sweep", "--retry", sweep.id, "--state", "finished"], store_url, tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("error: states: expected some of")
    assert "Traceback" not in bad.stderr


def test_delete_asks_first_and_python_retries_too(store_url, tmp_path):
    (tmp_path / "flaky.py").write_text(FLAKY)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(CONFIG)
    _sweepkit(["agent", sweep.id, "--quiet", "--count", "3"], store_url, tmp_path, FAIL_ON="0,1")
    failed = [r.id for r in service.all_runs(sweep.id, states=[RunState.FAILED])]
    assert len(failed) == 2

    piped = _sweepkit(["runs", "--delete", sweep.id, failed[0]], store_url, tmp_path, stdin="y\n")
    assert piped.returncode == 1 and "standard input is not a terminal: add --yes" in piped.stderr
    missing = _sweepkit(["runs", "--delete", "--yes", sweep.id, "nope"], store_url, tmp_path)
    assert missing.returncode == 1 and f"error: no run 'nope' in sweep {sweep.id} in " in missing.stderr
    done = _sweepkit(["runs", "--delete", "--yes", sweep.id, failed[0]], store_url, tmp_path)
    assert done.returncode == 0 and f"Deleted 1 run of sweep {sweep.id}" in done.stderr
    assert [r.id for r in service.all_runs(sweep.id, states=[RunState.FAILED])] == failed[1:]

    api = sweepkit.Api(db=store_url)
    try:
        retried = api.retry_runs(sweep.id)
        assert list(retried) == failed[1:]
        assert api.run(retried[failed[1]]).state == RunState.PENDING
        assert api.delete_runs(sweep.id, list(retried.values())) == list(retried.values())
        with pytest.raises(SweepkitError, match="states: expected some of"):
            api.retry_runs(sweep.id, ["finished"])
    finally:
        api.close()


def test_a_point_left_crashed_by_a_killed_agent_is_run_again(store_url, tmp_path):
    """The issue's case: an agent killed mid-run leaves its point crashed and the grid "exhausted"."""
    (tmp_path / "slow.py").write_text("import sys, time\ntime.sleep(0.3 if sys.argv[1] != '--i=0' else 30)\n")
    service = open_local(store_url, create=True)
    sweep = service.create_sweep({**CONFIG, "program": "slow.py", "parameters": {"i": {"values": [0, 1, 2]}}})
    fast = {"SWEEPKIT_HEARTBEAT_TIMEOUT": "1", "SWEEPKIT_HEARTBEAT_INTERVAL": "0.2"}
    env = {**os.environ, "SWEEPKIT_DB": store_url, "SWEEPKIT_INTERPRETER": sys.executable, **fast}
    victim = subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep.id, "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not service.all_runs(sweep.id):
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)  # its run of point 0 dies with it (parent-death signal)
    victim.wait(timeout=30)
    rest = _sweepkit(["agent", sweep.id, "--quiet"], store_url, tmp_path, **fast)
    assert rest.returncode == 0 and "grid exhausted" in rest.stderr
    time.sleep(1.5)  # point 0's run is silent for longer than the heartbeat timeout

    out = _sweepkit(["sweep", "--retry", sweep.id], store_url, tmp_path, **fast)
    assert f"Queued 1 run of sweep {sweep.id} again" in out.stderr, out.stderr
    (crashed,) = service.all_runs(sweep.id, states=[RunState.CRASHED])
    assert crashed.params == {"i": 0} and crashed.retried_by
    (tmp_path / "slow.py").write_text("pass\n")
    again = _sweepkit(["agent", sweep.id, "--quiet"], store_url, tmp_path, **fast)
    assert again.returncode == 0, again.stderr
    assert service.get_run(crashed.retried_by).state == RunState.FINISHED
    assert service.get_sweep(sweep.id).state == SweepState.FINISHED
