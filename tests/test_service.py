"""The sweep service, one suite for every transport and backend (``service`` fixture: local and over
HTTP, each on SQLite and PostgreSQL).

Everything here goes through ``SweepService``'s calls and plain data: these are the semantics an
agent, the CLI or the Python API can rely on, whichever transport and store are behind it, down to
the error's class and sentence. Settings of the service's side are given with the ``service_env``
marker (a server reads its own environment).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from datetime import datetime, timezone

import pytest

from sweepkit.errors import ConflictError, NotFoundError, SweepkitError
from sweepkit.runs import MetricStats, RunState, SweepAction, SweepState
from sweepkit.service.types import Claim, LogBatch, RunInfo, SweepInfo, from_json, to_json
from sweepkit.sweep_config import ConfigError

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": [0, 1, 2]}},
}
HYPERBAND = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3},
    "parameters": {"i": {"min": 0, "max": 1000}},
}
_keys = iter(range(10**9))


def claim(service, sweep_id: str, agent_id: str):
    result = service.claim_run(sweep_id, agent_id, f"key-{next(_keys)}")
    assert result.status == Claim.CLAIMED, result
    return result.assignment


def new_agent(service, sweep_id: str) -> str:
    return service.register_agent(sweep_id, host="node-1", pid=4242)


def rows(*values, start=0, name="loss"):
    return [{"_step": start + i, name: v} for i, v in enumerate(values)]


# --- sweeps -------------------------------------------------------------------------------------


def test_create_and_get_sweep(service):
    sweep = service.create_sweep(GRID, project="proj", entity="team", name="first")
    assert re.fullmatch(r"[a-z0-9]{8}", sweep.id)
    assert (sweep.project, sweep.entity, sweep.name, sweep.state) == (
        "proj",
        "team",
        "first",
        SweepState.RUNNING,
    )
    assert sweep.method == "grid" and sweep.config["parameters"]["i"]["values"] == [0, 1, 2]
    assert sweep.run_count == 0 and sweep.state_reason is None and sweep.runs_by_state == {}
    assert sweep.planned_runs == 3  # the grid's size
    assert sweep.created_at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - sweep.created_at).total_seconds()) < 60
    assert service.get_sweep(sweep.id).id == sweep.id
    assert service.get_sweep(sweep.id, project="proj", entity="team").id == sweep.id


def test_config_labels_and_the_caller_wins(service):
    sweep = service.create_sweep({**GRID, "project": "p", "entity": "e", "name": "n"})
    assert (sweep.project, sweep.entity, sweep.name) == ("p", "e", "n")
    assert service.create_sweep({**GRID, "project": "p"}, project="cli").project == "cli"


def test_invalid_config_is_refused_and_nothing_is_stored(service):
    before = service.list_sweeps()
    with pytest.raises(ConfigError, match="parameters.lr.min: expected a number"):
        service.create_sweep({"method": "random", "parameters": {"lr": {"min": "abc", "max": 1}}})
    assert service.list_sweeps() == before


def test_not_found_names_the_store(service):
    with pytest.raises(NotFoundError, match=rf"^no sweep 'abc' in {re.escape(service.location)}$"):
        service.get_sweep("abc")
    sweep = service.create_sweep(GRID, project="proj", entity="team")
    with pytest.raises(NotFoundError, match="no sweep .* in project 'other'"):
        service.get_sweep(sweep.id, project="other")
    with pytest.raises(NotFoundError, match="no sweep .* in entity 'someone'"):
        service.get_sweep(sweep.id, entity="someone")
    bare = service.create_sweep(GRID)
    assert service.get_sweep(bare.id, project="any", entity="any").id == bare.id
    with pytest.raises(NotFoundError, match="no run 'nope'"):
        service.get_run("nope")


def test_list_sweeps_newest_first_with_counts(service):
    first = service.create_sweep(GRID, project="a")
    time.sleep(0.01)
    second = service.create_sweep(GRID, project="b")
    agent = new_agent(service, second.id)
    claim(service, second.id, agent)
    listed = service.list_sweeps()
    assert [s.id for s in listed][:2] == [second.id, first.id]
    assert listed[0].runs_by_state == {"running": 1} and listed[0].live_agents == 1
    assert [s.id for s in service.list_sweeps(project="a")] == [first.id]
    assert service.list_sweeps(project="none") == []


def test_controls(service):
    sweep = service.create_sweep(GRID)
    assert service.control_sweep(sweep.id, SweepAction.PAUSE).state == SweepState.PAUSED
    with pytest.raises(ConflictError, match="only a running sweep can be paused"):
        service.control_sweep(sweep.id, SweepAction.PAUSE)
    assert service.control_sweep(sweep.id, SweepAction.RESUME).state == SweepState.RUNNING
    stopped = service.control_sweep(sweep.id, SweepAction.STOP)
    assert (stopped.state, stopped.state_reason) == (SweepState.STOPPED, "stopped by user")
    assert service.control_sweep(sweep.id, SweepAction.RESUME).state == SweepState.RUNNING
    cancelled = service.control_sweep(sweep.id, "cancel")
    assert (cancelled.state, cancelled.state_reason) == (SweepState.CANCELLED, "cancelled by user")
    with pytest.raises(ConflictError, match="cannot be resumed"):
        service.control_sweep(sweep.id, SweepAction.RESUME)


def test_update_keeps_the_metric_and_every_version(service):
    sweep = service.create_sweep(GRID)
    updated = service.update_sweep(sweep.id, {**GRID, "parameters": {"i": {"values": [7, 8]}}})
    assert updated.config["parameters"]["i"]["values"] == [7, 8]
    assert updated.changes == [
        "parameter i: one of 0, 1, 2 -> one of 7, 8",
        "the grid shrinks from 3 to 2 points; 0 already ran, 2 new (a grid never runs a point again)",
    ]
    with pytest.raises(ConflictError, match="metric.name: cannot change a sweep's metric"):
        service.update_sweep(sweep.id, {**GRID, "metric": {"name": "acc"}})
    changed = service.update_sweep(
        sweep.id, {**GRID, "method": "random", "parameters": {"i": {"values": [7, 8]}}}
    )
    assert changed.method == "random" and changed.changes[0].startswith("method grid -> random")
    assert service.get_sweep(sweep.id).config["parameters"]["i"]["values"] == [7, 8]
    versions = service.config_versions(sweep.id)
    assert [(v.version, v.config["method"], len(v.changes)) for v in versions] == [
        (1, "grid", 0),
        (2, "grid", 2),
        (3, "random", 1),
    ]
    assert versions[0].created_at <= versions[1].created_at <= versions[2].created_at


def test_a_turned_goal_is_reported_for_one_metric_and_for_each_of_several(service):
    single = service.create_sweep(GRID)
    turned = {**GRID, "metric": {"name": "loss", "goal": "maximize"}}
    assert service.update_sweep(single.id, turned, dry_run=True).changes == [
        "metric.goal minimize -> maximize: every run is ranked by the new goal"
    ]
    objectives = [{"name": "loss", "goal": "minimize"}, {"name": "acc", "goal": "maximize"}]
    several = {key: value for key, value in GRID.items() if key != "metric"}
    sweep = service.create_sweep({**several, "metrics": objectives})
    both_min = [objectives[0], {"name": "acc", "goal": "minimize"}]
    assert service.update_sweep(sweep.id, {**several, "metrics": both_min}, dry_run=True).changes == [
        "metrics[1].goal (acc) maximize -> minimize: every run is ranked by the new goal"
    ]
    assert service.update_sweep(sweep.id, {**several, "metrics": objectives}, dry_run=True).changes == []


def test_update_preview_changes_nothing_and_defaults_fill_earlier_runs(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    for _ in range(3):
        service.finish_run(claim(service, sweep.id, agent).run_id, RunState.FINISHED)
    wider = {**GRID, "parameters": {"i": {"values": [0, 1, 2, 3]}, "j": {"values": ["a", "b"]}}}
    preview = service.update_sweep(sweep.id, wider, defaults={"j": "a"}, dry_run=True)
    assert "the grid grows from 3 to 8 points; 3 already ran, 5 new (a grid never runs a point again)" in (
        preview.changes
    )
    assert "parameter j added: the 3 earlier runs are taken to have had j='a'" in preview.changes
    assert preview.changes[-1] == "the sweep was finished: it runs again, from the new config" or (
        preview.state == SweepState.RUNNING
    )
    assert len(service.config_versions(sweep.id)) == 1
    assert all("j" not in r.params for r in service.all_runs(sweep.id))
    with pytest.raises(ConflictError, match="default j: expected one of 'a', 'b', got 'c'"):
        service.update_sweep(sweep.id, wider, defaults={"j": "c"})
    with pytest.raises(
        ConflictError, match="default i: only a parameter the new config adds takes a default"
    ):
        service.update_sweep(sweep.id, wider, defaults={"i": 0})
    service.update_sweep(sweep.id, wider, defaults={"j": "a"})
    assert [r.params for r in service.all_runs(sweep.id)] == [{"i": i, "j": "a"} for i in range(3)]
    new = [claim(service, sweep.id, agent).params for _ in range(5)]
    assert sorted((p["i"], p["j"]) for p in new) == [(0, "b"), (1, "b"), (2, "b"), (3, "a"), (3, "b")]
    assert service.claim_run(sweep.id, agent, "k-widened-end").reason.startswith("grid exhausted")


def test_queued_points_run_first_once_and_bad_points_queue_nothing(service):
    sweep = service.create_sweep(
        {
            **GRID,
            "parameters": {"i": {"values": [0, 1, 2]}, "lr": {"min": 0.1, "max": 1.0}},
            "method": "random",
        }
    )
    with pytest.raises(SweepkitError) as err:
        service.queue_points(
            sweep.id, [{"i": 1, "lr": 0.5}, {"i": 5, "lr": 2.0}, {"i": 1, "lr": 0.5, "x": 1}]
        )
    assert str(err.value).splitlines()[1:] == [
        "point 2: i: expected one of 0, 1, 2, got 5",
        "point 2: lr: expected a number from 0.1 to 1, got 2.0",
        "point 3: x: not a parameter of this sweep (its parameters: i, lr)",
    ]
    assert service.all_runs(sweep.id) == []
    queued = service.queue_points(sweep.id, [{"i": 2, "lr": 0.25}, {"i": 0, "lr": 0.75}])
    assert [(r.number, r.state, r.params, r.suggestion) for r in queued] == [
        (1, RunState.PENDING, {"i": 2, "lr": 0.25}, {"queued": True}),
        (2, RunState.PENDING, {"i": 0, "lr": 0.75}, {"queued": True}),
    ]
    narrower = {
        **GRID,
        "method": "random",
        "parameters": {"i": {"values": [0, 1]}, "lr": {"min": 0.1, "max": 1.0}},
    }
    assert service.update_sweep(sweep.id, narrower, dry_run=True).changes[-1] == (
        "1 of 2 queued runs fall outside the new space: they still run as queued "
        "(sweepkit runs --delete removes them)"
    )
    agent = new_agent(service, sweep.id)
    first = [claim(service, sweep.id, agent) for _ in range(3)]
    assert [a.params for a in first[:2]] == [{"i": 2, "lr": 0.25}, {"i": 0, "lr": 0.75}]
    assert first[2].run_number == 3 and "queued" not in service.get_run(first[2].run_id).suggestion


def test_import_keeps_rows_that_fit_and_names_the_others(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": [0, 1, 2]}}})
    rows_in = [
        {"params": {"i": 1, "other": "x"}, "metrics": {"loss": 0.5, "acc": 0.9}, "name": "baseline"},
        {"params": {"i": 7}, "metrics": {"loss": 0.1}, "label": "line 3"},
        {"params": {"i": 2}, "metrics": {"acc": 0.1}},
    ]
    result = service.import_runs(sweep.id, rows_in, source="results.csv")
    assert result.refused == [
        "line 3: i: expected one of 0, 1, 2, got 7",
        "row 3: loss: expected a number for the sweep's metric, it has none",
    ]
    (run,) = [service.get_run(run_id) for run_id in result.imported]
    assert (run.state, run.params, run.name, run.suggestion) == (
        RunState.FINISHED,
        {"i": 1},
        "baseline",
        {"imported": "results.csv"},
    )
    assert run.summary == {"loss": 0.5, "acc": 0.9} and run.objective_values == {"loss": 0.5}
    assert service.best_run(sweep.id).id == run.id
    agent = new_agent(service, sweep.id)
    assert sorted(claim(service, sweep.id, agent).params["i"] for _ in range(2)) == [0, 2]  # 1 was imported
    assert service.claim_run(sweep.id, agent, "k-import-end").reason.startswith("grid exhausted")


def test_a_grid_plans_its_points_once_whoever_used_them(service):
    """Imported and queued runs at a grid point spare the grid that point; a retry or a repeated
    point comes on top: ``planned_runs`` is the run count the sweep ends with."""
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": [0, 1, 2, 3]}}})
    service.import_runs(sweep.id, [{"params": {"i": 1}, "metrics": {"loss": 0.5}}], source="earlier")
    assert service.get_sweep(sweep.id).planned_runs == 4
    service.queue_points(sweep.id, [{"i": 2}, {"i": 1}])  # a new point and one used already
    assert service.get_sweep(sweep.id).planned_runs == 5
    agent = new_agent(service, sweep.id)
    handed = [claim(service, sweep.id, agent) for _ in range(4)]
    assert [a.params["i"] for a in handed] == [2, 1, 0, 3]
    service.finish_run(handed[0].run_id, RunState.FAILED)
    service.retry_runs(sweep.id)
    assert service.get_sweep(sweep.id).planned_runs == 6
    claim(service, sweep.id, agent)
    assert service.claim_run(sweep.id, agent, "k-planned-end").reason.startswith("grid exhausted")
    info = service.get_sweep(sweep.id)
    assert info.run_count == info.planned_runs == 6


# --- claims -------------------------------------------------------------------------------------


def test_claims_hand_out_the_grid_then_finish(service):
    sweep = service.create_sweep({**GRID, "name": "demo", "program": "train.py"})
    agent = new_agent(service, sweep.id)
    got = [claim(service, sweep.id, agent) for _ in range(3)]
    assert [a.params for a in got] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [a.run_name for a in got] == ["demo-1", "demo-2", "demo-3"]
    assert [a.run_number for a in got] == [1, 2, 3]
    first = got[0]
    assert first.config == {"i": 0} and first.metric_name == "loss" and first.command_error is None
    assert first.env["WANDB_SWEEP_ID"] == sweep.id and first.env["SWEEPKIT_RUN_ID"] == first.run_id
    assert first.command == [
        [{"agent": "env", "element": "${env}", "whole": True}],
        [{"agent": "interpreter", "element": "${interpreter}", "whole": True}],
        ["train.py"],
        ["--i=0"],
    ]
    run = service.get_run(first.run_id)
    assert run.state == RunState.RUNNING and run.agent_id == agent and run.suggestion["grid_index"] == 0
    done = service.claim_run(sweep.id, agent, "key-final")
    assert (done.status, done.reason, done.assignment) == (
        "finished",
        "grid exhausted: all 3 points have been used",
        None,
    )
    info = service.get_sweep(sweep.id)
    assert (info.state, info.run_count) == (SweepState.FINISHED, 3)


def test_a_retried_claim_gets_the_same_run(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    first = service.claim_run(sweep.id, agent, "same-key")
    again = service.claim_run(sweep.id, agent, "same-key")
    assert again.assignment == first.assignment
    assert service.get_sweep(sweep.id).run_count == 1


@pytest.mark.parametrize("action", [SweepAction.PAUSE, SweepAction.STOP, SweepAction.CANCEL])
def test_a_sweep_that_is_not_running_hands_out_nothing(service, action):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    service.control_sweep(sweep.id, action)
    result = service.claim_run(sweep.id, agent, "k")
    assert result.assignment is None and result.status == service.get_sweep(sweep.id).state.value
    assert service.list_runs(sweep.id).runs == []


def test_run_cap_and_metric_target(service):
    capped = service.create_sweep({**GRID, "method": "random", "run_cap": 2})
    agent = new_agent(service, capped.id)
    assert capped.planned_runs == 2
    claim(service, capped.id, agent)
    claim(service, capped.id, agent)
    assert service.claim_run(capped.id, agent, "k3").reason == "run_cap 2 reached"

    target = service.create_sweep({**GRID, "method": "random", "metric": {"name": "loss", "target": 0.5}})
    agent = new_agent(service, target.id)
    run = claim(service, target.id, agent)
    service.log(run.run_id, LogBatch(1, rows(2.0, 0.4)))
    service.finish_run(run.run_id, RunState.FINISHED)
    result = service.claim_run(target.id, agent, "k-after")
    assert result.status == "finished" and result.reason.startswith("metric.target 0.5 reached by run")


def test_claim_errors(service):
    with pytest.raises(NotFoundError, match="no sweep 'missing1'"):
        service.claim_run("missing1", "nobody", "k")
    sweep = service.create_sweep(GRID)
    with pytest.raises(NotFoundError, match="no agent 'ghost'"):
        service.claim_run(sweep.id, "ghost", "k")
    long_id = "an-agent-id-longer-than-any-the-store-makes"
    with pytest.raises(NotFoundError, match=f"no agent '{long_id}'"):
        service.claim_run(sweep.id, long_id, "k")
    service.queue_points(sweep.id, [{"i": 1}])  # a queued run is handed out by another statement
    with pytest.raises(NotFoundError, match=f"no agent '{long_id}'"):
        service.claim_run(sweep.id, long_id, "k")
    with pytest.raises(NotFoundError, match=f"no agent '{long_id}'"):
        service.heartbeat(long_id, [])
    with pytest.raises(NotFoundError, match="no sweep 'missing1'"):
        service.register_agent("missing1", host="h", pid=1)
    assert [r.state for r in service.list_runs(sweep.id).runs] == [RunState.PENDING]


def claim_from_threads(service, sweep_id: str, agent: str, prefix: str, threads: int = 4) -> list:
    """Claim until the sweep has nothing left, from several threads at once; every assignment.

    A thread's exception fails the calling test (re-raised after all threads have ended).
    """
    got, errors = [], []

    def work(n):
        try:
            k = 0
            while (result := service.claim_run(sweep_id, agent, f"{prefix}{n}-{k}")).status == "claimed":
                got.append(result.assignment)
                k += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert errors == []
    return got


def test_threads_share_one_service(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": list(range(40))}}})
    agent = new_agent(service, sweep.id)
    got = [a.params["i"] for a in claim_from_threads(service, sweep.id, agent, "t")]
    assert sorted(got) == list(range(40))


# --- logging ------------------------------------------------------------------------------------


def test_log_appends_history_and_keeps_aggregates(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    ack = service.log(
        run.run_id, LogBatch(1, [{"_step": 0, "loss": 3.0, "acc": 0.1}, {"_step": 1, "acc": 0.2}])
    )
    assert (ack.applied, ack.stop_requested, ack.state, ack.dropped) == (True, False, RunState.RUNNING, 0)
    service.log(
        run.run_id, LogBatch(2, [{"_step": 2, "loss": 1.0}, {"_step": 5, "loss": 2.0}], summary={"note": "x"})
    )
    info = service.get_run(run.run_id)
    assert info.metric == MetricStats(count=3, last=2.0, min=1.0, max=3.0, bands={})
    assert info.summary == {"_step": 5, "loss": 2.0, "acc": 0.2, "note": "x"}
    assert info.last_step == 5
    assert service.history(run.run_id).rows == [
        {"_step": 0, "loss": 3.0, "acc": 0.1},
        {"_step": 1, "acc": 0.2},
        {"_step": 2, "loss": 1.0},
        {"_step": 5, "loss": 2.0},
    ]


def test_a_retried_batch_is_stored_once(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    batch = LogBatch(1, rows(1.0, 2.0))
    assert service.log(run.run_id, batch).applied
    assert not service.log(run.run_id, batch).applied
    assert len(service.history(run.run_id).rows) == 2
    assert service.get_run(run.run_id).metric.count == 2


def test_rows_not_after_the_newest_step_are_dropped_as_in_wandb(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    service.log(run.run_id, LogBatch(1, rows(1.0, 2.0, start=3)))
    ack = service.log(run.run_id, LogBatch(2, rows(9.0, 9.0, 0.5, start=3)))
    assert ack.dropped == 2
    assert [r["_step"] for r in service.history(run.run_id).rows] == [3, 4, 5]
    assert service.get_run(run.run_id).metric.min == 0.5
    # rows of one step in one batch merge, in the order given
    service.log(run.run_id, LogBatch(3, [{"_step": 9, "a": 1}, {"_step": 9, "b": 2}]))
    assert service.history(run.run_id, after=5).rows == [{"_step": 9, "a": 1, "b": 2}]


def test_history_pages(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    service.log(run.run_id, LogBatch(1, rows(*range(25))))
    page = service.history(run.run_id, limit=10)
    assert [r["_step"] for r in page.rows] == list(range(10)) and page.next_after == 9
    rest = service.history(run.run_id, after=page.next_after, limit=100)
    assert [r["_step"] for r in rest.rows] == list(range(10, 25)) and rest.next_after is None
    assert len(service.full_history(run.run_id)) == 25


def test_nan_and_infinities_survive_but_do_not_count(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    service.log(run.run_id, LogBatch(1, rows(math.nan, math.inf, 1.5, "text", True, None)))
    stored = service.history(run.run_id).rows
    assert math.isnan(stored[0]["loss"]) and stored[1]["loss"] == math.inf and stored[3]["loss"] == "text"
    assert service.get_run(run.run_id).metric == MetricStats(count=1, last=1.5, min=1.5, max=1.5)


@pytest.mark.parametrize(
    ("logged", "summary", "reason"),
    [
        (
            [math.nan, math.inf, -math.inf],
            None,
            r"^no usable value of the sweep's metric 'loss': .*\(the last: -Infinity\)$",
        ),
        (["abc", None, True], None, r"^no usable value of the sweep's metric 'loss': .*\(the last: True\)$"),
        ([], None, r"^no value of the sweep's metric 'loss': the run never logged it$"),
        ([math.nan], {"loss": 0.5}, None),  # a summary value it set itself counts
        ([math.nan, 2.0, math.nan], None, None),
    ],
)
def test_a_run_that_ends_without_a_usable_metric_value_says_so(service, logged, summary, reason):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    run = claim(service, sweep.id, agent)
    service.log(run.run_id, LogBatch(1, rows(*logged) or [{"_step": 0, "other": 1}], summary))
    ended = service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
    assert ended.state == RunState.FINISHED
    for info in (ended, service.get_run(run.run_id), service.list_runs(sweep.id).runs[0]):
        if reason is None:
            assert info.error is None and info.reason is None
        else:
            assert re.match(reason, info.reason), info.reason
    # W&B's imputation still places the run in the search: the grid goes on to its next point.
    assert claim(service, sweep.id, agent).config["i"] == 1


@pytest.mark.parametrize(
    ("bad_rows", "message"),
    [
        ([{"loss": 1}], r"needs an integer '_step' from 0 to 2\*\*63-1, got None"),
        ([{"_step": 2**63 + 5}], r"needs an integer '_step'"),
        ([{"_step": -1}], r"needs an integer '_step'"),
        ([{"_step": True}], r"needs an integer '_step'"),
        ([{"_step": 0, 1: 2}], r"has a key 1 that is not text"),
        (["row"], r"logged row 1 is str, not a dict"),
    ],
)
def test_bad_rows_are_refused_whole_and_lose_nothing(service, bad_rows, message):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    service.log(run.run_id, LogBatch(1, rows(1.0)))
    with pytest.raises(SweepkitError, match=message):
        service.log(run.run_id, LogBatch(2, [{"_step": 1, "loss": 0.5}, *bad_rows]))
    service.log(run.run_id, LogBatch(2, rows(0.5, start=1)))
    assert [r["loss"] for r in service.history(run.run_id).rows] == [1.0, 0.5]


def test_config_name_and_summary_in_a_batch(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    assert service.get_run(run.run_id).config == {"i": 0}  # derived from the parameters
    service.log(
        run.run_id, LogBatch(1, config={"i": 0, "extra": [1, 2]}, name="renamed", summary={"loss": 0.25})
    )
    info = service.get_run(run.run_id)
    assert (info.config, info.name, info.summary) == ({"i": 0, "extra": [1, 2]}, "renamed", {"loss": 0.25})
    assert info.metric.count == 0 and info.metric.best("minimize") == 0.25  # the summary value


@pytest.mark.service_env(SWEEPKIT_HEARTBEAT_TIMEOUT="0.2")
def test_an_ended_run_logs_no_more_and_a_crashed_one_comes_back(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    run = claim(service, sweep.id, agent)
    service.finish_run(run.run_id, RunState.FAILED)
    with pytest.raises(ConflictError, match="is failed, not running: it cannot log any more"):
        service.log(run.run_id, LogBatch(1, rows(1.0)))
    other = claim(service, sweep.id, agent)
    time.sleep(0.5)
    assert service.list_runs(sweep.id, states=[RunState.CRASHED]).runs[0].id == other.run_id
    ack = service.log(other.run_id, LogBatch(1, rows(1.0)))  # its agent was only cut off
    assert ack.state == RunState.RUNNING and service.get_run(other.run_id).state == RunState.RUNNING


# --- hyperband as values arrive -----------------------------------------------------------------


def test_hyperband_stops_the_worse_run_when_a_band_is_reached(service):
    sweep = service.create_sweep(HYPERBAND)
    agent = new_agent(service, sweep.id)
    good, bad = claim(service, sweep.id, agent), claim(service, sweep.id, agent)
    assert not service.log(good.run_id, LogBatch(1, rows(1.0, 0.5))).stop_requested
    ack = service.log(bad.run_id, LogBatch(1, rows(5.0, 4.0)))
    assert ack.stop_requested and ack.stop_reason.startswith("hyperband: loss 4 at iteration 2")
    info = service.get_run(bad.run_id)
    assert info.stop_info == {"rule": "hyperband", "band": 2, "value": 4.0, "threshold": 0.5}
    assert info.metric.bands == {2: 4.0}
    controls = service.heartbeat(agent, [good.run_id, bad.run_id])
    assert [(c.run_id, c.stop_requested) for c in controls] == [(good.run_id, False), (bad.run_id, True)]


def test_hyperband_judges_a_band_once_and_never_ended_runs(service):
    sweep = service.create_sweep(HYPERBAND)
    agent = new_agent(service, sweep.id)
    a, b = claim(service, sweep.id, agent), claim(service, sweep.id, agent)
    service.log(a.run_id, LogBatch(1, rows(1.0, 1.0)))
    service.finish_run(a.run_id, RunState.FINISHED)
    # b reaches band 2 worse than a, but only after many values in one batch: still judged
    ack = service.log(b.run_id, LogBatch(1, rows(3.0, 3.0, 3.0)))
    assert ack.stop_requested
    assert not service.get_run(a.run_id).stop_requested


def test_hyperband_leaves_other_sweeps_alone(service):
    one, two = service.create_sweep(HYPERBAND), service.create_sweep(HYPERBAND)
    a = claim(service, one.id, new_agent(service, one.id))
    b = claim(service, two.id, new_agent(service, two.id))
    service.log(a.run_id, LogBatch(1, rows(1.0, 1.0)))
    assert not service.log(b.run_id, LogBatch(1, rows(9.0, 9.0))).stop_requested


# --- heartbeats and ends ------------------------------------------------------------------------


def test_heartbeats_date_runs_on_the_database_clock(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    run = claim(service, sweep.id, agent)
    before = service.get_run(run.run_id).heartbeat_at
    time.sleep(0.05)
    (control,) = service.heartbeat(agent, [run.run_id])
    assert (control.state, control.stop_requested) == (RunState.RUNNING, False)
    assert service.get_run(run.run_id).heartbeat_at > before
    assert service.heartbeat(agent, []) == []
    with pytest.raises(NotFoundError, match="no agent 'nobody'"):
        service.heartbeat("nobody", [])
    service.finish_run(run.run_id, RunState.KILLED)
    (control,) = service.heartbeat(agent, [run.run_id])
    assert control.stop_requested and control.stop_reason == "run is killed"


def test_cancel_asks_every_active_run_to_stop(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    a, b, c = (claim(service, sweep.id, agent) for _ in range(3))
    service.finish_run(c.run_id, RunState.FINISHED)
    service.control_sweep(sweep.id, SweepAction.CANCEL)
    assert [x.stop_requested for x in service.heartbeat(agent, [a.run_id, b.run_id])] == [True, True]
    assert not service.get_run(c.run_id).stop_requested
    assert service.get_run(a.run_id).stop_reason == "sweep cancelled"


def test_finish_is_idempotent_and_keeps_the_first_end(service):
    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    ended = service.finish_run(run.run_id, RunState.FAILED, exit_code=2, error="Traceback: boom")
    assert (ended.state, ended.exit_code, ended.error) == (RunState.FAILED, 2, "Traceback: boom")
    assert ended.finished_at is not None and ended.duration_s is not None
    again = service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
    assert (again.state, again.exit_code) == (RunState.FAILED, 2)
    with pytest.raises(ValueError, match="terminal state"):
        service.finish_run(run.run_id, RunState.RUNNING)
    with pytest.raises(NotFoundError):
        service.finish_run("nope", RunState.FINISHED)


@pytest.mark.service_env(SWEEPKIT_HEARTBEAT_TIMEOUT="0.3")
def test_silent_runs_are_reaped_as_crashed(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": list(range(5))}}})
    agent = new_agent(service, sweep.id)
    silent, alive, done = (claim(service, sweep.id, agent) for _ in range(3))
    service.finish_run(done.run_id, RunState.FINISHED)
    time.sleep(0.4)
    service.heartbeat(agent, [alive.run_id])
    claim(service, sweep.id, agent)  # claims reap the sweep's silent runs
    states = {r.id: r.state for r in service.list_runs(sweep.id).runs}
    assert states[silent.run_id] == RunState.CRASHED
    assert states[alive.run_id] == RunState.RUNNING and states[done.run_id] == RunState.FINISHED
    crashed = service.get_run(silent.run_id)
    assert "no heartbeat" in crashed.error
    assert crashed.duration_s <= (crashed.heartbeat_at - crashed.started_at).total_seconds() + 1e-6


# --- queries ------------------------------------------------------------------------------------


def test_runs_page_in_number_order_and_filter_by_state(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": list(range(7))}}})
    agent = new_agent(service, sweep.id)
    made = [claim(service, sweep.id, agent) for _ in range(7)]
    service.finish_run(made[1].run_id, RunState.FINISHED)
    page = service.list_runs(sweep.id, limit=3)
    assert [r.number for r in page.runs] == [1, 2, 3] and page.next_after == 3
    page = service.list_runs(sweep.id, after=3, limit=3)
    assert [r.number for r in page.runs] == [4, 5, 6]
    assert [r.number for r in service.list_runs(sweep.id, after=6, limit=3).runs] == [7]
    assert [r.id for r in service.list_runs(sweep.id, states=[RunState.FINISHED]).runs] == [made[1].run_id]
    assert len(service.all_runs(sweep.id)) == 7
    with pytest.raises(NotFoundError):
        service.list_runs("missing1")


def test_best_run_by_the_metric_goal(service):
    for goal, expected in (("minimize", 0), ("maximize", 1)):
        sweep = service.create_sweep({**GRID, "metric": {"name": "loss", "goal": goal}})
        agent = new_agent(service, sweep.id)
        a, b, c = (claim(service, sweep.id, agent) for _ in range(3))
        service.log(a.run_id, LogBatch(1, rows(5.0, 1.0)))
        service.log(b.run_id, LogBatch(1, rows(3.0, 9.0)))
        service.log(c.run_id, LogBatch(1, rows(0.1, 99.0)))  # still running: not a candidate
        for run in (a, b):
            service.finish_run(run.run_id, RunState.FINISHED)
        assert service.best_run(sweep.id).id == (a, b)[expected].run_id
    no_metric = service.create_sweep({"method": "random", "parameters": {"x": {"value": 1}}})
    assert service.best_run(no_metric.id) is None


def test_the_plan_says_what_the_sweep_means(service):
    config = {
        **HYPERBAND,
        "metric": {"name": "acc", "goal": "maximize", "target": 0.99},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.1},
            "opt": {"values": ["adam", "sgd"]},
            "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
            "seed": {"value": 7},
        },
        "run_cap": 20,
    }
    plan = service.create_sweep(config).plan
    assert plan.method == "random" and plan.run_cap == 20
    assert [(o.name, o.goal, o.target) for o in plan.objectives] == [("acc", "maximize", 0.99)]
    assert plan.objective is plan.objectives[0]
    rule = plan.stopping
    assert (rule.kind, rule.objective, rule.eta, rule.strict) == ("hyperband", "acc", 3.0, True)
    assert rule.bands[:4] == [2, 6, 18, 54] and rule.bands[-1] <= 10_000
    by_name = {p.name: p for p in plan.parameters}
    assert (by_name["lr"].kind, by_name["lr"].log, by_name["lr"].low, by_name["lr"].high) == (
        "number",
        True,
        1e-4,
        0.1,
    )
    assert (by_name["layers"].kind, by_name["layers"].integer) == ("number", True)
    assert (by_name["opt"].kind, by_name["opt"].values) == ("category", ["adam", "sgd"])
    assert (by_name["seed"].kind, by_name["seed"].values) == ("constant", [7])
    bare = service.create_sweep({"method": "grid", "parameters": {"x": {"values": [1, 2]}}}).plan
    assert bare.objectives == [] and bare.objective is None and bare.stopping is None


def test_allowed_actions_follow_the_state_and_agree_with_control(service):
    sweep = service.create_sweep(GRID)
    expected = {
        SweepState.RUNNING: {"pause", "stop", "cancel"},
        SweepState.PAUSED: {"resume", "stop", "cancel"},
        SweepState.STOPPED: {"resume", "cancel"},
        SweepState.CANCELLED: set(),
    }
    assert {a.value for a in sweep.actions} == expected[SweepState.RUNNING]
    for action in (SweepAction.PAUSE, SweepAction.STOP, SweepAction.CANCEL):
        sweep = service.control_sweep(sweep.id, action)
        assert {a.value for a in sweep.actions} == expected[sweep.state]
        assert {a.value for a in service.get_sweep(sweep.id).actions} == expected[sweep.state]
    # A finished grid can still be cancelled (and the dashboard offers it), not paused.
    done = service.create_sweep({**GRID, "parameters": {"i": {"values": [0]}}})
    agent = new_agent(service, done.id)
    service.finish_run(claim(service, done.id, agent).run_id, RunState.FINISHED)
    assert service.claim_run(done.id, agent, "after-the-grid").status == "finished"
    assert [a.value for a in service.get_sweep(done.id).actions] == ["cancel"]
    with pytest.raises(ConflictError, match="only a running sweep can be paused"):
        service.control_sweep(done.id, SweepAction.PAUSE)
    assert service.control_sweep(done.id, SweepAction.CANCEL).state == SweepState.CANCELLED


def test_best_runs_rank_finished_runs_by_the_service_s_judgement(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": list(range(6))}}})
    agent = new_agent(service, sweep.id)
    runs = [claim(service, sweep.id, agent) for _ in range(6)]
    values = [(3.0, 2.0), (5.0,), (1.0, 9.0), (2.0,), (4.0,), ()]
    for run, logged in zip(runs, values, strict=True):
        if logged:
            service.log(run.run_id, LogBatch(1, rows(*logged)))
    service.log(runs[1].run_id, LogBatch(2, summary={"loss": 0.5}))  # a summary value better than logged
    for run in runs[:5] + runs[5:]:
        if run is not runs[4]:  # runs[4] stays running: not ranked
            service.finish_run(run.run_id, RunState.FINISHED)
    ranked = service.best_runs(sweep.id)
    assert [(r.run.id, r.rank) for r in ranked] == [
        (runs[1].run_id, 1),
        (runs[2].run_id, 2),  # 1.0 ties with nothing: its best logged value
        (runs[0].run_id, 3),
        (runs[3].run_id, 3),  # 2.0, equal to runs[0]'s best: same rank
    ]
    assert ranked[0].run.objective_values == {"loss": 0.5} and ranked[0].run.value("loss") == 0.5
    assert [r.run.id for r in service.best_runs(sweep.id, limit=2)] == [runs[1].run_id, runs[2].run_id]
    assert service.best_run(sweep.id).id == runs[1].run_id
    assert service.get_run(runs[5].run_id).objective_values == {"loss": None}
    assert service.get_run(runs[4].run_id).objective_values == {"loss": 4.0}
    assert (
        service.best_runs(service.create_sweep({"method": "grid", "parameters": {"x": {"value": 1}}}).id)
        == []
    )


def test_band_thresholds_are_the_stopping_rule_s(service):
    sweep = service.create_sweep(HYPERBAND)
    agent = new_agent(service, sweep.id)
    assert service.band_thresholds(sweep.id) == []
    a, b, c = (claim(service, sweep.id, agent) for _ in range(3))
    service.log(a.run_id, LogBatch(1, rows(1.0, 0.5)))
    service.log(b.run_id, LogBatch(1, rows(2.0, 0.8)))
    service.log(c.run_id, LogBatch(1, rows(3.0)))
    (found,) = service.band_thresholds(sweep.id)
    assert (found.band, found.threshold, found.runs) == (2, 0.5, 2)
    assert service.band_thresholds(service.create_sweep(GRID).id) == []


def test_run_command_is_the_line_the_agent_was_told(service):
    sweep = service.create_sweep(
        {
            **GRID,
            "program": "train.py",
            "command": ["${env}", "${interpreter}", "${program}", "--epochs=3", "${args}", "a b"],
        }
    )
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    assert service.run_command(run.run_id) == "${env} ${interpreter} train.py --epochs=3 --i=0 'a b'"
    assert service.run_command(service.start_run(name="solo").id) is None


def test_standalone_runs(service):
    run = service.start_run(project="p", name="solo", config={"lr": 0.1})
    assert (run.sweep_id, run.number, run.name, run.config, run.state) == (
        None,
        None,
        "solo",
        {"lr": 0.1},
        RunState.RUNNING,
    )
    service.log(run.id, LogBatch(1, rows(1.0)))
    assert service.get_run(run.id).summary["loss"] == 1.0 and service.get_run(run.id).metric.count == 0
    assert service.finish_run(run.id, RunState.FINISHED).state == RunState.FINISHED


def test_everything_is_plain_json(service):
    sweep = service.create_sweep(HYPERBAND)
    agent = new_agent(service, sweep.id)
    result = service.claim_run(sweep.id, agent, "json-key")
    service.log(result.assignment.run_id, LogBatch(1, rows(1.0, 2.0)))
    run = service.get_run(result.assignment.run_id)
    info = service.get_sweep(sweep.id)
    for value, kind in ((result, Claim), (run, RunInfo), (info, SweepInfo)):
        text = json.dumps(to_json(value), allow_nan=False)
        assert from_json(kind, json.loads(text)) == value


def test_a_runs_output_keeps_its_head_and_newest_tail(service):
    from sweepkit.service import local

    sweep = service.create_sweep(GRID)
    run = claim(service, sweep.id, new_agent(service, sweep.id))
    assert service.run_output(run.run_id).text == ""
    service.log(run.run_id, LogBatch(1, output="hello\n"))
    service.log(run.run_id, LogBatch(2, output="world\n"))
    assert service.run_output(run.run_id).text == "hello\nworld\n"
    head, tail = local.OUTPUT_HEAD_CHARS, local.OUTPUT_TAIL_CHARS
    big = "".join(f"{i:09d}\n" for i in range((head + tail) // 10 + 1000))
    service.log(run.run_id, LogBatch(3, output=big))
    kept = service.run_output(run.run_id)
    assert kept.size == 12 + len(big) and kept.truncated
    assert kept.head == ("hello\nworld\n" + big)[:head] and kept.tail == big[-tail:]
    assert "characters not kept ...]" in kept.text
    with pytest.raises(NotFoundError):
        service.run_output("nope")


# --- retrying and deleting runs -----------------------------------------------------------------


def test_retry_queues_unsuccessful_points_first_and_resumes_a_finished_grid(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": [0, 1, 2, 3]}}})
    agent = new_agent(service, sweep.id)
    done, failed, crashed, killed = (claim(service, sweep.id, agent) for _ in range(4))
    service.finish_run(done.run_id, RunState.FINISHED)
    service.finish_run(failed.run_id, RunState.FAILED, exit_code=1)
    service.finish_run(crashed.run_id, RunState.CRASHED)
    service.finish_run(killed.run_id, RunState.KILLED)
    assert service.claim_run(sweep.id, agent, "k-end").reason.startswith("grid exhausted")

    result = service.retry_runs(sweep.id, [RunState.FAILED, "crashed"])
    assert list(result.retried) == [failed.run_id, crashed.run_id]
    assert (result.sweep.state, result.sweep.state_reason) == (SweepState.RUNNING, None)
    assert (result.sweep.run_count, result.sweep.planned_runs) == (6, 6)
    queued = service.list_runs(sweep.id, after=4).runs
    assert [(r.number, r.state, r.params, r.retry_of) for r in queued] == [
        (5, RunState.PENDING, {"i": 1}, failed.run_id),
        (6, RunState.PENDING, {"i": 2}, crashed.run_id),
    ]
    old = service.get_run(failed.run_id)
    assert (old.state, old.retried_by) == (RunState.FAILED, result.retried[failed.run_id])
    assert from_json(type(result), json.loads(json.dumps(to_json(result)))) == result

    again = [claim(service, sweep.id, agent) for _ in range(2)]
    assert [a.run_id for a in again] == list(result.retried.values())
    assert [a.params for a in again] == [{"i": 1}, {"i": 2}] and again[0].run_name.endswith("-5")
    assert service.get_run(again[0].run_id).started_at is not None
    assert service.claim_run(sweep.id, agent, "k-end-2").reason.startswith("grid exhausted")
    assert service.retry_runs(sweep.id, ["failed", "crashed"]).retried == {}  # retried once only
    assert list(service.retry_runs(sweep.id).retried) == [killed.run_id]  # default: killed too


@pytest.mark.parametrize("method", ["grid", "random", "bayes"])
def test_every_method_hands_out_a_retried_point_before_new_ones(service, method):
    config = {
        "method": method,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [1, 2, 3, 4, 5, 6]} if method == "grid" else {"min": 0.0, "max": 1.0}},
    }
    sweep = service.create_sweep(config)
    agent = new_agent(service, sweep.id)
    first = claim(service, sweep.id, agent)
    service.log(first.run_id, LogBatch(1, rows(0.5)))
    service.finish_run(first.run_id, RunState.FINISHED)
    lost = claim(service, sweep.id, agent)
    service.finish_run(lost.run_id, RunState.CRASHED)
    service.retry_runs(sweep.id)
    retry = claim(service, sweep.id, agent)
    assert retry.params == lost.params and retry.run_number == 3
    fresh = claim(service, sweep.id, agent)
    assert fresh.params not in (first.params, lost.params) and not service.get_run(fresh.run_id).retry_of


def test_retries_come_on_top_of_run_cap_and_spare_runs_stopped_by_the_rule(service):
    sweep = service.create_sweep({**HYPERBAND, "run_cap": 3})
    agent = new_agent(service, sweep.id)
    good, bad, failed = (claim(service, sweep.id, agent) for _ in range(3))
    service.log(good.run_id, LogBatch(1, rows(1.0, 0.5)))
    assert service.log(bad.run_id, LogBatch(1, rows(5.0, 4.0))).stop_requested
    service.finish_run(bad.run_id, RunState.KILLED)
    service.finish_run(failed.run_id, RunState.FAILED)
    assert service.claim_run(sweep.id, agent, "k-cap").reason == "run_cap 3 reached"
    assert list(service.retry_runs(sweep.id).retried) == [failed.run_id]
    assert service.get_sweep(sweep.id).planned_runs == 4
    assert claim(service, sweep.id, agent).params == failed.params
    assert service.claim_run(sweep.id, agent, "k-cap-2").reason == "run_cap 3 reached"


def test_a_conditional_grid_its_plan_and_a_retried_branch(service):
    """``when``: the plan carries each condition (over every transport), the grid holds the valid
    points only, an assignment's config holds the active parameters, and a retry keeps them."""
    sweep = service.create_sweep(
        {
            **GRID,
            "parameters": {
                "opt": {"values": ["sgd", "adam", "rmsprop"]},
                "momentum": {"values": [0.0, 0.9], "when": {"opt": "sgd"}},
                "adam": {"when": {"opt": "adam"}, "parameters": {"beta1": {"values": [0.9, 0.99]}}},
            },
        }
    )
    by_name = {p.name: p for p in sweep.plan.parameters}
    assert by_name["opt"].when == []
    assert [(c.parent, c.values) for c in by_name["adam.beta1"].when] == [("opt", ["adam"])]
    assert sweep.planned_runs == 5  # sgd 2 + adam 2 + rmsprop 1, not 3 x 2 x 2
    agent = new_agent(service, sweep.id)
    got = [claim(service, sweep.id, agent) for _ in range(5)]
    assert service.claim_run(sweep.id, agent, "k-cond-end").reason.startswith("grid exhausted")
    assert [a.params for a in got] == [
        {"momentum": 0.0, "opt": "sgd"},
        {"momentum": 0.9, "opt": "sgd"},
        {"adam.beta1": 0.9, "opt": "adam"},
        {"adam.beta1": 0.99, "opt": "adam"},
        {"opt": "rmsprop"},
    ]
    assert got[2].config == {"opt": "adam", "adam": {"beta1": 0.9}}
    for a in got:
        service.finish_run(a.run_id, RunState.FAILED if a is got[3] else RunState.FINISHED)
    assert list(service.retry_runs(sweep.id).retried) == [got[3].run_id]
    again = claim(service, sweep.id, agent)
    assert (again.params, again.config) == (got[3].params, got[3].config)


