"""Nothing logged is lost silently: real agents, real run processes, real SQLite (and PostgreSQL
where the store is concerned), and real full disks.

A full disk is a small tmpfs the test mounts (as root does in CI) and fills with a file; freeing the
file frees the space. Where mounting is not permitted the disk-full cases skip saying so, except
under CI (``CI`` or ``SWEEPKIT_REQUIRE_ROOT_FAULTS`` set, as ``.ci/run`` does), where they fail: they
must run there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from agent_programs import agent_env, history, start_agents, stored_runs, sweepkit_cli

SWEEP = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": [0]}},
}

#: Logs 40 rows (loss 1/(k+1) ... and a best of 0.05 at the end), pausing after row 5 until the
#: file ``go`` appears (``ready`` says it got there), so that a test can fill a disk in between.
PAUSING_TRAIN = """
    import os, sys, time
    from pathlib import Path
    import sweepkit
    here = Path(sys.argv[0]).resolve().parent
    sweepkit.init()
    for k in range(40):
        sweepkit.log({"loss": 0.05 if k == 39 else 1.0 / (k + 1) + 0.1, "k": k})
        if k == 5:
            time.sleep(0.5)
            (here / "ready").write_text("1")
            while not (here / "go").exists():
                time.sleep(0.05)
        time.sleep(0.05)
"""


# --- a small disk --------------------------------------------------------------------------------


class SmallDisk:
    """A tmpfs of ``size`` mounted at ``path``; ``fill()`` takes all its free space, ``free()`` gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (65536, 4096, 512, 1):
                try:
                    while os.write(fd, b"\0" * size):
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


