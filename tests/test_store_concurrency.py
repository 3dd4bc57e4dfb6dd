"""Many real processes on one fresh store through the sweep service: they all create/upgrade it at
once, then share two sweeps.

Workers are started with ``spawn`` (fresh interpreters, like separate agent processes) and meet at
barriers so that they really compete: first to open the empty store (migrations race), then for the
sweeps' locks: a 200-point grid must hand out every point exactly once, a capped sweep must stop at
its cap, and nobody may see an error. One round of processes checks all three (spawning is slow).
"""

from __future__ import annotations

import multiprocessing
import os
import traceback

import pytest

from sweepkit.connect import open_local
from sweepkit.runs import RunState
from sweepkit.service import LogBatch

WORKERS = 7  # with the test process: 8 processes open the fresh store at once
GRID_POINTS = 200
CAP = 37
TIMEOUT_S = 180


def _claim_all(service, sweep_id, agent_id):
    got = []
    while True:
        result = service.claim_run(sweep_id, agent_id, f"{agent_id}-{len(got)}")
        if result.status != "claimed":
            return got, result.status
        run = result.assignment
        service.log(run.run_id, LogBatch(1, [{"_step": 0, "loss": float(run.params["i"])}]))
        service.heartbeat(agent_id, [run.run_id])
        service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
        got.append(run.params["i"])


def _worker(url, opened, sweeps_ready, sweep_ids, results):
    try:
        opened.wait(TIMEOUT_S)  # everyone opens the empty store at the same moment
        try:
            service = open_local(url, create=True)
        finally:
            sweeps_ready.wait(TIMEOUT_S)
        grid_id, capped_id = sweep_ids.get(timeout=TIMEOUT_S)
        outcome = {}
        for sweep_id in (grid_id, capped_id):
            agent_id = service.register_agent(sweep_id, host="test", pid=os.getpid())
            outcome[sweep_id] = _claim_all(service, sweep_id, agent_id)
            service.agent_finished(agent_id)
        service.close()
        results.put(("ok", outcome))
    except BaseException:  # reported to the parent, which fails the test
        sweeps_ready.abort()
        results.put(("error", traceback.format_exc()))


@pytest.mark.slow
def test_processes_share_a_fresh_store_without_duplicates_or_overshoot(empty_store_url):
    ctx = multiprocessing.get_context("spawn")
    opened, sweeps_ready = ctx.Barrier(WORKERS + 1), ctx.Barrier(WORKERS + 1)
    sweep_ids, results = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(empty_store_url, opened, sweeps_ready, sweep_ids, results))
        for _ in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    try:
        opened.wait(TIMEOUT_S)
        service = open_local(empty_store_url, create=True)
        grid = service.create_sweep(
            {
                "method": "grid",
                "metric": {"name": "loss"},
                "parameters": {"i": {"values": list(range(GRID_POINTS))}},
            },
            name="grid",
        )
        cap = service.create_sweep(
            {"method": "random", "run_cap": CAP, "parameters": {"i": {"min": 0, "max": 10**6}}}, name="capped"
        )
        for _ in procs:
            sweep_ids.put((grid.id, cap.id))
        sweeps_ready.wait(TIMEOUT_S)
        outcomes = [results.get(timeout=TIMEOUT_S) for _ in procs]
    finally:
        for proc in procs:
            proc.join(TIMEOUT_S)
            if proc.is_alive():  # pragma: no cover - only when a worker hangs
                proc.kill()
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert not errors, "\n".join(errors)

    points = sorted(p for _, outcome in outcomes for p in outcome[grid.id][0])
    assert points == list(range(GRID_POINTS))
    assert {outcome[grid.id][1] for _, outcome in outcomes} == {"finished"}
    final = service.get_sweep(grid.id)
    assert (final.state, final.state_reason, final.run_count) == (
        "finished",
        f"grid exhausted: all {GRID_POINTS} points have been used",
        GRID_POINTS,
    )
    runs = service.all_runs(grid.id)
    assert sorted(r.number for r in runs) == list(range(1, GRID_POINTS + 1))
    assert {r.state for r in runs} == {RunState.FINISHED}
    assert all(r.metric.last == float(r.params["i"]) for r in runs)

    assert sum(len(outcome[cap.id][0]) for _, outcome in outcomes) == CAP
    assert len(service.all_runs(cap.id)) == CAP
    assert service.get_sweep(cap.id).state_reason == f"run_cap {CAP} reached"
    service.close()


def test_many_threads_share_an_existing_sqlite_store(tmp_path):
    """A web server's worker threads read one store at once: every thread gets its own connection
    (a pool that closed other threads' connections past 5 threads crashed the process)."""
    import subprocess
    import sys
    import textwrap

    db = str(tmp_path / "s.db")
    service = open_local(db, create=True)
    sweep = service.create_sweep({"method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}})
    agent = service.register_agent(sweep.id, host="h", pid=1)
    for i in range(3):
        run = service.claim_run(sweep.id, agent, f"k{i}").assignment
        service.log(run.run_id, LogBatch(seq=1, rows=[{"_step": s, "v": s} for s in range(20)], output="x\n"))
    service.close()
    script = textwrap.dedent(
        f"""
        import threading
        from sweepkit.connect import open_local
        service = open_local({db!r})  # an existing store: opened without create
        runs = service.all_runs(service.list_sweeps()[0].id)
        errors = []
        def work():
            try:
                for _ in range(60):
                    for run in runs:
                        service.history(run.id, limit=10)
                        service.run_output(run.id)
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=work) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(errors)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == "[]"
