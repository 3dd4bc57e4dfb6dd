"""Faults, with real processes: what a run process may hold, and what happens when the store misbehaves.

- A program run holds no credentials and loads no database or numeric stack.
- The store deleted under a running agent: the agent stops its run and exits 1 with one sentence;
  nothing re-creates an empty store.
- A SQLite lock held for 40 s (longer than SQLite's own busy timeout) and a PostgreSQL restart (a
  private server's, as root; the shared test server is never taken down under other tests):
  training goes on, and every logged value arrives.
- A bad ``log()`` call raises one clear error and loses nothing logged before or after.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import sweepkit
from sweepkit.connect import open_local
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState

HEAVY = ["sqlalchemy", "numpy", "scipy", "psycopg", "yaml", "alembic", "jsonschema", "click"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env["SWEEPKIT_INTERPRETER"] = sys.executable
    env.update(extra)
    return env


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def _agent(sweep_id: str, cwd: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
        cwd=cwd,
        env=_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


SNOOP_PY = """
import json, os, sys
import sweepkit

run = sweepkit.init()
sweepkit.log({"loss": 1.0})
sweepkit.finish()
heavy = sorted(m for m in %r if m in sys.modules)
with open(os.environ["OUT"], "w") as fh:
    json.dump({"env": dict(os.environ), "heavy": heavy}, fh)
"""


def _snoop(tmp_path: Path, db: str) -> dict:
    _write(tmp_path / "snoop.py", SNOOP_PY % (HEAVY,))
    config = {
        "program": "snoop.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"value": 1}},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    made = subprocess.run(
        [sys.executable, "-m", "sweepkit", "sweep", "sweep.json"],
        cwd=tmp_path,
        env=_env(SWEEPKIT_DB=db),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    out = tmp_path / "seen.json"
    agent = _agent(sweep_id, tmp_path, SWEEPKIT_DB=db, OUT=str(out))
    _stdout, err = agent.communicate(timeout=120)
    assert agent.returncode == 0, err
    seen = json.loads(out.read_text())
    seen["sweep_output"] = made.stdout + made.stderr + err
    seen["run"] = open_local(db).all_runs(sweep_id)[0]
    return seen


def test_a_program_run_holds_no_store_and_loads_nothing_heavy(tmp_path):
    db = str(tmp_path / "store.db")
    seen = _snoop(tmp_path, db)
    assert "SWEEPKIT_DB" not in seen["env"]
    assert not any(db in value for value in seen["env"].values())
    assert seen["heavy"] == []
    assert seen["env"]["WANDB_SWEEP_ID"] == seen["run"].sweep_id
    assert seen["run"].state == RunState.FINISHED and seen["run"].metric.last == 1.0


@pytest.mark.postgres
def test_no_password_reaches_a_run_or_any_message(postgres_url, tmp_path):
    from sqlalchemy.engine import make_url

    # The test server trusts local connections, so any password works: the run must never see it.
    db = make_url(postgres_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    seen = _snoop(tmp_path, db)
    assert not any("s3cret-pw" in value for value in seen["env"].values())
    assert "SWEEPKIT_DB" not in seen["env"]
    assert "s3cret-pw" not in seen["sweep_output"]
    assert "***" in seen["sweep_output"] or "sweepkit agent" in seen["sweep_output"]
    assert seen["run"].state == RunState.FINISHED


LONG_PY = """
import os, sys, time
import sweepkit

run = sweepkit.init()
for step in range(int(os.environ["STEPS"])):
    sweepkit.log({"loss": 1.0 / (step + 1), "step_seen": step})
    time.sleep(float(os.environ["STEP_S"]))
