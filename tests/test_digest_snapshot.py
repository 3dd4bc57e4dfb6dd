"""The store's snapshot of what claims keep of a sweep's ended runs (``sweep_digests``), and the
suggestion computed before the sweep's lock (``bayes.prepare`` / ``complete``).

A snapshot loaded by a new service (a restart, another server process) must equal what the running
service kept, claim by claim, and what a service that reads every run builds; a snapshot made for
another config or before runs were deleted is never used. On every store: memory, SQLite, PostgreSQL.
"""

from __future__ import annotations

import random
import shutil
import uuid

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search.sweep_runs import SweepRuns
from sweepkit.service import local
from sweepkit.service.local import LocalSweepService
from sweepkit.service.sweep_policy import SweepPolicy
from sweepkit.service.types import LogBatch
from sweepkit.store import open_store
from sweepkit.store.records import DigestSnapshot

np = pytest.importorskip("numpy")

CONFIG = {
    "method": "bayes",
    "seed": 11,
    "metric": {"name": "loss", "goal": "minimize", "target": -100.0},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        "width": {"min": 1, "max": 6},
        "act": {"values": ["relu", "tanh", "gelu"]},
    },
}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "memory":
        return f"memory://snapshots-{uuid.uuid4().hex}"
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "s.db")
        return f"sqlite:///{tmp_path / 's.db'}"
    return request.getfixturevalue("postgres_url")


def _loss(params):
    return (np.log10(params["lr"]) + 2) ** 2 + 0.1 * params["width"] + (params["act"] == "tanh")


def _claim_and_end(service, sweep_id, agent, rng):
    claim = service.claim_run(sweep_id, agent, uuid.uuid4().hex)
    assert claim.assignment is not None, claim
    run_id = claim.assignment.run_id
    if rng.random() < 0.85:
        service.log(run_id, LogBatch(seq=1, rows=[{"_step": 0, "loss": _loss(claim.assignment.params)}]))
        service.finish_run(run_id, rng.choice([RunState.FINISHED] * 5 + [RunState.FAILED]))
    return claim


def _state(runs: SweepRuns) -> dict:
    """Everything a ``SweepRuns`` keeps of the ended runs, comparable with ``==``."""
    ended = runs.digests["bayes"]
    points = {name: column.tobytes() for name, column in zip("nrhkblw", ended.points._columns(), strict=True)}
    reached = runs.digests["metric.target"]
    return {
        "points": points,
        "keys": dict(ended.keys),
        "kept": dict(ended._kept),
        "ended": set(runs._ended),
        "reached": dict(reached._found),
    }


def test_the_store_keeps_the_newest_snapshot_per_sweep(url):
    store = open_store(url)
    try:
        service = LocalSweepService(store)
        sweep_id = service.create_sweep(CONFIG).id
        other = service.create_sweep(CONFIG).id
        assert store.transact(lambda t: t.digest_snapshot(sweep_id), write=False) is None

        def save(seq, key, data):
            store.transact(lambda t: t.save_digest_snapshot(sweep_id, DigestSnapshot(seq, key, data)))

        def kept():
            return store.transact(lambda t: t.digest_snapshot(sweep_id), write=False)

        save(5, "k", b"five")
        assert kept() == DigestSnapshot(5, "k", b"five")
        save(3, "k", b"three")  # older: ignored
        assert kept() == DigestSnapshot(5, "k", b"five")
        save(9, "k", b"\x00nine\xff")
        assert kept() == DigestSnapshot(9, "k", b"\x00nine\xff")
        save(2, "other", b"new config")  # another key: replaces whatever its change number
        assert kept() == DigestSnapshot(2, "other", b"new config")
        assert store.transact(lambda t: t.digest_snapshot(other), write=False) is None
    finally:
        store.close()


