"""``sweepkit ray``: agents as tasks on a local Ray instance (``ray start --head --num-cpus=2``, started
by this test and stopped after it) run a grid to its end, each point once, and Ctrl-C stops them and
their runs cleanly. Real agent processes and a real store.

Ray's servers listen on every interface, so the whole cluster lives in a network namespace of its
own (``unshare --net``) where only the loopback interface exists: nothing it opens is reachable from
outside. One test: Ray takes seconds to start.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sweepkit.connect import open_local
from sweepkit.runs import RunState

pytest.importorskip("ray")


def _in_own_network(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a bash script in a new network namespace with only loopback up."""
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net"]
    return subprocess.run(
        [*unshare, "bash", "-c", f"set -e\nip link set lo up\n{script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


#: Starts `sweepkit ray` on a sweep of long runs, waits until two run, then Ctrl-C (SIGINT); exits 0
#: if it stopped within a minute with exit code 130.
INTERRUPT = """
import os, signal, subprocess, sys, time
driver = subprocess.Popen([sys.executable, "-m", "sweepkit", "ray", sys.argv[1], "--agents", "2", "--address", sys.argv[2]])
while len(os.listdir("started")) < 2:
    time.sleep(0.2)
driver.send_signal(signal.SIGINT)
sys.exit(0 if driver.wait(timeout=60) == 130 else 1)
"""

#: A run that says it started (its pid), then runs for five minutes unless stopped.
LONG_RUN = """
import os, time
open(os.path.join("started", str(os.getpid())), "w").close()
time.sleep(300)
"""


def _sweep(service, tmp_path: Path, program: str, text: str, parameters: dict) -> str:
    (tmp_path / program).write_text(text)
    config = {
        "program": program,
        "method": "grid",
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": parameters,
    }
    return service.create_sweep(config).id


def test_ray_agent_tasks_run_a_grid_exactly_once_and_stop_cleanly_on_ctrl_c(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.db'}"
    service = open_local(store, create=True)
    grid = _sweep(
        service,
        tmp_path,
        "train.py",
        "import time\ntime.sleep(0.3)\n",
        {"a": {"values": [1, 2, 3]}, "b": {"values": [True, False]}},
    )
    long = _sweep(service, tmp_path, "long.py", LONG_RUN, {"a": {"values": [1, 2, 3]}})
    (tmp_path / "interrupt.py").write_text(INTERRUPT)
    (tmp_path / "started").mkdir()
    (tmp_path / "home").mkdir()
    # Ray's sockets live in its temporary folder: a short path keeps them under the length limit.
    ray_tmp = tempfile.mkdtemp(prefix="skray-", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(
        SWEEPKIT_DB=store,
        SWEEPKIT_INTERPRETER=sys.executable,
        HOME=str(tmp_path / "home"),
        RAY_USAGE_STATS_ENABLED="0",
    )
    python = shlex.quote(sys.executable)
    script = f"""
{python} -m ray.scripts.scripts start --head --num-cpus=2 --node-ip-address=127.0.0.1 --port=6399 \\
    --include-dashboard=false --disable-usage-stats --temp-dir={ray_tmp} >ray-start.log 2>&1
trap '{python} -m ray.scripts.scripts stop --force >/dev/null 2>&1' EXIT
{python} -m sweepkit ray {grid} --agents 2 --address 127.0.0.1:6399
{python} interrupt.py {long} 127.0.0.1:6399
"""
    try:
        out = _in_own_network(script, env, tmp_path)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    start_log = tmp_path / "ray-start.log"
    assert out.returncode == 0, out.stderr + (start_log.read_text() if start_log.exists() else "")

    runs = service.all_runs(grid)
    assert sorted((r.params["a"], r.params["b"]) for r in runs) == sorted(
        (a, b) for a in (1, 2, 3) for b in (True, False)
    )
    assert {r.state for r in runs} == {RunState.FINISHED}
    assert service.get_sweep(grid).state == "finished"
    assert "agent 1 on " in out.stderr and "agent 2 on " in out.stderr

    # Ctrl-C: the tasks are cancelled and each agent stops its run cleanly; nothing goes on running.
    assert [r.state for r in service.all_runs(long)] == [RunState.KILLED] * 2
    assert out.stderr.count("interrupted (SIGINT)") >= 2
    for pid in os.listdir(tmp_path / "started"):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