def test_retry_refuses_other_states_and_cancelled_sweeps(service):
    sweep = service.create_sweep(GRID)
    with pytest.raises(
        SweepkitError, match="states: expected some of crashed, failed, killed, preempted; got 'finished'"
    ):
        service.retry_runs(sweep.id, ["failed", "finished"])
    with pytest.raises(SweepkitError, match="got 'bogus'"):
        service.retry_runs(sweep.id, ["bogus"])
    with pytest.raises(NotFoundError, match="no sweep 'missing1'"):
        service.retry_runs("missing1")
    service.control_sweep(sweep.id, SweepAction.PAUSE)
    assert service.retry_runs(sweep.id).sweep.state == SweepState.PAUSED  # nothing to retry, kept
    service.control_sweep(sweep.id, SweepAction.CANCEL)
    with pytest.raises(SweepkitError, match="is cancelled: its runs cannot be retried"):
        service.retry_runs(sweep.id)


def test_cancel_ends_queued_retries(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    run = claim(service, sweep.id, agent)
    service.finish_run(run.run_id, RunState.FAILED)
    (queued,) = service.retry_runs(sweep.id).retried.values()
    service.control_sweep(sweep.id, SweepAction.CANCEL)
    info = service.get_run(queued)
    assert (info.state, info.stop_reason) == (RunState.KILLED, "sweep cancelled")


def test_concurrent_claims_hand_out_each_retry_once(service):
    sweep = service.create_sweep({**GRID, "parameters": {"i": {"values": list(range(30))}}})
    agent = new_agent(service, sweep.id)
    for _ in range(30):
        service.finish_run(claim(service, sweep.id, agent).run_id, RunState.CRASHED)
    assert len(service.retry_runs(sweep.id).retried) == 30
    got = [(a.run_number, a.params["i"]) for a in claim_from_threads(service, sweep.id, agent, "r")]
    assert sorted(got) == [(31 + i, i) for i in range(30)]


@pytest.mark.service_env(SWEEPKIT_HEARTBEAT_TIMEOUT="0.2")
def test_a_retried_crashed_run_stays_crashed_when_its_agent_comes_back(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    run = claim(service, sweep.id, agent)
    time.sleep(0.4)
    (new_id,) = service.retry_runs(sweep.id).retried.values()  # the retry reaps it first
    (control,) = service.heartbeat(agent, [run.run_id])
    assert (control.state, control.stop_requested) == (RunState.CRASHED, True)
    with pytest.raises(SweepkitError, match=f"was retried as run {new_id}: it cannot log any more"):
        service.log(run.run_id, LogBatch(1, rows(1.0)))
    # Its agent reports the end it saw: the run stays crashed, its retry stands for it (found by the
    # fault campaign: both finished, a grid point run twice).
    ended = service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
    assert (ended.state, ended.retried_by) == (RunState.CRASHED, new_id)
    assert service.get_run(run.run_id).state == RunState.CRASHED


def test_delete_runs_all_or_none(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    failed, running = claim(service, sweep.id, agent), claim(service, sweep.id, agent)
    service.log(failed.run_id, LogBatch(1, rows(1.0)))
    service.finish_run(failed.run_id, RunState.FAILED)
    with pytest.raises(
        SweepkitError, match=rf"run {running.run_id} is running: stop it .*nothing was deleted"
    ):
        service.delete_runs(sweep.id, [failed.run_id, running.run_id])
    with pytest.raises(NotFoundError, match=rf"no run 'nope' in sweep {sweep.id} in "):
        service.delete_runs(sweep.id, [failed.run_id, "nope"])
    assert service.get_run(failed.run_id).state == RunState.FAILED
    (queued,) = service.retry_runs(sweep.id).retried.values()
    assert service.delete_runs(sweep.id, [queued]) == [queued]  # un-queued: retryable again
    assert service.get_run(failed.run_id).retried_by is None
    assert service.delete_runs(sweep.id, [failed.run_id, failed.run_id]) == [failed.run_id]
    with pytest.raises(NotFoundError):
        service.get_run(failed.run_id)
    with pytest.raises(NotFoundError):
        service.history(failed.run_id)
    assert [r.id for r in service.all_runs(sweep.id)] == [running.run_id]
    assert service.get_sweep(sweep.id).runs_by_state == {"running": 1}


def test_the_config_as_written_is_kept_beside_the_validated_one(service):
    text = "# lr search\nmethod: grid\nparameters:\n  i: {values: [0, 1, 2]}  # three points\n"
    sweep = service.create_sweep(GRID, source=text)
    assert sweep.source == text and service.get_sweep(sweep.id).source == text
    assert sweep.config["parameters"]["i"]["distribution"] == "categorical"  # the validated one
    assert service.create_sweep(GRID).source is None
    updated = service.update_sweep(sweep.id, GRID, source=text + "# updated\n")
    assert updated.source.endswith("# updated\n")
    assert service.create_sweep(GRID, source="x" * 1_000_001).source is None  # too long to keep


def test_one_key_of_many_runs_at_once(service):
    sweep = service.create_sweep(GRID)
    agent = new_agent(service, sweep.id)
    a, b, c = (claim(service, sweep.id, agent) for _ in range(3))
    service.log(
        a.run_id,
        LogBatch(1, [{"_step": 0, "loss": 1.0}, {"_step": 1, "acc": 2}, {"_step": 2, "loss": math.nan}]),
    )
    service.log(b.run_id, LogBatch(1, [{"_step": 5, "loss": [1, 2]}, {"_step": 6, "loss": 0.5}]))
    series = service.metric_series([a.run_id, b.run_id, c.run_id], "loss")
    assert (
        series[a.run_id][0] == (0, 1.0) and series[a.run_id][1][0] == 2 and math.isnan(series[a.run_id][1][1])
    )
    assert series[b.run_id] == [(5, [1, 2]), (6, 0.5)] and series[c.run_id] == []
    assert service.metric_series([b.run_id], "loss", after={b.run_id: 5}) == {b.run_id: [(6, 0.5)]}


def test_agents_say_where_they_work_and_which_gpus_each_slot_has(service):
    sweep = service.create_sweep(GRID)
    agent = service.register_agent(
        sweep.id, host="box", pid=3, workdir="/srv/runs", slots=[["0"], ["1", "2"]]
    )
    plain = service.register_agent(sweep.id, host="other", pid=4)
    first = service.claim_run(sweep.id, agent, "slot-key-1", slot=2).assignment
    second = service.claim_run(sweep.id, plain, "slot-key-2").assignment
    assert service.get_run(first.run_id).slot == 2 and service.get_run(second.run_id).slot is None
    assert [run.slot for run in service.all_runs(sweep.id)] == [2, None]
    listed = service.list_agents(sweep.id)
    assert [(a.id, a.host, a.pid, a.state, a.live) for a in listed] == [
        (agent, "box", 3, "running", True),
        (plain, "other", 4, "running", True),
    ]
    assert listed[0].workdir == "/srv/runs" and listed[0].slots == [["0"], ["1", "2"]]
    assert listed[1].workdir is None and listed[1].slots is None
    service.agent_finished(plain)
    assert [(a.state, a.live) for a in service.list_agents(sweep.id)][1] == ("finished", False)
    with pytest.raises(SweepkitError, match=r"^slots: expected a list of 1 to 1024 slots"):
        service.register_agent(sweep.id, host="box", pid=3, slots=[["0"]] * 2000)
    with pytest.raises(SweepkitError, match=r"^slot: expected a slot number from 1 to 1024"):
        service.claim_run(sweep.id, agent, "slot-key-3", slot=0)
    with pytest.raises(NotFoundError):
        service.list_agents("missing1")