def test_dump_and_load_give_back_what_was_kept():
    from sweepkit.sweep_config import load_config

    policy = SweepPolicy(load_config(CONFIG).data, source="test")
    rng = random.Random(3)
    kept = policy.new_runs()
    views = {}
    for number in range(1, 300):
        state = rng.choice([RunState.FINISHED, RunState.FAILED, RunState.KILLED, RunState.PREEMPTED])
        value = rng.choice([-200.0, rng.random()])  # some reach the target
        view = RunView(f"r{number}", state, policy.space.draw(rng), MetricStats().add([value]), number)
        views[view.id] = view
        kept.update([view], [])
        if rng.random() < 0.1:
            gone = rng.choice(list(views))
            del views[gone]
            kept.update([], [gone])
    kept.change_seq = 1234
    loaded = policy.new_runs()
    loaded.load(kept.dump())
    assert loaded.change_seq == 1234
    assert _state(loaded) == _state(kept)
    assert _state(loaded)["reached"]  # the target digest was exercised
    scratch = SweepRuns.of(sorted(views.values(), key=lambda v: v.number), policy.new_runs().digests)
    assert _state(loaded)["points"] == _state(scratch)["points"]


def test_a_restarted_service_loads_the_snapshot_and_keeps_what_the_running_one_kept(url, monkeypatch):
    monkeypatch.setattr(local, "SAVE_RUNS_AFTER", 5)
    rng = random.Random(5)
    store = open_store(url)
    try:
        running = LocalSweepService(store)
        sweep_id = running.create_sweep(CONFIG).id
        agent = running.register_agent(sweep_id, host="h", pid=1)
        for _ in range(24):
            _claim_and_end(running, sweep_id, agent, rng)
        saved = store.transact(lambda t: t.digest_snapshot(sweep_id), write=False)
        assert saved is not None and saved.change_seq > 0
        compared = 0
        for step in range(8):
            # a restart: a new service on the same store; its first claim loads the snapshot
            restarted = LocalSweepService(store)
            loads = []
            real = local._saved_runs
            monkeypatch.setattr(local, "_saved_runs", lambda *a, seen=loads, f=real: seen.append(1) or f(*a))
            claim = _claim_and_end(
                restarted, sweep_id, restarted.register_agent(sweep_id, host="h", pid=2), rng
            )
            monkeypatch.setattr(local, "_saved_runs", real)
            assert loads, "the restarted service did not look at the snapshot"
            # the running service catches up; both keep the same, and so does a build from every run
            _claim_and_end(running, sweep_id, agent, rng)
            _claim_and_end(restarted, sweep_id, agent, rng)
            sweep = store.transact(lambda t: t.sweep(sweep_id), write=False)
            scratch = store.transact(lambda t, s=sweep: _from_every_run(t, s), write=False)
            a = store.transact(
                lambda t, w=sweep: local._kept_runs(t, w, _policy(running, sweep_id)), write=False
            )
            b = store.transact(
                lambda t, w=sweep, r=restarted: local._kept_runs(t, w, _policy(r, sweep_id)), write=False
            )
            if b.change_seq == a.change_seq == sweep.change_seq:
                assert _state(a) == _state(b) == _state(scratch)
                compared += 1
            assert claim.assignment is not None
            if step == 4:  # deleting runs makes the snapshot unusable until a newer one is saved
                ended = [r.id for r in running.list_runs(sweep_id, states=[RunState.FINISHED]).runs]
                running.delete_runs(sweep_id, ended[:2])
                sweep = store.transact(lambda t: t.sweep(sweep_id), write=False)
                snap = store.transact(lambda t: t.digest_snapshot(sweep_id), write=False)
                policy = SweepPolicy(sweep.config, source="test")
                usable = store.transact(lambda t, s=sweep, p=policy: local._saved_runs(t, s, p), write=False)
                assert snap.change_seq < sweep.reset_seq and usable is None
        assert compared >= 4
    finally:
        store.close()


def _policy(service, sweep_id):
    return service._policies[sweep_id][1]


def _from_every_run(t, sweep):
    policy = SweepPolicy(sweep.config, source="scratch")
    runs = policy.new_runs()
    runs.update(list(t.run_views(sweep.id, states=local.ENDED_FOR_GOOD)), ())
    return runs


def _bayes_runs(n, pending=0, seed=0):
    from sweepkit.sweep_config import load_config

    policy = SweepPolicy(load_config(CONFIG).data, source="test")
    rng = random.Random(seed)
    views = []
    for number in range(1, n + 1):
        params = policy.space.draw(rng)
        if number > n - pending:
            views.append(RunView(f"r{number}", RunState.RUNNING, params, MetricStats(), number))
        else:
            stats = MetricStats().add([float(_loss(params))])
            views.append(RunView(f"r{number}", RunState.FINISHED, params, stats, number))
    return policy, views