def _mount_small_disk(size: str):
    path = Path(f"/tmp/sweepkit-small-disk-{uuid.uuid4().hex[:10]}")
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        path.rmdir()
        why = (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"
        if os.environ.get("CI") or os.environ.get("SWEEPKIT_REQUIRE_ROOT_FAULTS"):
            pytest.fail(f"cannot mount a tmpfs for the disk-full cases (CI must run them): {why}")
        pytest.skip(
            f"cannot mount a small tmpfs here ({why}): the disk-full cases need root or CAP_SYS_ADMIN"
        )
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
        try:
            path.rmdir()
        except OSError:
            pass


@pytest.fixture
def small_disk():
    yield from _mount_small_disk("4m")


# --- helpers ---------------------------------------------------------------------------------------


def _start_agent(tmp_path: Path, env: dict[str, str], cwd: Path, script: str, *args: str):
    """Write train.py in ``cwd`` (the sweep's program), make the sweep; the agent process."""
    (cwd / "train.py").write_text(textwrap.dedent(script))
    (cwd / "sweep.json").write_text(json.dumps({"program": "train.py", **SWEEP}))
    made = sweepkit_cli(["sweep", "sweep.json"], env, cwd)
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    (proc,) = start_agents(sweep_id, env, cwd, 1, *args, stdout=subprocess.PIPE)
    return sweep_id, proc


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the agent ended early: {proc.communicate()[1]}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _ended(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"the agent did not end within {timeout} s:\n{err}")
    return proc.returncode, err


def _no_raw_errors(text: str) -> None:
    assert "Traceback" not in text and "Errno 28" not in text, text


# --- the store's disk is full ----------------------------------------------------------------------


def test_a_full_store_that_gets_space_back_loses_nothing(tmp_path, small_disk):
    env = agent_env(
        tmp_path,
        SWEEPKIT_DB=str(small_disk.path / "store.db"),
        SWEEPKIT_STORE_RETRY="60",
        SWEEPKIT_HELD_ROWS="5",
    )
    sweep_id, agent = _start_agent(tmp_path, env, tmp_path, PAUSING_TRAIN)
    _wait_for(tmp_path / "ready", agent)
    small_disk.fill()
    (tmp_path / "go").write_text("1")
    time.sleep(4)  # the run logs its rows into a full store
    small_disk.free()
    code, err = _ended(agent)
    assert code == 0, err
    _no_raw_errors(err)
    assert "is full" in err and "takes its values again" in err, err
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    assert [row["k"] for row in history(env, run["id"])] == list(range(40))
    assert run["metric"]["value"] == pytest.approx(0.05)


@pytest.mark.parametrize("transport", ["local", "http"])
def test_a_store_that_stays_full_fails_the_run_saying_how_many_values_were_not_stored(
    tmp_path, small_disk, server_factory, transport
):
    env = agent_env(
        tmp_path,
        SWEEPKIT_DB=str(small_disk.path / "store.db"),
        SWEEPKIT_STORE_RETRY="3",
        SWEEPKIT_HELD_ROWS="5",
    )
    agent_side = env
    if transport == "http":  # the server's store is full: it answers 507, the agent keeps the values
        server = server_factory(env["SWEEPKIT_DB"])
        agent_side = {k: v for k, v in env.items() if k not in ("SWEEPKIT_DB", "HTTP_PROXY", "HTTPS_PROXY")}
        agent_side["SWEEPKIT_URL"] = server.url
    sweep_id, agent = _start_agent(tmp_path, agent_side, tmp_path, PAUSING_TRAIN)
    _wait_for(tmp_path / "ready", agent)
    small_disk.fill()
    (tmp_path / "go").write_text("1")
    code, err = _ended(agent)
    _no_raw_errors(err)
    small_disk.free()
    (run,) = stored_runs(sweep_id, env, tmp_path)
    stored = history(env, run["id"])
    assert run["state"] != "finished", (run, err)
    said = re.search(r"(\d+) logged values could not be stored: disk full", err)
    assert said, err
    missing = 2 * (40 - len(stored))  # loss and k of each row not stored
    assert int(said.group(1)) >= missing > 0
    # what was not stored waits in the spill file beside the run's folder, or is counted as lost
    spill = tmp_path / ".sweepkit" / "runs" / f"{run['id']}.unsent.jsonl"
    assert spill.exists() and str(spill) in err, err
    kept = [json.loads(line)["k"] for line in spill.read_text().splitlines()]
    assert sorted(set(kept) | {row["k"] for row in stored}) == list(range(40))
    if run["state"] == "running":  # its end could not be recorded either: the agent said so
        assert "left behind: run" in err and code != 0, err
    else:
        assert run["state"] == "failed" and "could not be stored: disk full" in run["reason"], run


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_agent_answers_signals_within_seconds_while_the_store_is_full(tmp_path, small_disk, sig):
    env = agent_env(tmp_path, SWEEPKIT_DB=str(small_disk.path / "store.db"), SWEEPKIT_STORE_RETRY="600")
    _sweep_id, agent = _start_agent(tmp_path, env, tmp_path, PAUSING_TRAIN)
    _wait_for(tmp_path / "ready", agent)
    small_disk.fill()
    (tmp_path / "go").write_text("1")
    time.sleep(4)  # the run has ended; the agent waits for space to record its values and its end
    started = time.monotonic()
    agent.send_signal(sig)
    code, err = _ended(agent, timeout=60)
    took = time.monotonic() - started
    small_disk.free()
    assert took < 10, f"{took:.1f} s\n{err}"
    _no_raw_errors(err)
    assert "logged values could not be stored" in err, err
    assert "left behind: run" in err or "unsent.jsonl" in err, err


def test_the_agent_answers_signals_within_seconds_while_its_server_is_down(tmp_path, server_factory):
    env = agent_env(tmp_path, SWEEPKIT_STORE_RETRY="600")
    server = server_factory(str(tmp_path / "store.db"))
    client_env = {k: v for k, v in env.items() if k not in ("SWEEPKIT_DB", "HTTP_PROXY", "HTTPS_PROXY")}
    client_env["SWEEPKIT_URL"] = server.url
    _sweep_id, agent = _start_agent(tmp_path, client_env, tmp_path, PAUSING_TRAIN)
    try:
        _wait_for(tmp_path / "ready", agent)
    finally:
        server.kill()
    (tmp_path / "go").write_text("1")
    time.sleep(3)  # the run ends; the agent retries its server
    started = time.monotonic()
    agent.send_signal(signal.SIGTERM)
    code, err = _ended(agent, timeout=60)
    assert time.monotonic() - started < 10, err
    _no_raw_errors(err)
    assert code != 0 and "left behind: run" in err, err


# --- the run folder's disk is full -------------------------------------------------------------------


def _workdir_on(disk: SmallDisk) -> Path:
    work = disk.path / "work"
    work.mkdir()
    return work


PAUSING_TRAIN_ELSEWHERE = PAUSING_TRAIN.replace(
    "here = Path(sys.argv[0]).resolve().parent", 'here = Path(os.environ["SIGNALS_DIR"])'
)


def test_a_full_run_folder_that_gets_space_back_loses_nothing(tmp_path, small_disk):
    env = agent_env(tmp_path, SIGNALS_DIR=str(tmp_path), SWEEPKIT_STORE_RETRY="60")
    work = _workdir_on(small_disk)
    sweep_id, agent = _start_agent(tmp_path, env, work, PAUSING_TRAIN_ELSEWHERE)
    _wait_for(tmp_path / "ready", agent)
    small_disk.fill()
    (tmp_path / "go").write_text("1")
    time.sleep(3)
    small_disk.free()
    code, err = _ended(agent)
    _no_raw_errors(err)
    assert code == 0, err
    (run,) = stored_runs(sweep_id, env, work)
    assert run["state"] == "finished", (run, err)
    assert [row["k"] for row in history(env, run["id"])] == list(range(40))
    assert "is not JSON" not in err, err


def test_a_run_folder_that_stays_full_fails_the_run_saying_so(tmp_path, small_disk):
    env = agent_env(tmp_path, SIGNALS_DIR=str(tmp_path), SWEEPKIT_STORE_RETRY="2")
    work = _workdir_on(small_disk)
    sweep_id, agent = _start_agent(tmp_path, env, work, PAUSING_TRAIN_ELSEWHERE)
    _wait_for(tmp_path / "ready", agent)
    small_disk.fill()
    (tmp_path / "go").write_text("1")
    code, err = _ended(agent)
    _no_raw_errors(err)
    small_disk.free()
    (run,) = stored_runs(sweep_id, env, work)
    stored = history(env, run["id"])
    assert len(stored) < 40
    assert run["state"] == "failed", (run, err)
    said = re.match(
        r"(\d+) logged values could not be stored: the run's events file could not take them", run["reason"]
    )
    assert said, run
    assert (
        int(said.group(1)) >= 2 * (40 - len(stored)) - 2
    )  # loss and k of each row (the last line may be cut)
    assert [row["k"] for row in stored] == list(range(len(stored)))  # whole rows, in order, no gap


QUICK_TRAIN = """
    import sweepkit
    run = sweepkit.init()
    sweepkit.log({"loss": 1.0 + run.config["i"]})
"""


def test_an_agent_on_a_full_run_folder_waits_and_uses_up_no_point(tmp_path, small_disk):
    """The run folders' disk is full when the agent starts: it claims nothing (no run fails, the grid
    is not walked on), says so once for its two slots, and runs every point once when there is room."""
    env = agent_env(tmp_path)
    work = _workdir_on(small_disk)
    (work / "train.py").write_text(textwrap.dedent(QUICK_TRAIN))
    sweep = {**SWEEP, "parameters": {"i": {"values": [0, 1, 2]}}}
    (work / "sweep.json").write_text(json.dumps({"program": "train.py", **sweep}))
    made = sweepkit_cli(["sweep", "sweep.json"], env, work)
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    small_disk.fill()
    (agent,) = start_agents(sweep_id, env, work, 1, "--parallel", "2")
    time.sleep(4)
    assert agent.poll() is None, agent.communicate()[1]
    assert stored_runs(sweep_id, env, tmp_path) == []  # nothing claimed, so nothing failed
    small_disk.free()
    code, err = _ended(agent)
    _no_raw_errors(err)
    assert code == 0, err
    assert err.count("agent waits: the run folders' disk is full (") == 1, err
    assert "it claims no run until there is room, so no point is used up" in err
    assert "the run folders' disk has room again" in err
    runs = stored_runs(sweep_id, env, tmp_path)
    assert [r["number"] for r in runs] == [1, 2, 3]
    assert [r["state"] for r in runs] == ["finished"] * 3, runs
    assert sorted(r["config"]["i"] for r in runs) == [0, 1, 2]  # each point once
    assert not list((work / ".sweepkit" / "runs").glob(".room-*"))  # no reserve file left behind


def test_a_reserve_file_of_a_killed_agent_is_removed(tmp_path):
    """An agent SIGKILLed while it held its reserve leaves the file; the next agent there removes it."""
    from sweepkit.agents.run_room import RESERVE_BYTES, RunRoom

    root = tmp_path / "runs"
    gone = subprocess.Popen(["true"])
    gone.wait()
    root.mkdir()
    stale = root / f".room-{gone.pid}-1"
    stale.write_bytes(bytes(10))
    mine = RunRoom(root)
    assert mine.reserve(1) is None
    assert not stale.exists()
    (held,) = root.glob(".room-*")
    assert held.name == f".room-{os.getpid()}-1" and held.stat().st_size == RESERVE_BYTES
    mine.release(1)
    assert not list(root.iterdir())


# --- bad rows, unusable metrics, values that are not numbers ---------------------------------------------


def test_bad_rows_in_a_programs_events_are_refused_one_by_one(tmp_path):
    script = """
        import json, os
        with open(os.environ["SWEEPKIT_EVENTS_FILE"], "a") as f:
            f.write(json.dumps({"k": "row", "row": {"_step": 0, "loss": 0.9}}) + "\\n")
            f.write(json.dumps({"k": "row", "row": {"_step": "abc", "loss": 0.1}}) + "\\n")
            f.write(json.dumps({"k": "row", "row": {"_step": 1, "loss": 0.5}}) + "\\n")
            f.write("{not json\\n")
            f.write(json.dumps({"k": "row", "row": {"_step": 2.0, "loss": 0.4}}) + "\\n")
            f.write(json.dumps({"k": "row", "row": {"loss": 0.3}}) + "\\n")
            f.write(json.dumps({"k": "row", "row": {"_step": 3, "loss": 0.2}}) + "\\n")
    """
    env = agent_env(tmp_path)
    sweep_id, agent = _start_agent(tmp_path, env, tmp_path, script)
    code, err = _ended(agent)
    assert code == 0, err
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished"
    assert [(r["_step"], r["loss"]) for r in history(env, run["id"])] == [
        (0, 0.9),
        (1, 0.5),
        (2, 0.4),
        (3, 0.2),
    ]
    assert "events line 2 refused: the row needs an integer '_step' from 0 to 2**63-1, got 'abc'" in err
    assert "events line 4 is not JSON; skipped" in err
    assert "events line 6 refused: the row needs an integer '_step'" in err
    shown = sweepkit_cli(["runs", sweep_id, "--format", "json"], env, tmp_path)
    assert shown.returncode == 0
    from sweepkit.connect import open_local

    service = open_local(env["SWEEPKIT_DB"])
    try:
        output = service.run_output(run["id"]).head
    finally:
        service.close()
    assert "[sweepkit] events line 2 refused" in output  # the run says so too


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ('[float("nan"), float("inf"), "n/a"]', "no usable value of the sweep's metric 'loss'"),
        ("[]", "no value of the sweep's metric 'loss': the run never logged it"),
    ],
)
def test_a_run_without_a_usable_metric_value_says_why(tmp_path, values, reason):
    script = f"""
        import sweepkit
        sweepkit.init()
        sweepkit.log({{"other": 1}})
        for v in {values}:
            sweepkit.log({{"loss": v}})
    """
    env = agent_env(tmp_path)
    sweep_id, agent = _start_agent(tmp_path, env, tmp_path, script)
    code, err = _ended(agent)
    assert code == 0, err
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished" and run["reason"].startswith(reason), run
    assert reason in err  # the agent's end line
    table = sweepkit_cli(["runs", sweep_id], env, tmp_path)
    assert reason[:40] in table.stdout, table.stdout


