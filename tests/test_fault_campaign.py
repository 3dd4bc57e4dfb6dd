"""The fault campaign's short version (benchmarks/fault_campaign.py), one test per cell: SQLite and a
private PostgreSQL (started by the script), each with and without a ``sweepkit server``; real agents
and run processes SIGKILLed at random moments, the run folders' and the store's filesystems (tmpfs
mounts) filled and freed, the server SIGKILLed and SIGSTOPped for 3 s, PostgreSQL restarted, every
second agent's clock 10 minutes off (libfaketime). Every count must be zero. The long version is the
benchmark itself.

Faults that need root (mounts, a PostgreSQL run as ``postgres``) or a tool (libfaketime, PostgreSQL
15) skip saying why where they cannot run, except with ``SWEEPKIT_REQUIRE_ROOT_FAULTS`` set (``.ci/run``
sets it) or ``CI``, where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fault_campaign.py"
REQUIRED = bool(os.environ.get("SWEEPKIT_REQUIRE_ROOT_FAULTS") or os.environ.get("CI"))
# One cell at a time (on one pytest-xdist worker): each keeps a machine's cores busy with its agents,
# runs and servers, and its faults (3 s heartbeats) are timed for that.
pytestmark = pytest.mark.xdist_group("fault-campaign")


@pytest.mark.parametrize("cell", ["sqlite", "sqlite+server", "postgres", "postgres+server"])
def test_a_short_fault_campaign_loses_duplicates_and_strands_nothing(cell):
    if cell.startswith("postgres") and not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        if REQUIRED:
            pytest.fail("the PostgreSQL cells need PostgreSQL 15's binaries (/usr/lib/postgresql/15/bin)")
        pytest.skip("PostgreSQL 15's binaries are not installed: the PostgreSQL cells cannot run")
    if cell.startswith("postgres") and os.getuid() != 0:
        if REQUIRED:
            pytest.fail("the PostgreSQL cells start a private PostgreSQL as the postgres user: run as root")
        pytest.skip("the PostgreSQL cells start a private PostgreSQL as the postgres user: needs root")
    args = ["--cells", cell, "--seed", "2", "--agents", "3", "--grid", "8", "--bayes", "4"]
    args += ["--faults-for", "12", "--partition-s", "3", "--steps", "40", "--pause", "0.1"]
    args += ["--heartbeat-timeout", "3", "--store-retry", "5", "--recover-within", "240"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    if "not run" in done.stdout:
        if REQUIRED:
            pytest.fail(f"every fault must run here (SWEEPKIT_REQUIRE_ROOT_FAULTS):\n{done.stdout}")
        pytest.skip(f"some faults could not run here (no tmpfs mount or no libfaketime):\n{done.stdout}")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("seed 2, 3 agents"), done.stdout
    counts = next(line for line in lines if line.startswith(f"  {cell} ("))
    assert " x0" not in counts, f"every kind of fault must happen at least once:\n{done.stdout}"
    table = [line.split(" | ") for line in lines if line.startswith(f"{cell} ")]
    assert [row[1].split()[0] for row in table] == ["grid", "bayes"], done.stdout
    for row in table:
        # lost, duplicated, values lost, stuck, agents hung
        assert [cell.strip() for cell in row[4:9]] == ["0"] * 5, done.stdout
