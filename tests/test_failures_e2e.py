"""Failures say why: a failed run's exit code and last lines of output, an agent's give-up reason,
and exit codes that SLURM and CI can see; with real agent processes and real stores."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from agent_programs import store_env, sweepkit_cli
from sweepkit.connect import open_local
from sweepkit.runs import RunState

BROKEN = """
import sys
print("loading data")
print("ValueError: bad learning rate " + sys.argv[1], file=sys.stderr)
sys.exit(3)
"""


def _sweepkit(args: list[str], store_url: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return sweepkit_cli(args, store_env(store_url, **extra), cwd)


def _config(program: str) -> dict:
    return {
        "program": program,
        "method": "grid",
        "metric": {"name": "loss"},
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {"lr": {"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}},
    }


def test_sweepkit_run_says_why_runs_fail_and_why_agents_stop(tmp_path):
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(_config("missing.py")))
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = _sweepkit(["run", "sweep.yaml", "--agents", "2", "--db", store_url], store_url, tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    err = out.stderr
    assert err.count("failed: exit code 2: ") == 6 and "can't open file" in err
    assert f"output: {tmp_path / '.sweepkit' / 'runs'}" in err
    assert err.count("stopped with exit code 1: agent gives up: 3 runs failed within its first 60 s") == 2
    assert "SWEEPKIT_AGENT_MAX_INITIAL_FAILURES=3" in err and "(its messages: " in err
    assert "runs: 6/6 done, 6 failed" in err


def test_a_failed_run_keeps_its_exit_code_and_last_lines(store_url, tmp_path):
    (tmp_path / "broken.py").write_text(BROKEN)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(_config("broken.py"))
    quiet = _sweepkit(["agent", sweep.id, "--count", "1", "--quiet"], store_url, tmp_path)
    assert quiet.returncode == 1  # every run it ran failed
    assert (
        "failed in " in quiet.stderr and "exit code 3: ValueError: bad learning rate --lr=0.1" in quiet.stderr
    )
    assert "loading data" in quiet.stderr  # --quiet shows a failure's last lines
    (run,) = service.all_runs(sweep.id)
    assert (run.state, run.exit_code) == (RunState.FAILED, 3)
    first, where, *lines = run.error.splitlines()
    assert first == "exit code 3: ValueError: bad learning rate --lr=0.1"
    log = tmp_path / ".sweepkit" / "runs" / run.id / "output.log"
    assert where == f"last lines of {log}:" and lines == ["  loading data", "  " + first.split(": ", 1)[1]]


def test_an_agent_with_a_success_exits_0_and_one_that_gives_up_exits_1(tmp_path):
    (tmp_path / "half.py").write_text("import sys\nsys.exit(0 if sys.argv[1] == '--lr=0.1' else 1)\n")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(_config("half.py"))
    mixed = _sweepkit(["agent", sweep.id, "--count", "2", "--quiet"], store_url, tmp_path)
    assert mixed.returncode == 0, mixed.stderr
    gives_up = _sweepkit(["agent", sweep.id, "--quiet"], store_url, tmp_path)
    assert gives_up.returncode == 1
    assert gives_up.stderr.splitlines()[-1].startswith("sweepkit: agent gives up: 3 runs failed within")