def test_log_stores_what_it_cannot_store_as_numbers_as_text_warning_once_per_key(tmp_path):
    script = """
        import pathlib
        import sweepkit

        class Thing:
            def __str__(self):
                return "a thing"

        sweepkit.init()
        for k in range(3):
            sweepkit.log({"loss": 1.0 / (k + 1), "path": pathlib.Path("/data") / str(k), "z": complex(k, 1),
                          "raw": b"bytes\\xff", "obj": Thing(), "nested": {"p": [pathlib.Path("x")]}})
        print("trained to the end")
    """
    env = agent_env(tmp_path)
    sweep_id, agent = _start_agent(tmp_path, env, tmp_path, script)
    code, err = _ended(agent)
    assert code == 0, err
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    rows = history(env, run["id"])
    assert [(r["path"], r["z"], r["raw"], r["obj"], r["nested"]) for r in rows] == [
        (f"/data/{k}", str(complex(k, 1)), "bytes\ufffd", "a thing", {"p": ["x"]}) for k in range(3)
    ]
    output = (tmp_path / ".sweepkit" / "runs" / run["id"] / "output.log").read_text()
    assert "trained to the end" in output
    for key in (
        "'path' is a PosixPath",
        "'z' is a complex",
        "'raw' is a bytes",
        "'obj' is a Thing",
        "'nested.p[0]'",
    ):
        assert output.count(key) == 1, output
