"""Hyperband's kept values (``sweepkit.stopping.band_values``) decide exactly as every run read afresh.

The rule alone: runs split into the live ones and a ``BandValues`` of those that ended for good give
the decisions and thresholds of all runs given as runs. Through the service, on the memory, SQLite and
PostgreSQL stores: random sequences of claims, logs, ends, crashes (and runs heard from again),
retries, deletions and config updates, served by two services on one store that are now and then
restarted (a new process reads the store's snapshot or every ended run); each decision a log takes is
compared, in its own transaction, with the rule applied to every run that reached the band, and the
thresholds after each step with those of a new policy over every run of the store.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sweepkit.errors import SweepkitError
from sweepkit.runs import ENDED_FOR_GOOD, MetricStats, RunState, RunView
from sweepkit.service import local
from sweepkit.service.local import LocalSweepService
from sweepkit.service.sweep_policy import SweepPolicy
from sweepkit.service.types import LogBatch
from sweepkit.stopping import band_iterations
from sweepkit.stopping.band_values import BandValues
from sweepkit.stopping.hyperband import decide_runs, thresholds
from sweepkit.store import open_store

VALUES = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, -1.0, math.nan]), st.floats(-3, 3))

SECTIONS = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("hyperband"),
            "min_iter": st.integers(1, 3),
            "eta": st.sampled_from([2, 3, 1.5, 4]),
            "strict": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("hyperband"),
            "max_iter": st.integers(4, 12),
            "s": st.integers(1, 3),
            "eta": st.sampled_from([2, 3, 1.5]),
            "strict": st.booleans(),
        }
    ),
)


# --- the rule alone -------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    section=SECTIONS,
    goal=st.sampled_from(["minimize", "maximize"]),
    runs=st.lists(st.tuples(st.sampled_from(list(RunState)), st.lists(VALUES, max_size=14)), max_size=30),
    gone=st.sets(st.integers(0, 29), max_size=5),
)
def test_kept_values_of_ended_runs_decide_as_the_runs_themselves(section, goal, runs, gone):
    bands = band_iterations(section)
    views = [
        RunView(f"r{i}", state, {}, MetricStats().add(values, bands), i)
        for i, (state, values) in enumerate(runs)
    ]
    kept = BandValues(bands, goal)
    # Added, taken out (retried) and added again in any order: only the last word counts.
    kept.update([v for v in views if v.state in ENDED_FOR_GOOD], [])
    kept.update([], [f"r{i}" for i in gone])
    kept.update([v for v in views if v.state in ENDED_FOR_GOOD and int(v.id[1:]) in gone], [])
    live = [v for v in views if v.state not in ENDED_FOR_GOOD]
    assert decide_runs(section, goal, live, ended=kept) == decide_runs(section, goal, views)
    assert thresholds(section, goal, live, ended=kept) == thresholds(section, goal, views)
    loaded = BandValues(bands, goal)
    loaded.restore(kept.state())
    assert dict(loaded) == dict(kept) and loaded.state().keys() == kept.state().keys()
    assert decide_runs(section, goal, live, ended=loaded) == decide_runs(section, goal, views)


# --- through the service --------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        import shutil

        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "s.db")
        return f"sqlite:///{tmp_path / 's.db'}"
    return request.getfixturevalue("postgres_url")


#: How many decisions were compared, and how many of them on the kept values (under the sweep's lock).
COMPARED = {"all": 0, "kept": 0}


@pytest.fixture
def compared_decisions(monkeypatch):
    """Every log's hyperband decisions checked against the rule over every run that reached the band."""
    real = local._band_decisions

    def checked(t, sweep, policy, band, locked):
        got = real(t, sweep, policy, band, locked)
        scratch = SweepPolicy(t.sweep(sweep.id).config, source="scratch")
        assert got == scratch.stop_runs(t.band_views(sweep.id, band))
        COMPARED["all"] += 1
        COMPARED["kept"] += locked
        return got

    monkeypatch.setattr(local, "_band_decisions", checked)
    monkeypatch.setattr(local, "SAVE_RUNS_AFTER", 3)  # snapshots saved and loaded again, too
    COMPARED.update(all=0, kept=0)
    return COMPARED


def scratch_thresholds(service, sweep_id):
    def tx(t):
        return t.sweep(sweep_id), list(t.run_views(sweep_id))

    sweep, views = service.store.transact(tx, write=False)
    return SweepPolicy(sweep.config, source="scratch").thresholds(views)


OPS = [
    "claim",
    "claim",
    "log",
    "log",
    "log",
    "log",
    "finish",
    "crash",
    "heard",
    "retry",
    "delete",
    "other",
    "restart",
    "update",
]
ENDS = [
    RunState.FINISHED,
    RunState.FINISHED,
    RunState.FAILED,
    RunState.KILLED,
    RunState.PREEMPTED,
    RunState.CRASHED,
]


