"""End to end: hyperband early termination acted on by real agents, on SQLite and PostgreSQL.

Program mode: several agent processes run a grid of training scripts at once; the poor runs are
stopped (SIGTERM) within two seconds of the value that condemns them, end ``killed`` with the reason
stored, keep their history, and still count in later thresholds; the good runs finish. Function
mode: logging does not wait for the store, so a run learns of its stop within a second or two:
``run.should_stop`` turns True and its next ``log()`` raises ``RunStopped``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import sweepkit
from sweepkit.connect import open_local
from sweepkit.runs import RunState
from sweepkit.service import LogBatch
from sweepkit.tracking import RunStopped

METRIC = "loss"
#: How soon a condemned program run must be gone (the issue's promise).
KILL_WITHIN_S = 2.0
#: Rows are dated just before their log() call commits; two runs' logs may commit in either order.
TIMESTAMP_SLACK_S = 0.1
#: How far apart two agents' rows may be dated and still commit out of order: on a loaded machine an
#: agent process may wait that long between dating its row and committing it (CI saw 0.12 s).
COMMIT_ORDER_SLACK_S = 1.0

TRAIN_PY = """
import time
import sweepkit

run = sweepkit.init()
quality = run.config["quality"]
for iteration in range(1, {iterations} + 1):
    time.sleep({step_s})
    # Higher quality is better at every iteration; the loss falls with training.
    sweepkit.log({{"loss": (10 - quality) + 1.0 / iteration}})
"""


def _env(store_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["SWEEPKIT_DB"] = store_url
    env["SWEEPKIT_INTERPRETER"] = sys.executable
    env.update(extra)
    return env


def _start_agent(sweep_id: str, store_url: str, cwd: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
        cwd=cwd,
        env=_env(store_url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _metric_rows(history: list[dict]) -> list[dict]:
    """The logged rows holding the metric: row k is iteration k + 1."""
    return [row for row in history if METRIC in row]


def _band_logs(band: int, rows_by_run: dict[str, list[dict]]) -> list[tuple[float, float, str]]:
    """(time, value, run id) of every run's value at iteration ``band``, in the order they were logged."""
    return sorted(
        (rows[band - 1]["_timestamp"], rows[band - 1][METRIC], run_id)
        for run_id, rows in rows_by_run.items()
        if len(rows) >= band
    )


def _runs_counted(reason: str) -> int:
    """How many runs had reached the band when the decision was taken (the reason says it)."""
    found = re.search(r"\((?:eta=[^,]+), (\d+) runs? reached it\)$", reason)
    assert found, reason
    return int(found.group(1))


