"""The store on SQLite and PostgreSQL: every operation, claim and stop semantics, heartbeats, migrations."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import threading
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sweepkit.errors import NotFoundError, SweepkitError
from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search.base import Finished, Suggestion
from sweepkit.store import (
    SWEEP_STATES,
    ClaimResult,
    LogResult,
    RunControl,
    RunRecord,
    StopRequest,
    StoreError,
    SweepRecord,
    open_store,
)
from sweepkit.store.engine import locate

GRID_CONFIG = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": [0, 1, 2]}},
}


def lowest_unused(size: int):
    """A plan handing out the lowest integer no run has had yet, then "finished"."""

    def plan(sweep: SweepRecord, runs: list[RunView]) -> Suggestion | Finished:
        used = {run.params["i"] for run in runs}
        for i in range(size):
            if i not in used:
                return Suggestion({"i": i}, {"method": "test", "index": i})
        return Finished("grid used up")

    return plan


def capped(cap: int):
    """A random-like plan that never lets the sweep exceed ``cap`` runs."""

    def plan(sweep: SweepRecord, runs: list[RunView]) -> Suggestion | Finished:
        if len(runs) >= cap:
            return Finished(f"run_cap {cap} reached")
        return Suggestion({"i": len(runs)})

    return plan


def new_sweep(store, **kw):
    return store.create_sweep(GRID_CONFIG, **kw)


def claim(store, sweep_id, agent_id=None, plan=None) -> RunRecord:
    result = store.claim_run(sweep_id, agent_id, plan or capped(1000))
    assert result.status == "claimed", result
    return result.run


# --- opening stores ------------------------------------------------------------------------------


def test_default_store_lives_under_dot_sweepkit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPKIT_DB", raising=False)
    with open_store() as store:
        assert store.url == f"sqlite:///{tmp_path / '.sweepkit' / 'sweepkit.db'}"
        store.create_sweep({"method": "random"})
    assert (tmp_path / ".sweepkit" / "sweepkit.db").is_file()


def test_env_var_names_the_store(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere" / "s.db"
    monkeypatch.setenv("SWEEPKIT_DB", str(path))
    with open_store() as store:
        sweep = store.create_sweep({"method": "random"})
    with open_store(f"sqlite:///{path}") as store:
        assert store.get_sweep(sweep.id).id == sweep.id


def test_plain_path_is_a_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store("rel/store.db") as store:
        assert store.backend == "sqlite"
        assert store.url == f"sqlite:///{tmp_path / 'rel' / 'store.db'}"
        # connect_url reaches the same store from another process (an absolute path)
        assert store.connect_url == store.url


def test_postgres_urls_use_psycopg_and_mask_passwords():
    for url in (
        "postgres://me:s3cret@db.example:5433/sweeps",
        "postgresql://me:s3cret@db.example:5433/sweeps",
    ):
        location = locate(url)
        assert location.url.drivername == "postgresql+psycopg"
        assert location.display == "postgresql://me:***@db.example:5433/sweeps"
        assert "s3cret" in location.connect_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres:pw@127.0.0.1:1/test",
            r"^cannot open store postgresql://postgres:\*\*\*@127\.0\.0\.1:1/test: connection refused$",
        ),
        ("mysql://u@h/db", r"^cannot open store mysql://u@h/db: unsupported database 'mysql'"),
        ("   ", r"^cannot open store '': expected a SQLite file path or a database URL$"),
    ],
)
def test_bad_store_urls_are_one_sentence(url, expected):
    with pytest.raises(StoreError, match=expected):
        open_store(url)


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite " * 100)
    with pytest.raises(
        StoreError, match=r"^cannot open store sqlite:///.*notes\.txt: file is not a database$"
    ):
        open_store(str(path))


def test_store_errors_are_sweepkit_errors():
    assert issubclass(StoreError, SweepkitError)
    assert issubclass(NotFoundError, SweepkitError)


# --- sweeps --------------------------------------------------------------------------------------


def test_create_and_get_sweep(store):
    sweep = store.create_sweep(GRID_CONFIG, project="proj", entity="team", name="first")
    assert re.fullmatch(r"[a-z0-9]{8}", sweep.id)
    assert (sweep.project, sweep.entity, sweep.name, sweep.state) == ("proj", "team", "first", "running")
    assert sweep.config == GRID_CONFIG
    assert sweep.run_count == 0 and sweep.finished_reason is None
    assert sweep.created_at.tzinfo is not None and sweep.created_at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - sweep.created_at).total_seconds()) < 60
    assert store.get_sweep(sweep.id) == sweep
    assert store.get_sweep(sweep.id, project="proj", entity="team") == sweep


def test_sweep_labels_default_to_the_config(store):
    sweep = store.create_sweep({**GRID_CONFIG, "project": "p", "entity": "e", "name": "n"})
    assert (sweep.project, sweep.entity, sweep.name) == ("p", "e", "n")
    sweep = store.create_sweep({**GRID_CONFIG, "project": "p"}, project="cli-wins")
    assert sweep.project == "cli-wins"


def test_get_sweep_not_found_names_the_store(store):
    with pytest.raises(NotFoundError, match=rf"^no sweep 'abc' in {re.escape(store.url)}$"):
        store.get_sweep("abc")
    sweep = new_sweep(store, project="proj", entity="team")
    with pytest.raises(NotFoundError, match="no sweep .* in project 'other'"):
        store.get_sweep(sweep.id, project="other")
    with pytest.raises(NotFoundError, match="no sweep .* in entity 'someone'"):
        store.get_sweep(sweep.id, entity="someone")
    # a sweep recorded without a project or entity is found whatever the caller names
    bare = new_sweep(store)
    assert store.get_sweep(bare.id, project="any", entity="any") == bare


def test_list_sweeps_newest_first_and_by_project(store):
    first = new_sweep(store, project="a")
    time.sleep(0.01)
    second = new_sweep(store, project="b")
    time.sleep(0.01)
    third = new_sweep(store, project="a")
    assert [s.id for s in store.list_sweeps()] == [third.id, second.id, first.id]
    assert [s.id for s in store.list_sweeps(project="a")] == [third.id, first.id]
    assert store.list_sweeps(project="none") == []


def test_sweep_state_and_config_updates(store):
    sweep = new_sweep(store)
    for state in SWEEP_STATES:
        updated = store.set_sweep_state(sweep.id, state, reason=f"because {state}")
        assert updated.state == state and updated.finished_reason == f"because {state}"
        assert store.get_sweep(sweep.id).state == state
    assert store.get_sweep(sweep.id).updated_at >= sweep.updated_at
    with pytest.raises(ValueError, match="unknown sweep state 'done'"):
        store.set_sweep_state(sweep.id, "done")
    with pytest.raises(NotFoundError):
        store.set_sweep_state("missing1", "paused")
    new_config = {**GRID_CONFIG, "parameters": {"i": {"values": [7]}}}
    assert store.update_sweep_config(sweep.id, new_config).config == new_config
    assert store.get_sweep(sweep.id).config == new_config


# --- agents --------------------------------------------------------------------------------------


def test_agents(store):
    sweep = new_sweep(store)
    agent_id = store.register_agent(sweep.id, host="node-1", pid=4242)
    agent = store.get_agent(agent_id)
    assert (agent["sweep_id"], agent["host"], agent["pid"], agent["state"]) == (
        sweep.id,
        "node-1",
        4242,
        "running",
    )
    store.agent_heartbeat(agent_id)
    store.agent_finished(agent_id)
    assert store.get_agent(agent_id)["state"] == "finished"
    with pytest.raises(NotFoundError, match="no agent 'nobody'"):
        store.agent_heartbeat("nobody")
    with pytest.raises(NotFoundError, match="no sweep 'missing1'"):
        store.register_agent("missing1", host="h", pid=1)


# --- claiming runs -------------------------------------------------------------------------------


def test_claim_hands_out_points_then_finishes_the_sweep(store):
    sweep = new_sweep(store, name="demo")
    agent_id = store.register_agent(sweep.id, host="h", pid=1)
    plan = lowest_unused(3)
    runs = [claim(store, sweep.id, agent_id, plan) for _ in range(3)]
    assert [r.params for r in runs] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [r.name for r in runs] == ["demo-1", "demo-2", "demo-3"]
    assert [r.number for r in runs] == [1, 2, 3]
    run = runs[0]
    assert run.state is RunState.RUNNING and run.agent_id == agent_id and run.sweep_id == sweep.id
    assert run.suggestion_info == {"method": "test", "index": 0}
    assert run.started_at is not None and run.heartbeat_at == run.started_at
    assert run.summary == {} and run.metric_history == [] and run.config is None and not run.stop_requested

    done = store.claim_run(sweep.id, agent_id, plan)
    assert done == ClaimResult(None, "finished", "grid used up")
    sweep = store.get_sweep(sweep.id)
    assert (sweep.state, sweep.finished_reason, sweep.run_count) == ("finished", "grid used up", 3)
    # a finished sweep answers without asking the plan
    assert store.claim_run(sweep.id, agent_id, _plan_that_fails).status == "finished"


def _plan_that_fails(sweep, runs):
    raise AssertionError("the plan must not be called")


def test_claim_names_runs_after_the_sweep_id_without_a_name(store):
    sweep = new_sweep(store)
    assert claim(store, sweep.id).name == f"{sweep.id}-1"


@pytest.mark.parametrize("state", ["paused", "stopped", "cancelled", "finished"])
def test_claim_on_a_sweep_that_is_not_running(store, state):
    sweep = new_sweep(store)
    store.set_sweep_state(sweep.id, state, reason="by hand" if state == "finished" else None)
    result = store.claim_run(sweep.id, None, _plan_that_fails)
    assert result.run is None and result.status == state
    assert store.list_runs(sweep.id) == []


def test_plan_sees_every_run_with_its_state_history_and_summary(store):
    sweep = new_sweep(store)
    first = claim(store, sweep.id)
    store.log(first.id, [{"_step": 0, "loss": 3.0}, {"_step": 1, "loss": 2.0}], metric_name="loss")
    store.finish_run(first.id, RunState.FINISHED)
    seen = []

    def plan(sweep_record, runs):
        seen.append((sweep_record, list(runs)))  # runs load lazily, inside the claim
        return Suggestion({"i": 99})

    claim(store, sweep.id, plan=plan)
    sweep_record, views = seen[0]
    assert sweep_record.id == sweep.id and sweep_record.run_count == 1
    assert views == [RunView(first.id, RunState.FINISHED, {"i": 0}, MetricStats.from_values([3.0, 2.0]))]


def test_a_plan_that_raises_writes_nothing(store):
    sweep = new_sweep(store)

    def broken(sweep_record, runs):
        raise RuntimeError("search method bug")

    with pytest.raises(RuntimeError, match="search method bug"):
        store.claim_run(sweep.id, None, broken)
    assert store.list_runs(sweep.id) == []
    assert store.get_sweep(sweep.id).run_count == 0
    with pytest.raises(TypeError, match="Suggestion or Finished"):
        store.claim_run(sweep.id, None, lambda s, r: {"i": 1})


def test_claim_respects_a_cap_enforced_by_the_plan(store):
    sweep = new_sweep(store)
    results = [store.claim_run(sweep.id, None, capped(5)) for _ in range(8)]
    assert [r.status for r in results] == ["claimed"] * 5 + ["finished"] * 3
    assert len(store.list_runs(sweep.id)) == 5
    assert results[5].reason == "run_cap 5 reached"


def test_claim_errors(store):
    with pytest.raises(NotFoundError, match="no sweep 'missing1'"):
        store.claim_run("missing1", None, capped(1))
    sweep = new_sweep(store)
    with pytest.raises(NotFoundError, match="no agent 'ghost'"):
        store.claim_run(sweep.id, "ghost", capped(1))
    assert store.list_runs(sweep.id) == []


def test_threads_share_one_store(store):
    """An agent's heartbeat thread and its main thread use one Store object."""
    sweep = new_sweep(store)
    plan = lowest_unused(40)
    got: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            while (result := store.claim_run(sweep.id, None, plan)).status == "claimed":
                store.heartbeat_run(result.run.id)
                store.finish_run(result.run.id, "finished")
                got.append(result.run.params["i"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(got) == list(range(40))


def test_in_memory_store():
    with open_store("sqlite://") as store:
        assert store.url == "sqlite://"
        sweep = new_sweep(store)
        run = claim(store, sweep.id)
        store.log(run.id, [{"_step": 0, "loss": 1.0}], metric_name="loss")
        assert store.get_run(run.id).metric_history == [1.0]


# --- runs ----------------------------------------------------------------------------------------


def test_standalone_run(store):
    run = store.create_run(project="p", config={"lr": 0.1, "opt": {"name": "adam"}})
    assert run.sweep_id is None and run.state is RunState.RUNNING and run.project == "p"
    assert run.config == {"lr": 0.1, "opt": {"name": "adam"}} and run.params == {}
    assert run.name == f"run-{run.id}" and run.number is None
    assert store.get_run(run.id) == run
    named = store.create_run(name="mine")
    assert named.name == "mine" and named.project is None


def test_create_run_in_a_sweep_counts_as_a_sweep_run(store):
    sweep = new_sweep(store, project="p", name="s")
    run = store.create_run(sweep_id=sweep.id, params={"i": 5}, config={"i": 5})
    assert (run.sweep_id, run.number, run.name, run.project, run.params) == (
        sweep.id,
        1,
        "s-1",
        "p",
        {"i": 5},
    )
    assert store.get_sweep(sweep.id).run_count == 1
    assert claim(store, sweep.id).number == 2


def test_get_run_not_found(store):
    with pytest.raises(NotFoundError, match=rf"^no run 'nope' in {re.escape(store.url)}$"):
        store.get_run("nope")


def test_list_runs_filters_and_order(store):
    sweep = new_sweep(store, project="p")
    runs = [claim(store, sweep.id) for _ in range(4)]
    other = store.create_run(project="p")
    store.finish_run(runs[1].id, "failed", exit_code=1)
    store.finish_run(runs[2].id, RunState.FINISHED, exit_code=0)
    assert [r.id for r in store.list_runs(sweep.id)] == [r.id for r in runs]
    assert [r.id for r in store.list_runs(project="p")] == [r.id for r in runs] + [other.id]
    assert [r.id for r in store.list_runs(sweep.id, states=[RunState.FAILED, "finished"])] == [
        runs[1].id,
        runs[2].id,
    ]
    assert [r.id for r in store.list_runs(states=["running"])] == [runs[0].id, runs[3].id, other.id]
    assert [v.id for v in store.run_views(sweep.id)] == [r.id for r in runs]
    assert store.run_views("nosweep1") == []


def test_update_run(store):
    run = store.create_run(config={"a": 1})
    updated = store.update_run(run.id, config={"a": 2, "b": [1, 2]}, name="renamed")
    assert updated.config == {"a": 2, "b": [1, 2]} and updated.name == "renamed"
    store.update_run(run.id, summary_update={"best": 0.5, "note": "x"})
    store.update_run(run.id, summary_update={"best": 0.25})
    assert store.get_run(run.id).summary == {"best": 0.25, "note": "x"}
    assert store.update_run(run.id) == store.get_run(run.id)
    with pytest.raises(NotFoundError):
        store.update_run("nope", name="x")


def test_records_are_plain_and_json_able(store):
    sweep = new_sweep(store)
    run = claim(store, sweep.id)
    store.log(run.id, [{"_step": 0, "loss": float("nan")}], metric_name="loss")
    store.finish_run(run.id, "finished", exit_code=0)
    run = store.get_run(run.id)
    for record in (store.get_sweep(sweep.id), run):
        text = json.dumps(dataclasses.asdict(record), default=str)
        assert record.id in text
    assert isinstance(run.duration_s, float) and run.duration_s >= 0
    assert dataclasses.is_dataclass(run) and isinstance(run, RunRecord)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.state = RunState.FAILED  # type: ignore[misc]


# --- logging -------------------------------------------------------------------------------------


def test_log_records_history_summary_metric_and_heartbeat(store):
    sweep = new_sweep(store)
    run = claim(store, sweep.id)
    time.sleep(0.01)
    result = store.log(
        run.id,
        [
            {"_step": 0, "_timestamp": 1.5, "loss": 1.0, "acc": 0.1},
            {"_step": 1, "_runtime": 2.0, "acc": 0.2},
            {"_step": 2, "loss": 0.5, "nested": {"a": [1, 2]}},
        ],
        metric_name="loss",
    )
    assert result == LogResult(False, None)
    got = store.get_run(run.id)
    assert got.metric_history == [1.0, 0.5]
    assert got.summary == {
        "_step": 2,
        "_timestamp": 1.5,
        "_runtime": 2.0,
        "loss": 0.5,
        "acc": 0.2,
        "nested": {"a": [1, 2]},
    }
    assert got.last_step == 2
    assert got.heartbeat_at > run.heartbeat_at
    assert store.history(run.id) == [
        {"_step": 0, "_timestamp": 1.5, "loss": 1.0, "acc": 0.1},
        {"_step": 1, "_runtime": 2.0, "acc": 0.2},
        {"_step": 2, "loss": 0.5, "nested": {"a": [1, 2]}},
    ]


def test_log_without_metric_name_keeps_metric_history_empty(store):
    run = store.create_run()
    store.log(run.id, [{"_step": 0, "loss": 1.0}])
    assert store.get_run(run.id).metric_history == []
    assert store.history(run.id) == [{"_step": 0, "loss": 1.0}]


def test_log_keeps_nan_and_infinities(store):
    run = store.create_run()
    nan, inf = float("nan"), float("inf")
    store.log(
        run.id,
        [
            {"_step": 0, "loss": nan},
            {"_step": 1, "loss": inf},
            {"_step": 2, "loss": -inf, "v": {"x": nan}},
            {"_step": 3, "loss": 2},
        ],
        metric_name="loss",
    )
    got = store.get_run(run.id)
    assert math.isnan(got.metric_history[0]) and got.metric_history[1:] == [inf, -inf, 2.0]
    assert all(isinstance(v, float) for v in got.metric_history)
    assert math.isnan(store.history(run.id)[2]["v"]["x"])
    assert store.history(run.id)[1]["loss"] == inf
    assert got.summary["loss"] == 2
    store.log(run.id, [{"_step": 4, "loss": nan}], metric_name="loss")
    assert math.isnan(store.get_run(run.id).summary["loss"])


def test_log_accepts_numpy_values(store):
    np = pytest.importorskip("numpy")
    run = store.create_run()
    store.log(
        run.id,
        [{"_step": 0, "loss": np.float32(0.5), "n": np.int64(3), "arr": np.arange(3)}],
        metric_name="loss",
    )
    got = store.get_run(run.id)
    assert got.metric_history == [0.5] and got.summary["n"] == 3 and got.summary["arr"] == [0, 1, 2]


def test_logging_a_step_again_merges_its_row(store):
    run = store.create_run()
    store.log(run.id, [{"_step": 0, "loss": 3.0}, {"_step": 1, "acc": 0.5}], metric_name="loss")
    # same step, new key: merged into the row; the metric is new for that step so it is appended
    store.log(run.id, [{"_step": 1, "loss": 2.0}], metric_name="loss")
    # the newest step logged again with the metric: its value replaces the last one
    store.log(run.id, [{"_step": 1, "loss": 1.5, "extra": True}], metric_name="loss")
    assert store.history(run.id) == [
        {"_step": 0, "loss": 3.0},
        {"_step": 1, "acc": 0.5, "loss": 1.5, "extra": True},
    ]
    assert store.get_run(run.id).metric_history == [3.0, 1.5]
    # within one call too
    store.log(run.id, [{"_step": 2, "loss": 1.0}, {"_step": 2, "loss": 0.9}], metric_name="loss")
    assert store.get_run(run.id).metric_history == [3.0, 1.5, 0.9]
    assert store.history(run.id)[-1] == {"_step": 2, "loss": 0.9}


def test_log_rejects_rows_without_a_step(store):
    run = store.create_run()
    for bad in ({"loss": 1.0}, {"_step": "3"}, {"_step": True}, {"_step": -1}):
        with pytest.raises(SweepkitError, match="_step"):
            store.log(run.id, [bad])
    assert store.history(run.id) == []


def test_log_to_a_run_that_is_not_running(store):
    run = store.create_run()
    store.finish_run(run.id, RunState.KILLED)
    with pytest.raises(
        SweepkitError, match=rf"^run '{run.id}' is killed, not running: it cannot log any more$"
    ):
        store.log(run.id, [{"_step": 0, "loss": 1.0}], metric_name="loss")
    with pytest.raises(SweepkitError, match="is killed"):
        store.log(run.id, [])
    with pytest.raises(NotFoundError):
        store.log("nope", [{"_step": 0}])
    with pytest.raises(NotFoundError):
        store.history("nope")


# --- stop checks ---------------------------------------------------------------------------------


class Recorder:
    """A stop check that asks to stop ``targets`` and records how it was called."""

    def __init__(self, *targets: str, load: bool = True):
        self.targets = targets
        self.load = load
        self.calls: list[tuple[SweepRecord, RunView, list[RunView] | None]] = []

    def __call__(self, sweep, this_run, load_runs):
        views = load_runs() if self.load else None
        self.calls.append((sweep, this_run, views))
        return [
            StopRequest(t, f"hyperband band {len(self.calls)}", {"call": len(self.calls)})
            for t in self.targets
        ]


def test_stop_check_runs_only_when_a_metric_value_arrives(store):
    sweep = new_sweep(store)
    run = claim(store, sweep.id)
    check = Recorder()
    store.log(run.id, [{"_step": 0, "acc": 1.0}], metric_name="loss", stop_check=check)
    assert check.calls == []
    store.log(
        run.id, [{"_step": 1, "loss": 2.0}, {"_step": 2, "loss": 1.0}], metric_name="loss", stop_check=check
    )
    ((called_sweep, this_run, views),) = check.calls
    assert called_sweep.id == sweep.id
    assert (
        this_run.id == run.id
        and this_run.metric == MetricStats.from_values([2.0, 1.0])
        and this_run.params == {"i": 0}
    )
    assert [(v.id, v.metric) for v in views] == [(run.id, MetricStats.from_values([2.0, 1.0]))]


def test_stop_check_decides_once_per_run_and_never_for_ended_runs(store):
    sweep = new_sweep(store)
    a, b, c = (claim(store, sweep.id) for _ in range(3))
    store.finish_run(c.id, RunState.FINISHED)
    check = Recorder(b.id, c.id, load=False)
    result = store.log(a.id, [{"_step": 0, "loss": 1.0}], metric_name="loss", stop_check=check)
    assert result == LogResult(False, None)
    got_b = store.get_run(b.id)
    assert got_b.stop_requested and got_b.stop_reason == "hyperband band 1" and got_b.stop_info == {"call": 1}
    assert not store.get_run(c.id).stop_requested
    # a second decision about b does not overwrite the first
    store.log(a.id, [{"_step": 1, "loss": 1.0}], metric_name="loss", stop_check=check)
    assert store.get_run(b.id).stop_reason == "hyperband band 1"
    # b learns it on its next log, with or without a stop check
    assert store.log(b.id, [{"_step": 0, "x": 1}]) == LogResult(True, "hyperband band 1")
    assert store.heartbeat_run(b.id) == RunControl(True, "hyperband band 1", RunState.RUNNING)


def test_stop_check_can_stop_the_logging_run(store):
    sweep = new_sweep(store)
    run = claim(store, sweep.id)
    result = store.log(run.id, [{"_step": 0, "loss": 9.0}], metric_name="loss", stop_check=Recorder(run.id))
    assert result == LogResult(True, "hyperband band 1")
    assert store.get_run(run.id).stop_info == {"call": 1}


def test_stop_check_ignores_runs_of_other_sweeps(store):
    mine, other = new_sweep(store), new_sweep(store)
    run, foreign = claim(store, mine.id), claim(store, other.id)
    store.log(run.id, [{"_step": 0, "loss": 1.0}], metric_name="loss", stop_check=Recorder(foreign.id))
    assert not store.get_run(foreign.id).stop_requested


def test_a_stop_check_that_raises_rolls_the_log_back(store):
    sweep = new_sweep(store)
    run = claim(store, sweep.id)

    def broken(sweep_record, this_run, load_runs):
        raise RuntimeError("stopping rule bug")

    with pytest.raises(RuntimeError, match="stopping rule bug"):
        store.log(run.id, [{"_step": 0, "loss": 1.0}], metric_name="loss", stop_check=broken)
    assert store.history(run.id) == [] and store.get_run(run.id).metric_history == []


# --- heartbeats, stops, ends ---------------------------------------------------------------------


def test_heartbeat_uses_the_database_clock(store):
    run = store.create_run()
    time.sleep(0.02)
    control = store.heartbeat_run(run.id)
    assert control == RunControl(False, None, RunState.RUNNING)
    assert store.get_run(run.id).heartbeat_at > run.heartbeat_at
    with pytest.raises(NotFoundError):
        store.heartbeat_run("nope")


def test_heartbeat_of_an_ended_run_says_stop(store):
    run = store.create_run()
    store.finish_run(run.id, RunState.CRASHED)
    assert store.heartbeat_run(run.id) == RunControl(True, "run is crashed", RunState.CRASHED)


def test_request_stop(store):
    run = store.create_run()
    assert store.request_stop(run.id, "user asked", {"by": "cli"}) is True
    assert store.request_stop(run.id, "again") is False
    got = store.get_run(run.id)
    assert (got.stop_requested, got.stop_reason, got.stop_info) == (True, "user asked", {"by": "cli"})
    assert store.heartbeat_run(run.id).stop_reason == "user asked"
    ended = store.create_run()
    store.finish_run(ended.id, "finished")
    assert store.request_stop(ended.id, "too late") is False
    with pytest.raises(NotFoundError):
        store.request_stop("nope", "x")


def test_request_stop_all(store):
    sweep = new_sweep(store)
    a, b, c = (claim(store, sweep.id) for _ in range(3))
    store.request_stop(a.id, "hyperband")
    store.finish_run(c.id, "finished")
    outsider = store.create_run()
    assert sorted(store.request_stop_all(sweep.id, "sweep cancelled")) == sorted([a.id, b.id])
    assert store.get_run(a.id).stop_reason == "hyperband"
    assert store.get_run(b.id).stop_reason == "sweep cancelled"
    assert not store.get_run(c.id).stop_requested and not store.get_run(outsider.id).stop_requested
    with pytest.raises(NotFoundError):
        store.request_stop_all("missing1", "x")


def test_finish_run_is_idempotent_and_keeps_the_first_end(store):
    run = store.create_run()
    ended = store.finish_run(run.id, RunState.FAILED, exit_code=2, error="Traceback: boom")
    assert (ended.state, ended.exit_code, ended.error) == (RunState.FAILED, 2, "Traceback: boom")
    assert ended.finished_at is not None and ended.duration_s is not None
    again = store.finish_run(run.id, RunState.FINISHED, exit_code=0)
    assert again == ended
    with pytest.raises(ValueError, match="terminal state"):
        store.finish_run(run.id, RunState.RUNNING)
    with pytest.raises(NotFoundError):
        store.finish_run("nope", RunState.FINISHED)


def test_reap_crashed_uses_a_timeout_on_the_database_clock(store):
    sweep, other = new_sweep(store), new_sweep(store)
    silent, alive, done = (claim(store, sweep.id) for _ in range(3))
    elsewhere = claim(store, other.id)
    standalone = store.create_run()
    store.finish_run(done.id, "finished")
    assert store.reap_crashed(sweep.id, timeout_s=60) == []
    time.sleep(0.4)
    store.heartbeat_run(alive.id)
    assert store.reap_crashed(sweep.id, timeout_s=0.3) == [silent.id]
    got = store.get_run(silent.id)
    assert got.state is RunState.CRASHED and got.finished_at is not None and "no heartbeat" in got.error
    assert store.get_run(alive.id).state is RunState.RUNNING
    assert store.get_run(done.id).state is RunState.FINISHED
    assert store.get_run(elsewhere.id).state is RunState.RUNNING
    # without a sweep: every sweep and standalone runs
    assert store.reap_crashed(timeout_s=0.3) == sorted([elsewhere.id, standalone.id])
    assert store.get_run(standalone.id).state is RunState.CRASHED
    with pytest.raises(NotFoundError):
        store.reap_crashed("missing1", timeout_s=1)


# --- migrations and reopening --------------------------------------------------------------------


def test_reopening_keeps_data_and_the_schema_is_at_head(empty_store_url):
    from sweepkit.store.migrate import head_revision
    from sweepkit.store.schema import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION
    with open_store(empty_store_url) as store:
        sweep = new_sweep(store)
        run = claim(store, sweep.id)
        store.log(run.id, [{"_step": 0, "loss": 1.0}], metric_name="loss")
    with open_store(empty_store_url) as store:
        assert store.get_sweep(sweep.id).run_count == 1
        assert store.get_run(run.id).metric_history == [1.0]
        assert store.history(run.id) == [{"_step": 0, "loss": 1.0}]
    engine = sa.create_engine(locate(empty_store_url).url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
            SCHEMA_REVISION
        ]
    engine.dispose()


def test_migrated_database_matches_the_runtime_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sweepkit.store.schema import metadata

    engine = sa.create_engine(locate(store.connect_url).url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    assert diffs == []


def test_alembic_sees_nothing_to_generate_on_a_fresh_store(store):
    """The shipped env.py also works from a URL (the path developers use to write a new revision)."""
    from alembic import command

    from sweepkit.store.migrate import alembic_config

    config = alembic_config()
    config.set_main_option("sqlalchemy.url", store.connect_url.replace("%", "%%"))
    command.check(config)  # raises if schema.py has changes that no migration makes


def test_a_store_stamped_at_revision_0001_upgrades_in_place(empty_store_url):
    """A store built by running the 0001 migration alone (as an older sweepkit would) opens and keeps data."""
    from alembic import command

    from sweepkit.store.migrate import alembic_config

    engine = sa.create_engine(locate(empty_store_url).url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(
            sa.text(
                "INSERT INTO sweeps (id, state, config, created_at, updated_at, run_count) "
                "VALUES ('old00001', 'running', '{\"method\": \"grid\"}', :t, :t, 0)"
            ),
            {
                "t": "2024-01-02 03:04:05.678"
                if engine.dialect.name == "sqlite"
                else datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
            },
        )
    engine.dispose()
    with open_store(empty_store_url) as store:
        old = store.get_sweep("old00001")
        assert old.config == {"method": "grid"}
        assert old.created_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
        assert claim(store, old.id).name == "old00001-1"


def test_a_store_from_a_newer_sweepkit_is_refused(store_url):
    with open_store(store_url):
        pass
    engine = sa.create_engine(locate(store_url).url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="written by a newer sweepkit .schema revision '9999'."):
        open_store(store_url)


# --- JSON storage of logged values (pure) --------------------------------------------------------

_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5).filter(lambda t: t not in ("NaN", "Infinity", "-Infinity")),
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(_json_values)
def test_logged_values_survive_strict_json(value):
    from sweepkit.store.sqltypes import from_json_data, to_json

    text = json.dumps(to_json(value), allow_nan=False)  # what PostgreSQL's json type accepts
    assert _same(from_json_data(json.loads(text)), value)
