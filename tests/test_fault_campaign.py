"""The fault campaign's short version (benchmarks/fault_campaign.py): real agents and run processes on
SQLite, SIGKILLed at random moments, their run folders' filesystem (a tmpfs the script mounts)
filled and freed; every count must be zero. The long version is the benchmark itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fault_campaign.py"


@pytest.mark.parametrize("seed", [2])
def test_a_short_fault_campaign_loses_duplicates_and_strands_nothing(seed):
    args = ["--seed", str(seed), "--agents", "3", "--grid", "6", "--bayes", "4", "--faults-for", "10"]
    args += ["--steps", "5", "--pause", "0.05", "--heartbeat-timeout", "3", "--recover-within", "300"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    if "run folder full: not run" in done.stdout:
        if os.environ.get("CI"):
            pytest.fail(f"the run-folder fault must run under CI:\n{done.stdout}")
        pytest.skip(f"the run-folder fault could not run here (no tmpfs mount):\n{done.stdout}")
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"seed {seed}, 3 agents, SQLite"), done.stdout
    table = [line.split(" | ") for line in lines if line.startswith(("grid", "bayes"))]
    assert len(table) == 2, done.stdout
    for row in table:
        assert [cell.strip() for cell in row[3:7]] == ["0", "0", "0", "0"], done.stdout
