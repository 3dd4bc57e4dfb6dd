"""What the terminal view knows of a sweep, kept up to date through the service (any backend)."""

from __future__ import annotations

from sweepkit.cli.live_view import constant_names, fit, sparkline
from sweepkit.cli.run_feed import RunFeed
from sweepkit.cli.sweep_progress import SweepProgress
from sweepkit.runs import RunState
from sweepkit.service.types import LogBatch, Parameter

CONFIG = {
    "method": "grid",
    "metric": {"name": "acc", "goal": "maximize"},
    "parameters": {"i": {"values": list(range(8))}, "fixed": {"value": 1}},
}


def _run(service, sweep_id, agent, n, acc=None, state=RunState.FINISHED, error=None):
    run = service.claim_run(sweep_id, agent, f"key-{sweep_id}-{n}").assignment
    if acc is not None:
        service.log(run.run_id, LogBatch(1, [{"_step": 0, "acc": acc / 2}, {"_step": 1, "acc": acc}]))
    if state is not None:
        service.finish_run(run.run_id, state, exit_code=None if error is None else 1, error=error)
    return run.run_id


def test_progress_ranks_runs_tracks_the_best_and_the_problems(service):
    sweep = service.create_sweep(CONFIG)
    agent = service.register_agent(sweep.id, host="h", pid=1)
    progress = SweepProgress(service, sweep.id, top=3)
    assert progress.poll() == [] and progress.done == 0 and progress.total == 8
    a = _run(service, sweep.id, agent, 1, acc=0.5)
    b = _run(service, sweep.id, agent, 2, acc=0.9)
    c = _run(service, sweep.id, agent, 3, acc=0.7)
    d = _run(service, sweep.id, agent, 4, acc=0.9)  # ties with b: the earlier run ranks first
    bad = _run(service, sweep.id, agent, 5, state=RunState.FAILED, error="exit code 1: boom\nmore")
    going = _run(service, sweep.id, agent, 6, acc=0.99, state=None)  # running: not ranked yet
    ended = progress.poll()
    assert [r.id for r in ended] == [a, b, c, d, bad]
    assert [r.id for r in progress.top_runs()] == [b, d, c]
    assert progress.best_series == [0.5, 0.9, 0.9, 0.9]
    assert [r.reason for r in progress.failures] == ["exit code 1: boom"] and not progress.stops
    assert progress.done == 5 and not progress.over and progress.left_s() is not None
    assert progress.line() == f"runs: 5/8 done, 1 failed, 4 finished, 1 running, best acc=0.9 ({b})"
    assert progress.poll() == []  # nothing new
    service.finish_run(going, RunState.FINISHED)
    assert [r.id for r in progress.poll()] == [going] and progress.top_runs()[0].id == going
    assert progress.feed.active == []


def test_progress_counts_against_the_given_total_and_knows_when_it_is_over(service):
    sweep = service.create_sweep({**CONFIG, "method": "random", "parameters": {"x": {"min": 0, "max": 1.0}}})
    agent = service.register_agent(sweep.id, host="h", pid=1)
    open_ended = SweepProgress(service, sweep.id)
    counted = SweepProgress(service, sweep.id, total=4)
    for n in range(3):
        _run(service, sweep.id, agent, n, acc=0.1 * n)
    open_ended.poll(), counted.poll()
    assert open_ended.total is None and open_ended.left_s() is None and open_ended.runs_per_minute() > 0
    assert counted.total == 4 and counted.line().startswith("runs: 3/4 done")
    service.control_sweep(sweep.id, "stop")
    counted.poll()
    assert counted.over and counted.left_s() is None


def test_the_feed_reads_only_from_the_oldest_run_still_going(service):
    sweep = service.create_sweep(CONFIG)
    agent = service.register_agent(sweep.id, host="h", pid=1)
    feed = RunFeed(service, sweep.id)
    first = _run(service, sweep.id, agent, 1)
    slow = _run(service, sweep.id, agent, 2, state=None)
    third = _run(service, sweep.id, agent, 3)
    assert [r.id for r in feed.poll()] == [first, third] and [r.id for r in feed.active] == [slow]
    assert feed._after == 1  # run 1 is never read again
    service.finish_run(slow, RunState.KILLED)
    assert [r.id for r in feed.poll()] == [slow] and feed._after == 3
    assert feed.poll() == []


def test_view_helpers():
    assert sparkline([3.0, 2.0, 2.0, 1.0], 10) == "█▅▅▁" and sparkline([1.0] * 5, 3) == "▁▁▁"
    assert len(sparkline(list(map(float, range(100))), 20)) == 20
    assert fit([5, 5, 5], 12) == 2 and fit([5, 5, 5], 100) == 3 and fit([50], 10) == 0
    parameters = [
        Parameter("a", "constant", values=[1]),
        Parameter("g.b", "constant", values=[2]),
        Parameter("g.c", "category", values=[1]),
        Parameter("lr", "number", log=True, low=0.001, high=0.1),
    ]
    assert constant_names(parameters) == {"a", "g.b"}