def test_poor_program_runs_are_killed_within_seconds_and_good_ones_finish(store_url, tmp_path):
    iterations, eta = 5, 2
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN_PY.format(iterations=iterations, step_s=0.2)))
    # Interleaved so that poor runs meet better ones at every band, whatever the agents' timing.
    qualities = [9, 5, 8, 2, 7, 1, 6, 3, 4]
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {"quality": {"values": qualities}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": eta},
    }
    sweep_id = sweepkit.sweep(config, db=store_url)
    agents = [_start_agent(sweep_id, store_url, tmp_path, SWEEPKIT_KILL_GRACE="1") for _ in range(3)]
    for proc in agents:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    service = open_local(store_url)
    runs = service.all_runs(sweep_id)
    assert len(runs) == len(qualities)
    quality = {run.id: run.params["quality"] for run in runs}
    rows_by_run = {run.id: _metric_rows(service.full_history(run.id)) for run in runs}
    killed = [run for run in runs if run.state == RunState.KILLED]
    finished = [run for run in runs if run.state == RunState.FINISHED]
    assert len(killed) + len(finished) == len(runs), [(r.state, r.error) for r in runs]

    # The best configuration is never worse than a threshold: it runs to the end.
    best = max(runs, key=lambda run: quality[run.id])
    assert best.state == RunState.FINISHED
    assert all(len(rows_by_run[run.id]) == iterations for run in finished)
    assert killed, "no run was stopped"

    counted_a_killed_run = False
    for run in killed:
        rows = rows_by_run[run.id]
        # The reason is stored, with its band, value and threshold.
        assert run.stop_requested and run.stop_reason.startswith("hyperband: loss ")
        info = run.stop_info
        assert info["rule"] == "hyperband" and info["value"] > info["threshold"]
        band = info["band"]
        # The history is kept: every value the run logged, up to (at least) the condemning band.
        assert band <= len(rows) <= iterations
        assert run.metric.count == len(rows) and run.metric.last == rows[-1][METRIC]
        assert info["value"] == rows[band - 1][METRIC] == run.metric.at(band)
        # The decision was taken when the run that brought the band to `counted` values logged its
        # value there (the condemned run's own value, or a better one from another run).
        counted = _runs_counted(run.stop_reason)
        logs = _band_logs(band, rows_by_run)
        assert 2 <= counted <= len(logs)
        condemned_at = logs[counted - 1][0]
        assert condemned_at >= rows[band - 1]["_timestamp"] - COMMIT_ORDER_SLACK_S
        assert info["threshold"] in {value for _t, value, other in logs[:counted] if other != run.id}
        # Every value logged well before the decision was counted, killed runs' values included.
        assert counted >= sum(1 for t, _v, _r in logs if t < condemned_at - COMMIT_ORDER_SLACK_S)
        # Killed within seconds of the value that condemned it.
        delay = run.finished_at.timestamp() - condemned_at
        assert 0 < delay < KILL_WITHIN_S, f"run {run.id} ended {delay:.2f} s after it was condemned"
        ended_before = [
            other
            for other in killed
            if other.id != run.id
            and len(rows_by_run[other.id]) >= band
            and other.finished_at.timestamp() < condemned_at - TIMESTAMP_SLACK_S
        ]
        counted_a_killed_run = counted_a_killed_run or bool(ended_before)
    assert counted_a_killed_run, "no threshold was taken after a killed run had ended"

    # The CLI shows the reason.
    listed = subprocess.run(
        [sys.executable, "-m", "sweepkit", "runs", sweep_id, "--format", "json"],
        cwd=tmp_path,
        env=_env(store_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    shown = {item["id"]: item for item in json.loads(listed.stdout)}
    for run in killed:
        assert shown[run.id]["state"] == "killed"
        assert shown[run.id]["stop_reason"] == run.stop_reason
    for run in finished:
        assert shown[run.id]["state"] == "finished" and shown[run.id]["stop_reason"] is None


def test_a_program_that_exits_on_its_own_once_stopped_is_killed(store_url, tmp_path):
    """Its own ``log()`` raised RunStopped and it left at once, before the agent's next look."""
    (tmp_path / "quick.py").write_text(
        textwrap.dedent(
            """
            import os
            import signal
            import time
            import sweepkit
            from sweepkit.tracking import RunStopped

            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # it leaves by itself when told to stop
            run = sweepkit.init()
            for iteration in range(1, 5):
                time.sleep(0.3)  # an epoch: the agent is between two looks at the store
                fade = {"steady": None, "fades": 3.0, "fades more": 3.5}[run.config["shape"]]
                if fade is None:
                    loss = 1.0 + 1.0 / iteration
                else:
                    loss = 1.0 if iteration == 1 else fade + iteration  # the best at first, then poor
                try:
                    sweepkit.log({"loss": loss})
                except RunStopped:
                    os._exit(0)  # no interpreter teardown: gone within milliseconds
            """
        )
    )
    config = {
        "program": "quick.py",
        "method": "grid",
        "metric": {"name": METRIC},
        "parameters": {"shape": {"values": ["steady", "fades", "fades more"]}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 3},  # bands 1, 3, 9, ...
    }
    sweep_id = sweepkit.sweep(config, db=store_url)
    agent = _start_agent(sweep_id, store_url, tmp_path)
    _out, err = agent.communicate(timeout=120)
    assert agent.returncode == 0, err
    good, *poor = open_local(store_url).all_runs(sweep_id)
    assert (good.params["shape"], good.state) == ("steady", RunState.FINISHED)
    # A fading run survives band 1 (it is among the best there) and is stopped by its own value at
    # band 3; it exits with code 0 at once, yet it ends killed.
    assert [(run.params["shape"], run.state, run.exit_code) for run in poor] == [
        ("fades", RunState.KILLED, 0),
        ("fades more", RunState.KILLED, 0),
    ]
    service = open_local(store_url)
    histories = [[row["loss"] for row in service.full_history(run.id)] for run in poor]
    # condemned by its third value; it may log one more before it learns of it
    assert [h[:3] for h in histories] == [[1.0, 5.0, 6.0], [1.0, 5.5, 6.5]]
    assert [run.stop_info["band"] for run in poor] == [3, 3]


def test_function_run_is_stopped_at_its_next_log_within_seconds(store_url):
    done: dict[int, list[int]] = {}
    condemned_at: dict[int, float] = {}
    stopped_at: dict[int, float] = {}

    def train():
        run = sweepkit.init()
        quality = run.config["quality"]
        done[quality] = []
        for iteration in range(1, 9):
            if iteration == 2:
                condemned_at[quality] = time.monotonic()
            try:
                sweepkit.log({METRIC: (10 - quality) + 1.0 / iteration})
            except RunStopped:
                stopped_at[quality] = time.monotonic()
                assert run.should_stop
                raise
            done[quality].append(iteration)
            time.sleep(0.25)  # an epoch

    config = {
        "method": "grid",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {"quality": {"values": [9, 8, 1]}},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    }
    sweep_id = sweepkit.sweep(config, db=store_url)
    report = sweepkit.agent(sweep_id, function=train, db=store_url, echo=False)
    assert sorted(state.value for state in report.runs.values()) == ["finished", "finished", "killed"]
    assert done[9] == done[8] == list(range(1, 9))
    # Its second value (9.5) is worse than the band-2 threshold of [1.5, 2.5, 9.5]: it stops at a
    # later log(), within seconds, having logged a few more values at most.
    assert 2 <= len(done[1]) < 8
    assert stopped_at[1] - condemned_at[1] < KILL_WITHIN_S
    runs = {run.params["quality"]: run for run in open_local(store_url).all_runs(sweep_id)}
    poor = runs[1]
    assert poor.state == RunState.KILLED and poor.error is None
    assert poor.stop_reason == (
        "hyperband: loss 9.5 at iteration 2 is worse than the band-2 threshold 2.5 (eta=2, 3 runs reached it)"
    )
    assert poor.stop_info == {"rule": "hyperband", "band": 2, "value": 9.5, "threshold": 2.5}
    # everything it logged is kept, the values after the condemning one included
    assert poor.metric.count == len(done[1]) + 1
    assert runs[9].stop_reason is None and runs[8].stop_reason is None


def test_function_run_condemned_by_another_run_learns_it_between_logs(store_url):
    """Another agent's value moves the threshold: ``should_stop`` turns True within seconds, and the
    next log() raises."""
    seen: list[object] = []

    def train():
        run = sweepkit.init()
        sweepkit.log({METRIC: 10 - run.config["quality"]})  # 9.0, alone at band 1: survives
        run_module_flush()
        seen.append(run.should_stop)
        # Meanwhile another agent runs the next grid point and logs a far better first value.
        other = open_local(store_url)
        agent_id = other.register_agent(run.sweep_id, host="elsewhere", pid=os.getpid())
        claim = other.claim_run(run.sweep_id, agent_id, "other-agent-claim").assignment
        other.log(claim.run_id, LogBatch(1, [{"_step": 0, METRIC: 1.0}]))
        other.finish_run(claim.run_id, RunState.FINISHED)
        waited = time.monotonic()
        while not run.should_stop and time.monotonic() - waited < 10:  # a long step polls, without logging
            time.sleep(0.05)
        seen.append((run.should_stop, time.monotonic() - waited < KILL_WITHIN_S))
        try:
            sweepkit.log({METRIC: 8.5})
        except RunStopped as stop:
            seen.append(str(stop))
            raise
        seen.append("not stopped")

    def run_module_flush():
        sweepkit.tracking.current_run()._sink.flush()

    config = {
        "method": "grid",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {"quality": {"values": [1, 9]}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 3},
    }
    sweep_id = sweepkit.sweep(config, db=store_url)
    report = sweepkit.agent(sweep_id, function=train, count=1, db=store_url, echo=False)
    reason = (
        "hyperband: loss 9 at iteration 1 is worse than the band-1 threshold 1 (eta=3, 2 runs reached it)"
    )
    assert seen == [False, (True, True), reason]
    assert list(report.runs.values()) == [RunState.KILLED]
    runs = {run.params["quality"]: run for run in open_local(store_url).all_runs(sweep_id)}
    assert runs[1].state == RunState.KILLED and runs[1].stop_reason == reason
    # The value logged after the stop request is still recorded: the history is kept whole.
    assert [row[METRIC] for row in open_local(store_url).full_history(runs[1].id)] == [9.0, 8.5]
    assert runs[9].state == RunState.FINISHED