@pytest.mark.parametrize("pending", [0, 3])
def test_a_prepared_suggestion_is_the_suggestion_when_the_runs_did_not_change(pending):
    from sweepkit.search import bayes

    policy, views = _bayes_runs(40, pending)
    runs = SweepRuns.of(views, policy.new_runs().digests)
    prepared = bayes.prepare(policy.config, policy.space, runs, policy.rng(40))
    direct = bayes.suggest_bayes(policy.config, policy.space, views, policy.rng(40))
    done = bayes.complete(prepared, SweepRuns.of(views, policy.new_runs().digests))
    assert done.params == direct.params and done.info == direct.info


def test_a_prepared_suggestion_moves_away_from_points_that_became_pending():
    from sweepkit.search import bayes
    from sweepkit.search.bayes.encoding import row_key

    policy, views = _bayes_runs(40, 2)
    runs = SweepRuns.of(views, policy.new_runs().digests)
    prepared = bayes.prepare(policy.config, policy.space, runs, policy.rng(40))
    # another agent claimed the very point prepared (and one elsewhere) before this claim took the lock
    taken = RunView("r41", RunState.RUNNING, dict(prepared.suggestion.params), MetricStats(), 41)
    elsewhere = RunView("r42", RunState.RUNNING, policy.space.draw(random.Random(9)), MetricStats(), 42)
    later = SweepRuns.of([*views, taken, elsewhere], policy.new_runs().digests)
    done = bayes.complete(prepared, later)
    assert done is not None and done.params != prepared.suggestion.params
    assert done.info["penalised_for_new_pending"] == 2 and done.info["n_pending"] == 4
    _, used = later.digests["bayes"].with_live(later.live)
    assert row_key(later.digests["bayes"].domain.encode(done.params)) not in used


def test_claims_asked_for_at_once_through_one_service_share_a_model_and_get_distinct_points(url, monkeypatch):
    """Agents asking at once through one service (``sweepkit server``): a claim asked for while another
    claim's suggestion is computed takes that one, checked and moved away from the runs claimed since;
    a claim asked for afterwards computes its own."""
    import threading

    from sweepkit import search
    from sweepkit.search.bayes.encoding import Domain, row_key
    from sweepkit.service import sweep_policy

    store = open_store(url)
    try:
        service = LocalSweepService(store)
        sweep_id = service.create_sweep(CONFIG).id
        agent = service.register_agent(sweep_id, host="h", pid=1)
        for _ in range(12):  # past the initial design, every run ended
            claim = service.claim_run(sweep_id, agent, uuid.uuid4().hex)
            params = claim.assignment.params
            service.log(claim.assignment.run_id, LogBatch(seq=1, rows=[{"_step": 0, "loss": _loss(params)}]))
            service.finish_run(claim.assignment.run_id, RunState.FINISHED)
        computed = []
        real = search.prepare

        def slow_prepare(*args):
            computed.append(1)
            if len(computed) == 1:  # the first model takes a while: the other agents ask meanwhile
                started.set()
                threading.Event().wait(0.5)
            return real(*args)

        started = threading.Event()
        monkeypatch.setattr(search, "prepare", slow_prepare)
        claims: list = []
        first = threading.Thread(target=lambda: claims.append(service.claim_run(sweep_id, agent, "k0")))
        first.start()
        assert started.wait(10)
        others = [
            threading.Thread(target=lambda k=k: claims.append(service.claim_run(sweep_id, agent, k)))
            for k in ("k1", "k2", "k3", "k4", "k5")
        ]
        for thread in others:
            thread.start()
        for thread in [first, *others]:
            thread.join(30)
        # one model for the first SHARED_CLAIMS claims, another for the rest
        assert len(claims) == 6 and len(computed) == 2
        assert sweep_policy.SHARED_CLAIMS == 4
        domain = Domain(_policy(service, sweep_id).space)
        keys = {row_key(domain.encode(c.assignment.params)) for c in claims}
        assert len(keys) == 6  # six distinct points
        shared = [
            c
            for c in claims
            if "penalised_for_new_pending" in service.get_run(c.assignment.run_id).suggestion
        ]
        assert len(shared) >= 3
        # asked for after the others were answered: a model of its own, as one agent alone gets
        computed.clear()
        service.claim_run(sweep_id, agent, "k6")
        assert len(computed) == 1
    finally:
        store.close()
