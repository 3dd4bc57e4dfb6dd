"""One agent, several runs at once: GPU slots (``--gpus``) on a machine that pretends to have four GPUs
(a stand-in ``nvidia-smi`` on PATH), CPU slots (``--parallel``), and how ``--count``, ``run_cap``,
the failure policy, pause and resume, and Ctrl-C behave with slots. Real agent processes, real
programs and a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sweepkit.connect import open_local
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState

STANDINS = Path(__file__).parent / "standins"

#: A run that records its GPUs, its start and end times and its pid, then sleeps $RUN_SECONDS.
RUN_PROGRAM = """
import json, os, sys, time
record = {"gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "order": os.environ.get("CUDA_DEVICE_ORDER"),
          "pid": os.getpid(), "start": time.time()}
out = os.path.join(os.environ["RECORDS"], os.environ["SWEEPKIT_RUN_ID"])
with open(out + ".start", "w") as fh:
    json.dump(record, fh)
print("hello from", os.environ["SWEEPKIT_RUN_ID"], flush=True)
time.sleep(float(os.environ["RUN_SECONDS"]))
record["end"] = time.time()
with open(out + ".json", "w") as fh:
    json.dump(record, fh)
"""


def _env(store_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env.update(
        SWEEPKIT_DB=store_url,
        SWEEPKIT_INTERPRETER=sys.executable,
        PATH=f"{STANDINS}{os.pathsep}{env['PATH']}",
        RECORDS=str(tmp_path / "records"),
        RUN_SECONDS="2.5",
        SWEEPKIT_HEARTBEAT_INTERVAL="0.5",
    )
    env.update(extra)
    (tmp_path / "records").mkdir(exist_ok=True)
    return env


def _sweep(service, tmp_path: Path, program: str, **config) -> str:
    (tmp_path / "run.py").write_text(textwrap.dedent(program))
    base = {"program": "run.py", "method": "grid", "command": ["${interpreter}", "${program}", "${args}"]}
    return service.create_sweep({**base, **config}).id


def _agent(sweep_id: str, env: dict[str, str], cwd: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, *options],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _records(tmp_path: Path, suffix: str) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (tmp_path / "records").glob(f"*{suffix}")}


def test_eight_runs_on_four_gpus_run_four_at_a_time_on_their_own_devices(store_url, tmp_path):
    service = open_local(store_url, create=True)
    sweep_id = _sweep(service, tmp_path, RUN_PROGRAM, parameters={"x": {"values": list(range(8))}})
    agent = _agent(sweep_id, _env(store_url, tmp_path), tmp_path, "--gpus", "all")
    out, err = agent.communicate(timeout=300)
    assert agent.returncode == 0, err

    runs = service.all_runs(sweep_id)
    assert sorted(r.params["x"] for r in runs) == list(range(8))
    assert all(r.state == RunState.FINISHED for r in runs)
    records = _records(tmp_path, ".json")
    assert set(records) == {r.id for r in runs}
    assert {rec["gpus"] for rec in records.values()} == {"0", "1", "2", "3"}
    assert {rec["order"] for rec in records.values()} == {"PCI_BUS_ID"}
    # At each run's start: which runs were going, and on which devices.
    most = 0
    for rec in records.values():
        going = [o for o in records.values() if o["start"] <= rec["start"] < o["end"]]
        devices = [o["gpus"] for o in going]
        assert len(devices) == len(set(devices)), f"two concurrent runs share a GPU: {devices}"
        most = max(most, len(going))
    assert most == 4
    # The agent says where it works and which GPUs each slot has; each run, which slot ran it.
    (listed,) = service.list_agents(sweep_id)
    assert listed.slots == [["0"], ["1"], ["2"], ["3"]] and listed.workdir == str(tmp_path.resolve())
    assert all(listed.slots[run.slot - 1] == [records[run.id]["gpus"]] for run in runs)
    # Output of runs side by side: whole lines, each after its run's id; the start line names the GPU.
    for run in runs:
        assert f"[{run.id}] hello from {run.id}\n" in out
        assert f"run {run.id} ({run.name}) starts on GPU " in err
        assert (
            tmp_path / ".sweepkit" / "runs" / run.id / "output.log"
        ).read_text() == f"hello from {run.id}\n"


def test_ctrl_c_stops_all_four_running_runs(store_url, tmp_path):
    service = open_local(store_url, create=True)
    sweep_id = _sweep(service, tmp_path, RUN_PROGRAM, parameters={"x": {"values": list(range(8))}})
    env = _env(store_url, tmp_path, RUN_SECONDS="300")
    agent = _agent(sweep_id, env, tmp_path, "--gpus", "all", "--quiet")
    deadline = time.monotonic() + 120
    while len(_records(tmp_path, ".start")) < 4:
        assert agent.poll() is None, agent.communicate()[1]
        assert time.monotonic() < deadline, "four runs did not start"
        time.sleep(0.2)
    started = _records(tmp_path, ".start")
    agent.send_signal(signal.SIGINT)
    out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert "agent stops: interrupted (SIGINT)" in err

    runs = service.all_runs(sweep_id)
    assert len(runs) == 4
    assert {r.state for r in runs} == {RunState.KILLED}
    assert sorted(rec["gpus"] for rec in started.values()) == ["0", "1", "2", "3"]
    for rec in started.values():
        with pytest.raises(ProcessLookupError):
            os.kill(rec["pid"], 0)
    assert not _records(tmp_path, ".json")  # none ran to its end


def test_slots_keep_run_cap_and_count_and_a_slot_whose_run_failed_takes_the_next(store_url, tmp_path):
    # The first run to create the marker file fails; every other run finishes.
    program = """
    import os, sys
    try:
        os.close(os.open(os.path.join(os.environ["RECORDS"], "failed-once"), os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        sys.exit(0)
    sys.exit("the first run fails")
    """
    service = open_local(store_url, create=True)
    env = _env(store_url, tmp_path)
    capped = _sweep(
        service, tmp_path, program, method="random", run_cap=7, parameters={"x": {"min": 0, "max": 9}}
    )
    agent = _agent(capped, env, tmp_path, "--parallel", "3", "--quiet")
    _out, err = agent.communicate(timeout=300)
    assert agent.returncode == 0, err
    states = sorted(r.state.value for r in service.all_runs(capped))
    assert states == ["failed"] + ["finished"] * 6
    sweep = service.get_sweep(capped)
    assert sweep.state == "finished" and "run_cap" in sweep.state_reason

    counted = _sweep(service, tmp_path, "pass\n", parameters={"x": {"values": list(range(10))}})
    agent = _agent(counted, env, tmp_path, "--parallel", "3", "--count", "4", "--quiet")
    _out, err = agent.communicate(timeout=300)
    assert agent.returncode == 0, err
    assert "agent stops: ran 4 runs (--count)" in err
    assert [r.state for r in service.all_runs(counted)] == [RunState.FINISHED] * 4


def test_slots_give_up_under_the_failure_policy_and_wait_while_paused(store_url, tmp_path):
    service = open_local(store_url, create=True)
    env = _env(store_url, tmp_path, SWEEPKIT_PAUSE_POLL="0.2")
    failing = _sweep(
        service, tmp_path, "import sys; sys.exit(3)\n", parameters={"x": {"values": list(range(20))}}
    )
    agent = _agent(failing, env, tmp_path, "--parallel", "2", "--quiet")
    _out, err = agent.communicate(timeout=300)
    assert agent.returncode == 1
    assert "agent gives up: 3 runs failed within its first 60 s" in err
    assert 3 <= len(service.all_runs(failing)) <= 4  # the policy stops new claims; one may be going

    paused = _sweep(service, tmp_path, "pass\n", parameters={"x": {"values": list(range(4))}})
    service.control_sweep(paused, "pause")
    log = tmp_path / "paused-agent.log"
    with open(log, "w") as stderr:  # read while it runs: resumed only once it says it waits
        agent = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", paused, "--parallel", "2", "--quiet"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    deadline = time.monotonic() + 120
    while f"sweep {paused} is paused; waiting for resume" not in log.read_text():
        assert agent.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"the agent did not say it waits:\n{log.read_text()}"
        time.sleep(0.1)
    time.sleep(2)  # ten polls (SWEEPKIT_PAUSE_POLL=0.2) while paused: none may claim a run
    assert agent.poll() is None and service.all_runs(paused) == []
    service.control_sweep(paused, "resume")
    agent.wait(timeout=300)
    err = log.read_text()
    assert agent.returncode == 0, err
    assert err.count(f"sweep {paused} is paused; waiting for resume") == 1
    assert [r.state for r in service.all_runs(paused)] == [RunState.FINISHED] * 4
    assert f"agent stops: sweep {paused} is finished" in err


def test_gpus_all_without_nvidia_smi_or_nvml_is_one_sentence(tmp_path):
    store_url = f"sqlite:///{tmp_path / 's.db'}"
    sweep_id = _sweep(open_local(store_url, create=True), tmp_path, "pass\n", parameters={"x": {"value": 1}})
    env = dict(_env(store_url, tmp_path), PATH=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--gpus", "all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("error: --gpus all: no GPU found: neither NVML")
    assert len(out.stderr.strip().splitlines()) == 1
    assert open_local(store_url).all_runs(sweep_id) == []


def test_gpu_groups_follow_the_scheduler_and_nvml(monkeypatch, tmp_path):
    from sweepkit.agents.slots import plan_slots

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7,GPU-0f1e")
    notes: list[str] = []
    slots = plan_slots(gpus="all", gpus_per_run=2, say=notes.append)
    assert [s.gpus for s in slots] == [("4", "5"), ("6", "7")]
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in slots] == ["4,5", "6,7"]
    assert notes == ["GPU GPU-0f1e stays unused: 5 GPUs make 2 groups of 2"]
    assert [s.gpus for s in plan_slots(gpus="1, 3")] == [("1",), ("3",)]
    with pytest.raises(SweepkitError, match="has only 2 GPUs"):
        plan_slots(gpus="0,1", gpus_per_run=3)
    with pytest.raises(SweepkitError, match="not both"):
        plan_slots(gpus="0", parallel=2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    with pytest.raises(SweepkitError, match="leaves this agent no GPU"):
        plan_slots(gpus="all")

    # Without a scheduler's choice, NVML (stubbed here) counts the machine's GPUs; nvidia-smi is not asked.
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("PATH", str(tmp_path))
    stub = type(sys)("pynvml")
    stub.NVMLError = RuntimeError
    stub.nvmlInit = stub.nvmlShutdown = lambda: None
    stub.nvmlDeviceGetCount = lambda: 2
    monkeypatch.setitem(sys.modules, "pynvml", stub)
    assert [s.gpus for s in plan_slots(gpus="all")] == [("0",), ("1",)]


def test_function_runs_are_not_run_in_parallel_slots(tmp_path):
    import sweepkit

    db = str(tmp_path / "s.db")
    sweep_id = sweepkit.sweep({"method": "grid", "parameters": {"x": {"values": [1, 2]}}}, db=db)
    with pytest.raises(
        SweepkitError, match="need program mode: a function run is handed its run through module"
    ):
        sweepkit.agent(sweep_id, function=lambda: None, parallel=2, db=db)


def test_an_agent_without_gpus_imports_no_ray_kubernetes_or_nvml(tmp_path):
    service = open_local(f"sqlite:///{tmp_path / 's.db'}", create=True)
    sweep_id = _sweep(service, tmp_path, "pass\n", parameters={"x": {"values": [1, 2]}})
    env = _env(f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    for options in ([], ["--parallel", "2"]):
        out = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "sweepkit",
                "agent",
                sweep_id,
                "--count",
                "1",
                *options,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        imported = {
            line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line
        }
        assert "sweepkit" in imported
        assert not imported & {"ray", "kubernetes", "pynvml"}, options
