"""Agents on "other machines": real agent processes that know only a server's URL and a token.

- 16 agent processes on a 300-point grid, the server SIGKILLed and restarted twice mid-sweep: every
  point runs exactly once, every logged value is stored exactly once, the sweep completes.
- A program run started by a remote agent reports through its agent: it gets neither the server's
  URL nor the token, and its values arrive.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from sweepkit.connect import open_local
from sweepkit.runs import RunState, SweepState

STEPS = 6

AGENT_PY = """
import os, time
import sweepkit

def train():
    run = sweepkit.init()
    i = run.config["i"]
    for step in range(STEPS):
        sweepkit.log({"loss": i + step / 10, "i_seen": i})
        time.sleep(0.02)

report = sweepkit.agent(os.environ["SWEEP_ID"], function=train, quiet=True)
assert not report.gave_up, report
""".replace("STEPS", str(STEPS))


def _env(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    environ.update(extra)
    return environ


def _finished_runs(db: str, sweep_id: str) -> int:
    service = open_local(db)
    try:
        return service.get_sweep(sweep_id).runs_by_state.get("finished", 0)
    finally:
        service.close()


def _wait_until(predicate, what: str, timeout: float, agents=()) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for agent in agents:
            if agent.poll() not in (None, 0):
                raise AssertionError(f"an agent died while waiting for {what}: {agent.communicate()[1]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_sixteen_agents_and_two_server_kills_lose_and_repeat_nothing(
    tmp_path, sqlite_template, server_factory
):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent", name="e2e agents").secret
    sweep = local.create_sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"i": {"values": list(range(300))}}}
    )
    local.close()
    server = server_factory(db)
    agent_env = _env(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=token, SWEEP_ID=sweep.id)
    agents = [
        subprocess.Popen(
            [sys.executable, "-c", AGENT_PY],
            cwd=tmp_path,
            env=agent_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(16)
    ]
    try:
        for threshold in (80, 180):
            _wait_until(
                lambda t=threshold: _finished_runs(db, sweep.id) >= t, f"{threshold} runs", 180, agents
            )
            server.kill()
            time.sleep(1.0)  # agents find nobody there: refused connections, retried
            server.start()
        outputs = [agent.communicate(timeout=300)[1] for agent in agents]
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
    assert [agent.returncode for agent in agents] == [0] * 16, "\n".join(outputs)
    assert any("is unreachable or busy" in out for out in outputs) and any(
        "answers again" in out for out in outputs
    )

    service = open_local(db)
    info = service.get_sweep(sweep.id)
    assert (info.state, info.run_count) == (SweepState.FINISHED, 300)
    runs = service.all_runs(sweep.id)
    assert sorted(run.params["i"] for run in runs) == list(range(300))  # every point, once
    assert [run.number for run in runs] == list(range(1, 301))
    assert {run.state for run in runs} == {RunState.FINISHED}
    for run in runs:
        i = run.params["i"]
        rows = service.full_history(run.id)
        assert [(r["_step"], r["loss"], r["i_seen"]) for r in rows] == [
            (s, i + s / 10, i) for s in range(STEPS)
        ]
        assert run.metric.count == STEPS  # no value counted twice
    service.close()


PROGRAM_PY = """
import json, os, sys
import sweepkit

run = sweepkit.init()
for step in range(3):
    sweepkit.log({"loss": run.config["x"] * step})
sweepkit.finish()
heavy = sorted(m for m in ("sqlalchemy", "httpx", "fastapi", "numpy", "yaml") if m in sys.modules)
with open(os.environ["OUT"], "w") as fh:
    json.dump({"env": dict(os.environ), "heavy": heavy}, fh)
"""


def test_a_program_run_of_a_remote_agent_reports_through_it_and_holds_no_credential(
    tmp_path, sqlite_template, server_factory
):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent").secret
    admin = local.create_token("admin").secret
    local.close()
    server = server_factory(db)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "train.py").write_text(textwrap.dedent(PROGRAM_PY))
    (work / "sweep.json").write_text(
        json.dumps({"program": "train.py", "method": "grid", "parameters": {"x": {"values": [2]}}})
    )
    made = subprocess.run(
        [sys.executable, "-m", "sweepkit", "sweep", "sweep.json"],
        cwd=work,
        env=_env(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=admin),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    out = work / "seen.json"
    agent = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--server", server.url, "--quiet"],
        cwd=work,
        env=_env(SWEEPKIT_TOKEN=token, SWEEPKIT_INTERPRETER=sys.executable, OUT=str(out)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert agent.returncode == 0, agent.stderr
    seen = json.loads(out.read_text())
    assert not any(name in seen["env"] for name in ("SWEEPKIT_URL", "SWEEPKIT_TOKEN", "SWEEPKIT_DB"))
    assert not any(token in value or server.url in value for value in seen["env"].values())
    assert seen["heavy"] == []
    assert not (work / ".sweepkit" / "sweepkit.db").exists()  # the agent made no store of its own
    service = open_local(db)
    (run,) = service.all_runs(sweep_id)
    assert run.state == RunState.FINISHED
    assert [r["loss"] for r in service.full_history(run.id)] == [0, 2, 4]
    service.close()


def test_a_run_outside_any_sweep_reports_to_the_server_named_by_the_environment(
    tmp_path, sqlite_template, server_factory
):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    token = local.create_token("agent").secret
    local.close()
    server = server_factory(db)
    script = "import sweepkit\nrun = sweepkit.init(project='solo', config={'lr': 0.1})\n"
    script += (
        "for s in range(3):\n    sweepkit.log({'loss': 1.0 / (s + 1)})\nsweepkit.finish()\nprint(run.id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_env(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=token),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    assert not (tmp_path / ".sweepkit").exists()  # nothing local: it all went to the server
    service = open_local(db)
    run = service.get_run(run_id)
    assert (run.project, run.config, run.state) == ("solo", {"lr": 0.1}, RunState.FINISHED)
    assert [r["loss"] for r in service.full_history(run_id)] == [1.0, 0.5, 1 / 3]
    service.close()