@settings(
    max_examples=20,
    deadline=None,
    phases=[
        Phase.explicit,
        Phase.reuse,
        Phase.generate,
    ],  # a failure prints its draws; shrinking takes minutes
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_the_service_decides_and_draws_thresholds_as_every_run_read_afresh(url, compared_decisions, data):
    section = data.draw(SECTIONS, label="early_terminate")
    goal = data.draw(st.sampled_from(["minimize", "maximize"]), label="goal")
    target = data.draw(st.sampled_from([None, -2.5]), label="target")  # with a target, claims keep runs too
    metric = {"name": "loss", "goal": goal, **({"target": target} if target is not None else {})}
    config = {
        "method": "random",
        "seed": 1,
        "metric": metric,
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": section,
    }
    stores = [open_store(url or f"memory://bands-{uuid.uuid4().hex}")]
    shared = url is None  # a memory store is one object: services share it

    def new_service():
        if not shared:
            stores.append(open_store(url))
        return LocalSweepService(stores[-1] if not shared else stores[0])

    services = [LocalSweepService(stores[0]), new_service()]
    try:
        sweep_id = services[0].create_sweep(config).id
        agent = services[0].register_agent(sweep_id, host="h", pid=1)
        runs: list[str] = []
        seqs: dict[str, int] = {}
        serving = 0
        for step in range(data.draw(st.integers(5, 40), label="steps")):
            service = services[serving]
            op = data.draw(st.sampled_from(OPS), label="op")
            if op == "claim" or not runs:
                claim = service.claim_run(sweep_id, agent, f"c-{step}-{uuid.uuid4().hex}")
                if claim.assignment is not None:
                    runs.append(claim.assignment.run_id)
                    seqs.setdefault(claim.assignment.run_id, 0)
            elif op == "log":
                run_id = data.draw(st.sampled_from(runs), label="run")
                values = data.draw(st.lists(VALUES, min_size=1, max_size=6), label="values")
                seqs[run_id] = seqs.get(run_id, 0) + 1
                first = seqs[run_id] * 10
                rows = [{"_step": first + i, "loss": v} for i, v in enumerate(values)]
                try:
                    service.log(run_id, LogBatch(seqs[run_id], rows))
                except SweepkitError:
                    pass  # ended (or retried): it takes no more values
            elif op == "finish":
                run_id = data.draw(st.sampled_from(runs), label="run")
                service.finish_run(run_id, data.draw(st.sampled_from(ENDS), label="end"))
            elif op == "crash":
                service.store.transact(
                    lambda t: t.end_silent_runs(
                        sweep_id,
                        from_states=[RunState.RUNNING],
                        silent_before=t.now() + timedelta(seconds=1),
                        state=RunState.CRASHED,
                        error="silent",
                    )
                )
            elif op == "heard":
                service.heartbeat(agent, [data.draw(st.sampled_from(runs), label="run")])
            elif op == "retry":
                service.retry_runs(sweep_id, [RunState.FAILED, RunState.CRASHED, RunState.PREEMPTED])
            elif op == "delete":
                ended = [r.id for r in service.list_runs(sweep_id, states=sorted(ENDED_FOR_GOOD)).runs]
                if ended:
                    service.delete_runs(sweep_id, [data.draw(st.sampled_from(ended), label="deleted")])
                    runs = [r.id for r in service.list_runs(sweep_id).runs]
            elif op == "other":
                serving = 1 - serving
            elif op == "restart":
                services[serving] = new_service()
            elif op == "update":
                changed = dict(config, early_terminate=data.draw(SECTIONS, label="new section"))
                service.update_sweep(sweep_id, changed)
            assert services[serving].band_thresholds(sweep_id) == scratch_thresholds(service, sweep_id)
    finally:
        for store in stores:
            store.close()


def test_the_decisions_compared_were_taken_on_the_kept_values(url, compared_decisions):
    """A plain sequence (no hypothesis): some decisions stop runs, all on the kept values."""
    config = {
        "method": "random",
        "seed": 1,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
    }
    store = open_store(url or "memory://")
    try:
        service = LocalSweepService(store)
        sweep_id = service.create_sweep(config).id
        agent = service.register_agent(sweep_id, host="h", pid=1)
        stopped = 0
        for i in range(12):
            run_id = service.claim_run(sweep_id, agent, f"k{i}").assignment.run_id
            ack = service.log(run_id, LogBatch(1, [{"_step": s, "loss": (i * 7) % 5 + s} for s in range(4)]))
            stopped += ack.stop_requested
            service.finish_run(run_id, RunState.KILLED if ack.stop_requested else RunState.FINISHED)
        assert stopped and compared_decisions["kept"] == compared_decisions["all"] > 0
        assert service.band_thresholds(sweep_id) == scratch_thresholds(service, sweep_id)
    finally:
        store.close()