print("trained to the end", flush=True)
"""


def _long_sweep(tmp_path: Path, db: str | None, steps: int) -> str:
    _write(tmp_path / "long.py", LONG_PY)
    config = {
        "program": "long.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": [1]}},
    }
    return sweepkit.sweep(config, db=db or str(tmp_path / ".sweepkit" / "sweepkit.db"))


def test_deleting_the_store_under_a_running_agent_ends_it_with_a_clear_error(tmp_path):
    sweep_id = _long_sweep(tmp_path, None, steps=600)
    agent = _agent(sweep_id, tmp_path, STEPS="600", STEP_S="0.1")
    store_dir = tmp_path / ".sweepkit"
    _wait_for(lambda: any((store_dir / "runs").glob("*/events.jsonl")), what="the run to start")
    time.sleep(1.0)
    shutil.rmtree(store_dir)
    _stdout, err = agent.communicate(timeout=60)
    assert agent.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: store sqlite:///") and "was deleted while in use" in last, err
    assert "Traceback" not in err
    assert not (store_dir / "sweepkit.db").exists()


@pytest.mark.slow
def test_a_40_second_sqlite_lock_kills_no_training_and_loses_no_value(tmp_path):
    db = str(tmp_path / "store.db")
    steps = 100
    sweep_id = _long_sweep(tmp_path, db, steps=steps)
    agent = _agent(sweep_id, tmp_path, SWEEPKIT_DB=db, STEPS=str(steps), STEP_S="0.5")
    _wait_for(lambda: any(tmp_path.glob(".sweepkit/runs/*/events.jsonl")), what="the run to start")
    time.sleep(2.0)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    locked_at = time.monotonic()
    time.sleep(40)
    holder.execute("COMMIT")
    holder.close()
    assert agent.poll() is None, "the agent died while the store was locked"
    _stdout, err = agent.communicate(timeout=180)
    assert agent.returncode == 0, err
    assert time.monotonic() - locked_at > 40
    assert "busy or unreachable (database is locked)" in err
    service = open_local(db)
    (run,) = service.all_runs(sweep_id)
    assert run.state == RunState.FINISHED, (run.state, run.error)
    rows = service.full_history(run.id)
    assert [row["step_seen"] for row in rows] == list(range(steps))
    log = next(tmp_path.glob(".sweepkit/runs/*/output.log")).read_text()
    assert "trained to the end" in log


@pytest.fixture
def restartable_postgres(request, tmp_path):
    """(URL, restart): a PostgreSQL store that ``restart()`` takes down for 3 s and starts again.

    As root (CI): a private server of this test's (the shared one serves other tests at the same
    time), stopped and started. Otherwise the shared server's connections of this test's agent (its
    own application_name) are terminated: what a restart does to them. With
    SWEEPKIT_REQUIRE_ROOT_FAULTS (or CI) set, a private server that cannot run here is a failure."""
    from private_postgres import PrivatePostgres

    why = PrivatePostgres.unavailable()
    if why is None:
        server = PrivatePostgres()

        def restart() -> None:
            server.stop("fast")
            time.sleep(3)
            server.start()

        try:
            yield server.url, restart
        finally:
            server.close()
        return
    if os.environ.get("SWEEPKIT_REQUIRE_ROOT_FAULTS") or os.environ.get("CI"):
        pytest.fail(f"a PostgreSQL restart must really happen here (SWEEPKIT_REQUIRE_ROOT_FAULTS): {why}")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sweepkit-restart-{tmp_path.name}"[:63]
    shared = request.getfixturevalue("postgres_url")
    url = make_url(shared).update_query_dict({"application_name": name}).render_as_string(hide_password=False)

    def terminate() -> None:
        base = os.environ["SWEEPKIT_TEST_POSTGRES_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            )

    yield url, terminate


@pytest.mark.postgres
@pytest.mark.slow
def test_a_postgres_restart_mid_run_loses_nothing(restartable_postgres, tmp_path):
    postgres_url, restart = restartable_postgres
    steps = 60
    sweep_id = _long_sweep(tmp_path, postgres_url, steps=steps)
    agent = _agent(sweep_id, tmp_path, SWEEPKIT_DB=postgres_url, STEPS=str(steps), STEP_S="0.15")
    _wait_for(lambda: any(tmp_path.glob(".sweepkit/runs/*/events.jsonl")), what="the run to start")
    time.sleep(2.0)
    restart()
    _stdout, err = agent.communicate(timeout=300)
    assert agent.returncode == 0, err
    service = open_local(postgres_url)
    (run,) = service.all_runs(sweep_id)
    assert run.state == RunState.FINISHED, (run.state, run.error)
    assert [row["step_seen"] for row in service.full_history(run.id)] == list(range(steps))


# --- bad log() calls ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sweepkit.log({"loss": 0.5}, step=2**63 + 5),
            r"^log\(step=9223372036854775813\): expected an integer",
        ),
        (lambda: sweepkit.log({"loss": 0.5}, step=-1), r"^log\(step=-1\): expected an integer"),
        (lambda: sweepkit.log({1: 2}), r"^log\(\): key 1 is int; keys must be text$"),
        (lambda: sweepkit.log({"m": {2: 3}}), r"^log\(\): key m\.2 is int; keys must be text$"),
        (lambda: sweepkit.log([1, 2]), r"^log\(\): expected a dict of values, got list$"),
    ],
)
def test_a_bad_log_call_raises_once_and_loses_nothing(store_url, call, message):
    errors = []

    def train():
        sweepkit.init()
        sweepkit.log({"loss": 1.0})
        try:
            call()
        except SweepkitError as err:
            errors.append(str(err))
        sweepkit.log({"loss": 0.25})

    sweep_id = sweepkit.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"value": 1}}}, db=store_url
    )
    sweepkit.agent(sweep_id, function=train, db=store_url, quiet=True)
    assert len(errors) == 1
    import re

    assert re.search(message, errors[0]), errors[0]
    service = open_local(store_url)
    (run,) = service.all_runs(sweep_id)
    assert run.state == RunState.FINISHED
    assert [row["loss"] for row in service.full_history(run.id)] == [1.0, 0.25]


# --- one verdict for a command reference -----------------------------------------------------------


def test_an_unknown_macro_gets_the_same_verdict_from_validate_and_from_an_agent(tmp_path):
    from sweepkit.command_template import CommandError, render_command

    command = ["python", "train.py", "${args}", "--y=${y}"]
    config = tmp_path / "sweep.yaml"
    config.write_text(
        json.dumps({"method": "grid", "command": command, "parameters": {"x": {"values": [1]}}})
    )
    checked = subprocess.run(
        [sys.executable, "-m", "sweepkit", "validate", str(config)],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert checked.returncode == 1
    verdict = (
        "${y} is neither a macro nor a sweep parameter; parameters: x; write $${y} to pass the text literally"
    )
    assert verdict in checked.stdout + checked.stderr
    with pytest.raises(CommandError) as rendered:
        render_command(command, {"x": 1}, program="train.py")
    assert str(rendered.value) == f"command element '--y=${{y}}': {verdict}"
