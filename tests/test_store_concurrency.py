"""Many real processes on one fresh store: they all create/upgrade it at once, then share two sweeps.

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

from sweepkit.runs import RunState
from sweepkit.search.base import Finished, Suggestion
from sweepkit.store import open_store

WORKERS = 7  # with the test process: 8 processes open the fresh store at once
GRID_POINTS = 200
CAP = 37
TIMEOUT_S = 180


def lowest_unused(sweep, runs):
    used = {run.params["i"] for run in runs}
    for i in range(GRID_POINTS):
        if i not in used:
            return Suggestion({"i": i})
    return Finished("grid used up")


def capped(sweep, runs):
    return Finished("run_cap reached") if len(runs) >= CAP else Suggestion({"i": len(runs)})


def _claim_all(store, sweep_id, agent_id, plan):
    got = []
    while True:
        result = store.claim_run(sweep_id, agent_id, plan)
        if result.status != "claimed":
            return got, result.status
        run = result.run
        store.log(run.id, [{"_step": 0, "loss": float(run.params["i"])}], metric_name="loss")
        store.heartbeat_run(run.id)
        store.finish_run(run.id, RunState.FINISHED, exit_code=0)
        got.append(run.params["i"])


def _worker(url, opened, sweeps_ready, sweep_ids, results):
    try:
        opened.wait(TIMEOUT_S)  # everyone opens the empty store at the same moment
        store = open_store(url)
        sweeps_ready.wait(TIMEOUT_S)
        grid_id, capped_id = sweep_ids.get(timeout=TIMEOUT_S)
        outcome = {}
        for sweep_id, plan in ((grid_id, lowest_unused), (capped_id, capped)):
            agent_id = store.register_agent(sweep_id, host="test", pid=os.getpid())
            outcome[sweep_id] = _claim_all(store, sweep_id, agent_id, plan)
            store.agent_finished(agent_id)
        store.close()
        results.put(("ok", outcome))
    except BaseException:  # reported to the parent, which fails the test
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
        store = open_store(empty_store_url)
        grid = store.create_sweep({"method": "grid"}, name="grid")
        cap = store.create_sweep({"method": "random", "run_cap": CAP}, name="capped")
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

    with store:
        points = sorted(p for _, outcome in outcomes for p in outcome[grid.id][0])
        assert points == list(range(GRID_POINTS))
        assert {outcome[grid.id][1] for _, outcome in outcomes} == {"finished"}
        final = store.get_sweep(grid.id)
        assert (final.state, final.finished_reason, final.run_count) == (
            "finished",
            "grid used up",
            GRID_POINTS,
        )
        runs = store.list_runs(grid.id)
        assert sorted(r.number for r in runs) == list(range(1, GRID_POINTS + 1))
        assert {r.state for r in runs} == {RunState.FINISHED}
        assert all(r.metric_history == [float(r.params["i"])] for r in runs)

        assert sum(len(outcome[cap.id][0]) for _, outcome in outcomes) == CAP
        assert len(store.list_runs(cap.id)) == CAP
        assert store.get_sweep(cap.id).finished_reason == "run_cap reached"
