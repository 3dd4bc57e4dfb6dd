"""The store itself: its contract (``sweepkit.store.base``) over every implementation (in memory,
SQLite, PostgreSQL), and, for the SQL store, where it lives, how it opens (and never re-creates), its
faults and its migrations.

What the service decides with the store (claims, logging, the lifecycle of runs) is tested through
the sweep service (tests/test_service.py), over the same stores.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from sweepkit.errors import NotFoundError, StoreError, StoreGone, StoreUnavailable, SweepkitError
from sweepkit.runs import MetricStats, RunState, SweepState
from sweepkit.store import NewAgent, NewRun, NewSweep, new_id, open_store
from sweepkit.store.engine import locate

GRID_CONFIG = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": [0, 1, 2]}},
}


def new_sweep(store):
    return store.transact(lambda t: t.insert_sweep(NewSweep(new_id(), None, None, None, GRID_CONFIG)))


def get_sweep(store, sweep_id):
    return store.transact(lambda t: t.sweep(sweep_id), write=False)


def list_sweeps(store):
    return store.transact(lambda t: t.sweeps(), write=False)


# --- opening stores ------------------------------------------------------------------------------


def test_default_store_lives_under_dot_sweepkit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPKIT_DB", raising=False)
    with open_store() as store:
        assert store.url == f"sqlite:///{tmp_path / '.sweepkit' / 'sweepkit.db'}"
        new_sweep(store)
    assert (tmp_path / ".sweepkit" / "sweepkit.db").is_file()


def test_env_var_names_the_store(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere" / "s.db"
    monkeypatch.setenv("SWEEPKIT_DB", str(path))
    with open_store() as store:
        sweep = new_sweep(store)
    with open_store(f"sqlite:///{path}") as store:
        assert get_sweep(store, sweep.id).id == sweep.id


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


def test_only_creating_opens_make_a_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPKIT_DB", raising=False)
    with pytest.raises(
        NotFoundError,
        match=r"^no sweepkit store at .*\.sweepkit/sweepkit\.db \(point at another with --db, SWEEPKIT_DB or SWEEPKIT_URL\)$",
    ):
        open_store(create=False)
    assert not (tmp_path / ".sweepkit").exists()
    open_store(create=True).close()
    with open_store(create=False) as store:
        assert list_sweeps(store) == []


def test_an_existing_database_without_sweepkit_tables_is_not_taken_over(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE notes (x)").connection.close()
    with pytest.raises(NotFoundError, match="holds no sweepkit tables"):
        open_store(str(path), create=False)


def test_a_deleted_store_file_stops_every_write_and_is_never_recreated(tmp_path):
    path = tmp_path / "s.db"
    with open_store(str(path)) as store:
        sweep = new_sweep(store)
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"s.db{suffix}").unlink(missing_ok=True)
        with pytest.raises(StoreGone, match=r"^store sqlite:///.*s\.db was deleted while in use"):
            get_sweep(store, sweep.id)
    assert not path.exists()


def test_a_replaced_store_file_is_noticed(tmp_path):
    path = tmp_path / "s.db"
    store = open_store(str(path))
    new_sweep(store)
    path.rename(tmp_path / "old.db")
    open_store(str(path)).close()  # someone makes a new, empty store at the same place
    with pytest.raises(StoreGone, match="was replaced by another file while in use"):
        list_sweeps(store)
    store.close()


def test_a_busy_sqlite_store_is_retried_until_it_is_free(tmp_path, monkeypatch):
    """A lock held longer than SQLite's busy timeout does not fail the operation (retried with backoff)."""
    monkeypatch.setattr("sweepkit.store.engine.SQLITE_BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "20")
    path = tmp_path / "s.db"
    store = open_store(str(path))
    waits: list[str] = []
    store.on_wait = waits.append
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.0, holder.execute, args=("COMMIT",)).start()
    started = time.monotonic()
    sweep = new_sweep(store)
    assert time.monotonic() - started >= 0.9
    assert get_sweep(store, sweep.id).id == sweep.id
    assert (
        waits[0] == f"store {store.url} is busy or unreachable (database is locked); retrying for up to 20 s"
    )
    assert waits[-1] == f"store {store.url} answers again"
    store.close()
    holder.close()


def test_a_store_busy_for_longer_than_the_retry_time_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("sweepkit.store.engine.SQLITE_BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "0.5")
    path = tmp_path / "s.db"
    store = open_store(str(path))
    store.on_wait = lambda message: None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(
        StoreUnavailable, match=r"database is locked \(retried for 0.5 s, SWEEPKIT_STORE_RETRY\)$"
    ):
        new_sweep(store)
    holder.execute("ROLLBACK")
    holder.close()
    store.close()


def test_store_errors_are_sweepkit_errors_and_say_what_kind():
    for kind in (StoreError, StoreUnavailable, StoreGone, NotFoundError):
        assert issubclass(kind, SweepkitError)
    assert issubclass(StoreUnavailable, StoreError) and issubclass(StoreGone, StoreError)


# --- migrations and reopening --------------------------------------------------------------------


def test_reopening_keeps_data_and_the_schema_is_at_head(empty_store_url):
    from sweepkit.store.migrate import head_revision
    from sweepkit.store.schema import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION
    from sweepkit.connect import open_local
    from sweepkit.service.types import LogBatch

    service = open_local(empty_store_url, create=True)
    sweep = service.create_sweep(GRID_CONFIG)
    agent = service.register_agent(sweep.id, host="h", pid=1)
    run = service.claim_run(sweep.id, agent, "k").assignment
    service.log(run.run_id, LogBatch(1, [{"_step": 0, "loss": 1.0}]))
    service.close()
    service = open_local(empty_store_url)
    assert service.get_sweep(sweep.id).run_count == 1
    assert service.get_run(run.run_id).metric.last == 1.0
    assert service.history(run.run_id).rows == [{"_step": 0, "loss": 1.0}]
    service.close()
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


def test_a_store_at_revision_0001_upgrades_in_place_and_keeps_its_metric_values(empty_store_url):
    """A store built by the 0001 migration alone (as sweepkit 0.1 left it) opens, keeps its data, and
    its runs' metric histories become aggregates (with the values at the sweep's hyperband bands)."""
    from alembic import command

    from sweepkit.connect import open_local
    from sweepkit.runs import MetricStats
    from sweepkit.store.migrate import alembic_config

    config = {
        **GRID_CONFIG,
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3, "strict": True},
    }
    engine = sa.create_engine(locate(empty_store_url).url)
    sqlite = engine.dialect.name == "sqlite"
    t = "2024-01-02 03:04:05.678" if sqlite else datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(
            sa.text(
                "INSERT INTO sweeps (id, state, config, created_at, updated_at, run_count) "
                "VALUES ('old00001', 'running', :config, :t, :t, 1)"
            ),
            {"t": t, "config": json.dumps(config)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, sweep_id, number, state, params, summary, metric_history, created_at, "
                "stop_requested, suggestion_info) VALUES ('oldrun01', 'old00001', 1, 'finished', '{\"i\": 0}', "
                "'{}', :history, :t, :no, '{}')"
            ),
            {"t": t, "history": json.dumps([3.0, "NaN", 2.0, 5.0, 1.0, 4.0, 0.5]), "no": False},
        )
    engine.dispose()
    service = open_local(empty_store_url)
    old = service.get_sweep("old00001")
    assert old.config == config
    assert old.created_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert service.get_run("oldrun01").metric == MetricStats(
        count=6, last=0.5, min=0.5, max=5.0, bands={2: 2.0, 6: 0.5}
    )
    agent = service.register_agent(old.id, host="h", pid=1)
    assert service.claim_run(old.id, agent, "k").assignment.run_name == "old00001-2"
    (version,) = service.config_versions(old.id)  # the config it had became its version 1
    assert (version.version, version.config, version.created_at) == (1, config, old.created_at)
    service.close()


def test_a_store_from_a_newer_sweepkit_is_refused(store_url):
    open_store(store_url).close()
    engine = sa.create_engine(locate(store_url).url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="written by a newer sweepkit .schema revision '9999'."):
        open_store(store_url)


# --- the store's contract, over every implementation ---------------------------------------------

STORES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
RUNNING, PENDING, CRASHED, FINISHED, KILLED = (
    RunState.RUNNING,
    RunState.PENDING,
    RunState.CRASHED,
    RunState.FINISHED,
    RunState.KILLED,
)


@pytest.fixture(params=STORES)
def any_store(request, tmp_path):
    """A new, empty store of each implementation."""
    if request.param == "memory":
        url = "memory://contract"
    elif request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "store.db")
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    yield opened
    opened.close()


def write(store, fn):
    return store.transact(fn)


def read(store, fn):
    return store.transact(fn, write=False)


def a_sweep(store, **labels):
    fields = {"project": None, "entity": None, "name": None, **labels}
    return write(store, lambda t: t.insert_sweep(NewSweep(new_id(), config=GRID_CONFIG, **fields)))


def an_agent(store, sweep_id):
    agent_id = new_id()
    write(store, lambda t: t.insert_agent(NewAgent(agent_id, sweep_id, "h", 1)))
    return agent_id


def a_run(store, sweep, agent_id=None, number=1, **fields):
    new = NewRun(
        new_id(), sweep.id, number, sweep.project, f"run-{number}", {"i": number}, agent_id=agent_id, **fields
    )
    return write(store, lambda t: t.insert_run(new))


def logged(t, run_id, summary, metric, last_step, seq):
    """The run's log target after a batch with these values."""
    return replace(t.log_target(run_id), summary=summary, metric=metric, last_step=last_step, log_seq=seq)


def test_a_failing_transaction_changes_nothing(any_store):
    sweep = a_sweep(any_store)
    run = a_run(any_store, sweep)
    write(any_store, lambda t: t.append_history(run.id, [(0, {"loss": 1.0})]))

    def fails(t):
        t.insert_sweep(NewSweep(new_id(), "p", None, None, GRID_CONFIG))
        t.set_sweep_state(sweep.id, SweepState.PAUSED, "paused")
        t.set_sweep_config(sweep.id, {"method": "random"}, "method: random")
        t.set_run_counts(sweep.id, run_count=9, retry_count=9)
        t.append_history(run.id, [(1, {"loss": 0.5}), (2, {"loss": 0.25})])
        t.update_logged(logged(t, run.id, {"loss": 0.25}, MetricStats(), 2, 1))
        t.set_output(run.id, "printed", "", 7)
        t.insert_token(new_id(), scope="read", name=None, secret_hash="0" * 64)
        t.delete_runs(sweep.id, [run.id])
        raise RuntimeError("the decision failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        write(any_store, fails)
    assert [s.id for s in read(any_store, lambda t: t.sweeps())] == [sweep.id]
    after = read(any_store, lambda t: t.sweep(sweep.id))
    assert (after.state, after.config, after.run_count, after.updated_at) == (
        SweepState.RUNNING,
        GRID_CONFIG,
        0,
        sweep.updated_at,
    )
    assert read(any_store, lambda t: t.run(run.id)) == run
    assert read(any_store, lambda t: t.history(run.id)) == [(0, {"loss": 1.0})]
    assert read(any_store, lambda t: t.output(run.id)) is None
    assert read(any_store, lambda t: t.tokens()) == []


def test_missing_rows_are_one_sentence_naming_the_store(any_store):
    url = re.escape(any_store.url)
    for what, fn in (
        ("sweep 'nope'", lambda t: t.sweep("nope")),
        ("sweep 'nope'", lambda t: t.lock_sweep("nope")),
        ("sweep 'nope'", lambda t: t.runs("nope")),
        ("sweep 'nope'", lambda t: t.insert_agent(NewAgent("a1", "nope", "h", 1))),
        ("run 'nope'", lambda t: t.run("nope")),
        ("run 'nope'", lambda t: t.log_target("nope")),
        ("run 'nope'", lambda t: t.history("nope")),
        ("run 'nope'", lambda t: t.run_statuses(["nope"])),
        ("run 'nope'", lambda t: t.end_run("nope", FINISHED, exit_code=0, error=None, from_states=[RUNNING])),
        ("agent 'nope'", lambda t: t.touch_agent("nope")),
        ("agent 'nope'", lambda t: t.agent_token("nope")),
        ("token 'nope'", lambda t: t.revoke_token("nope")),
    ):
        with pytest.raises(NotFoundError, match=rf"^no {what} in {url}$"):
            write(any_store, fn)
    sweep = a_sweep(any_store)
    with pytest.raises(NotFoundError, match=rf"^no agent 'ghost' in {url}$"):
        a_run(any_store, sweep, agent_id="ghost")
    assert read(any_store, lambda t: t.runs(sweep.id)) == []


def test_records_are_fresh_copies(any_store):
    sweep = a_sweep(any_store)
    sweep.config["parameters"]["i"]["values"].append(99)
    run = a_run(any_store, sweep, config={"nested": {"x": [1]}})
    run.params["i"] = "changed"
    run.config["nested"]["x"].append(2)
    write(any_store, lambda t: t.append_history(run.id, [(0, {"a": [1.0]})]))
    read(any_store, lambda t: t.history(run.id))[0][1]["a"].append(2.0)
    assert read(any_store, lambda t: t.sweep(sweep.id)).config == GRID_CONFIG
    stored = read(any_store, lambda t: t.run(run.id))
    assert stored.params == {"i": 1} and stored.config == {"nested": {"x": [1]}}
    assert read(any_store, lambda t: t.history(run.id)) == [(0, {"a": [1.0]})]


def test_values_are_kept_as_json_with_nonfinite_numbers_in_logged_data_only(any_store):
    sweep = a_sweep(any_store)
    run = a_run(any_store, sweep, config={"note": "NaN", "pair": (1, 2)})
    row = {"loss": math.nan, "up": math.inf, "text": "Infinity", "items": (1, 2), 3: "key"}
    write(any_store, lambda t: t.append_history(run.id, [(0, row)]))
    summary = {"loss": -math.inf}
    write(
        any_store,
        lambda t: t.update_logged(logged(t, run.id, summary, MetricStats(), 0, 1)),
    )
    ((step, stored),) = read(any_store, lambda t: t.history(run.id))
    assert math.isnan(stored["loss"]) and stored["up"] == math.inf and stored["text"] == math.inf
    assert stored["items"] == [1, 2] and stored["3"] == "key"
    found = read(any_store, lambda t: t.run(run.id))
    assert found.summary == {"loss": -math.inf}
    assert found.config == {"note": "NaN", "pair": [1, 2]}  # a config keeps its texts
    series = read(any_store, lambda t: t.metric_series([run.id], "up", {}))
    assert series == {run.id: [(0, math.inf)]}


def test_sweeps_newest_first_and_updates(any_store):
    first = a_sweep(any_store, project="a")
    second = a_sweep(any_store, project="b")
    assert [s.id for s in read(any_store, lambda t: t.sweeps())] == [second.id, first.id]
    assert [s.id for s in read(any_store, lambda t: t.sweeps(project="a"))] == [first.id]
    write(any_store, lambda t: t.set_run_counts(first.id, run_count=3, retry_count=1))
    counted = read(any_store, lambda t: t.sweep(first.id))
    assert (counted.run_count, counted.retry_count, counted.updated_at) == (3, 1, first.updated_at)
    time.sleep(0.005)
    paused = write(any_store, lambda t: t.set_sweep_state(first.id, SweepState.PAUSED, "why"))
    assert (paused.state, paused.finished_reason, paused.config) == (SweepState.PAUSED, "why", GRID_CONFIG)
    assert paused.updated_at > first.updated_at and paused.run_count == 3
    resumed = write(any_store, lambda t: t.set_sweep_state(first.id, SweepState.RUNNING, None))
    assert (resumed.state, resumed.finished_reason) == (SweepState.RUNNING, None)
    configured = write(
        any_store, lambda t: t.set_sweep_config(first.id, {"method": "random"}, "method: random")
    )
    assert (configured.config, configured.source, configured.state) == (
        {"method": "random"},
        "method: random",
        SweepState.RUNNING,
    )


def test_an_agent_keeps_the_token_it_registered_with(any_store):
    sweep = a_sweep(any_store)
    bound, free = new_id(), an_agent(any_store, sweep.id)
    write(any_store, lambda t: t.insert_agent(NewAgent(bound, sweep.id, "h", 2, token_id="tok12345")))
    assert read(any_store, lambda t: t.agent_token(bound)) == "tok12345"
    assert read(any_store, lambda t: t.agent_token(free)) is None


def test_every_config_version_is_kept_and_defaults_fill_runs_without_the_parameter(any_store):
    sweep = a_sweep(any_store)
    write(
        any_store, lambda t: t.set_sweep_config(sweep.id, {"method": "random"}, "method: random", ["a", "b"])
    )
    write(any_store, lambda t: t.set_sweep_config(sweep.id, {"method": "bayes"}, None))
    versions = read(any_store, lambda t: t.config_versions(sweep.id))
    assert [(v.version, v.config, v.source, v.changes) for v in versions] == [
        (1, GRID_CONFIG, None, []),
        (2, {"method": "random"}, "method: random", ["a", "b"]),
        (3, {"method": "bayes"}, None, []),
    ]
    assert versions[0].created_at <= versions[1].created_at <= versions[2].created_at
    with pytest.raises(NotFoundError, match="no sweep 'nosuch01'"):
        read(any_store, lambda t: t.config_versions("nosuch01"))
    one, two = a_run(any_store, sweep, number=1), a_run(any_store, sweep, number=2)
    write(any_store, lambda t: t.insert_run(NewRun(new_id(), sweep.id, 3, None, "r3", {"i": 3, "j": "x"})))
    before = get_sweep(any_store, sweep.id).change_seq
    assert write(any_store, lambda t: t.fill_params(sweep.id, {"j": "a"})) == 2
    filled = get_sweep(any_store, sweep.id)
    assert filled.reset_seq == filled.change_seq > before  # what digests kept of the runs is stale
    assert write(any_store, lambda t: t.fill_params(sweep.id, {"j": "b"})) == 0
    assert get_sweep(any_store, sweep.id).change_seq == filled.change_seq
    found = read(any_store, lambda t: t.runs(sweep.id))
    assert [r.params for r in found] == [{"i": 1, "j": "a"}, {"i": 2, "j": "a"}, {"i": 3, "j": "x"}]
    assert {one.id, two.id} <= {r.id for r in found}


def test_agents_and_the_store_clock(any_store):
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    before = read(any_store, lambda t: t.now())
    assert before.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - before).total_seconds()) < 60
    assert read(
        any_store, lambda t: t.live_agents([sweep.id], seen_since=before - timedelta(seconds=60))
    ) == {sweep.id: 1}
    assert (
        read(any_store, lambda t: t.live_agents([sweep.id], seen_since=before + timedelta(seconds=60))) == {}
    )
    write(any_store, lambda t: t.finish_agent(agent))
    assert (
        read(any_store, lambda t: t.live_agents([sweep.id], seen_since=before - timedelta(seconds=60))) == {}
    )


def test_agents_of_a_sweep_with_their_working_directory_slots_and_runs_slots(any_store):
    sweep = a_sweep(any_store)
    first, second = new_id(), new_id()
    write(
        any_store,
        lambda t: t.insert_agent(
            NewAgent(first, sweep.id, "gpu", 7, workdir="/srv/w", slots=[["0"], ["1", "2"]])
        ),
    )
    write(any_store, lambda t: t.insert_agent(NewAgent(second, sweep.id, "cpu", 8)))
    write(any_store, lambda t: t.finish_agent(second))
    now = read(any_store, lambda t: t.now())
    listed = read(any_store, lambda t: t.agents(sweep.id, seen_since=now - timedelta(seconds=60)))
    assert [(a.id, a.host, a.pid, a.state, a.live) for a in listed] == [
        (first, "gpu", 7, "running", True),
        (second, "cpu", 8, "finished", False),
    ]
    assert (listed[0].workdir, listed[0].slots) == ("/srv/w", [["0"], ["1", "2"]])
    assert (listed[1].workdir, listed[1].slots) == (None, None)
    later = read(any_store, lambda t: t.agents(sweep.id, seen_since=now + timedelta(seconds=60)))
    assert [a.live for a in later] == [False, False]
    with pytest.raises(NotFoundError, match="sweep 'nope'"):
        read(any_store, lambda t: t.agents("nope", seen_since=now))
    run = a_run(any_store, sweep, first, number=1, slot=2)
    assert run.slot == 2 and read(any_store, lambda t: t.run(run.id)).slot == 2
    queued = NewRun(new_id(), sweep.id, 2, None, "r2", {"i": 2}, retry_of=run.id)
    write(any_store, lambda t: t.insert_pending_runs([queued]))
    assert read(any_store, lambda t: t.run(queued.id)).slot is None
    started = write(any_store, lambda t: t.start_pending_run(sweep.id, agent_id=first, claim_key="k", slot=1))
    assert started.slot == 1


def test_runs_in_number_order_with_filters(any_store):
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    made = [a_run(any_store, sweep, agent, number=n) for n in (1, 2, 3, 4)]
    write(
        any_store, lambda t: t.end_run(made[1].id, FINISHED, exit_code=0, error=None, from_states=[RUNNING])
    )
    write(any_store, lambda t: t.mark_retried({made[2].id: made[3].id}))

    def ids(**filters):
        return [r.number for r in read(any_store, lambda t: t.runs(sweep.id, **filters))]

    assert ids() == [1, 2, 3, 4]
    assert ids(states=[FINISHED]) == [2] and ids(after=2) == [3, 4] and ids(after=1, limit=2) == [2, 3]
    assert [r.retried_by for r in read(any_store, lambda t: t.runs(sweep.id))] == [
        None,
        None,
        made[3].id,
        None,
    ]
    assert read(any_store, lambda t: t.run_counts([sweep.id])) == {sweep.id: {"running": 3, "finished": 1}}
    by_id = read(any_store, lambda t: t.runs_by_id(sweep.id, [made[0].id, "other"]))
    assert list(by_id) == [made[0].id]
    assert read(any_store, lambda t: t.run_by_claim_key("none")) is None
    views = read(any_store, lambda t: list(t.run_views(sweep.id)))
    assert [(v.id, v.params) for v in views] == [
        (made[0].id, {"i": 1}),
        (made[1].id, {"i": 2}),
        (made[3].id, {"i": 4}),
    ]


def test_pending_runs_are_handed_out_in_number_order_once(any_store):
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    queued = [NewRun(new_id(), sweep.id, n, None, f"r{n}", {"i": n}, retry_of="old") for n in (2, 1)]
    write(any_store, lambda t: t.insert_pending_runs(queued))
    assert {r.state for r in read(any_store, lambda t: t.runs(sweep.id))} == {PENDING}
    first = write(any_store, lambda t: t.start_pending_run(sweep.id, agent_id=agent, claim_key="k1"))
    assert (first.number, first.state, first.agent_id, first.retry_of) == (1, RUNNING, agent, "old")
    assert read(any_store, lambda t: t.run_by_claim_key("k1")).id == first.id
    with pytest.raises(NotFoundError, match="no agent 'ghost'"):
        write(any_store, lambda t: t.start_pending_run(sweep.id, agent_id="ghost", claim_key="k2"))
    assert (
        write(any_store, lambda t: t.start_pending_run(sweep.id, agent_id=agent, claim_key="k2")).number == 2
    )
    assert write(any_store, lambda t: t.start_pending_run(sweep.id, agent_id=agent, claim_key="k3")) is None


def test_state_changes_apply_only_from_the_states_given(any_store):
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    a, b, c = (a_run(any_store, sweep, agent, number=n) for n in (1, 2, 3))
    ended = write(
        any_store, lambda t: t.end_run(a.id, FINISHED, exit_code=0, error=None, from_states=[RUNNING])
    )
    assert (ended.state, ended.exit_code) == (FINISHED, 0) and ended.finished_at is not None
    again = write(any_store, lambda t: t.end_run(a.id, KILLED, exit_code=9, error="x", from_states=[RUNNING]))
    assert again is None and read(any_store, lambda t: t.run(a.id)).state == FINISHED

    soon = read(any_store, lambda t: t.now()) + timedelta(seconds=60)
    silent = write(
        any_store,
        lambda t: t.end_silent_runs(
            sweep.id, from_states=[RUNNING], silent_before=soon, state=CRASHED, error="quiet"
        ),
    )
    assert sorted(silent) == sorted([b.id, c.id])
    write(any_store, lambda t: t.mark_retried({c.id: "its-retry"}))
    write(any_store, lambda t: t.reopen_runs([a.id, b.id, c.id], from_states=[CRASHED]))
    states = {r.id: (r.state, r.error, r.finished_at) for r in read(any_store, lambda t: t.runs(sweep.id))}
    assert states[b.id] == (RUNNING, None, None)  # heard from again
    assert states[c.id][:2] == (CRASHED, "quiet")  # retried: its retry stands for it
    assert states[a.id][0] == FINISHED

    asked = write(
        any_store,
        lambda t: t.request_stop(sweep.id, states=[RUNNING], reason="enough", info={"x": 1}, run_id=b.id),
    )
    assert asked == 1 and read(any_store, lambda t: t.run(b.id)).stop_info == {"x": 1}
    assert (
        write(any_store, lambda t: t.request_stop(sweep.id, states=[RUNNING], reason="again", info=None)) == 0
    )
    status = read(any_store, lambda t: t.run_statuses([b.id, a.id]))
    assert [(s.id, s.state, s.stop_requested, s.stop_reason) for s in status] == [
        (b.id, RUNNING, True, "enough"),
        (a.id, FINISHED, False, None),
    ]
    write(
        any_store,
        lambda t: t.end_runs(sweep.id, from_states=[RUNNING], state=KILLED, stop_reason="cancelled"),
    )
    assert read(any_store, lambda t: t.run(b.id)).state == KILLED


def test_heartbeats_date_runs_in_the_states_given(any_store):
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    live, done = a_run(any_store, sweep, agent, number=1), a_run(any_store, sweep, agent, number=2)
    write(any_store, lambda t: t.end_run(done.id, FINISHED, exit_code=0, error=None, from_states=[RUNNING]))
    time.sleep(0.005)
    write(any_store, lambda t: (t.touch_agent(agent), t.touch_runs([live.id, done.id], states=[RUNNING])))
    assert read(any_store, lambda t: t.run(live.id)).heartbeat_at > live.heartbeat_at
    assert read(any_store, lambda t: t.run(done.id)).heartbeat_at == done.heartbeat_at


def test_logging_reads_and_writes_only_the_run(any_store):
    sweep = a_sweep(any_store)
    run = a_run(any_store, sweep)
    peeked, stats = read(any_store, lambda t: t.peek_log_target(run.id))
    assert peeked.id == sweep.id and stats == MetricStats()
    metric = MetricStats().add([3.0, 1.0, 2.0], None)
    write(
        any_store,
        lambda t: t.append_history(run.id, [(step, {"loss": v}) for step, v in enumerate([3.0, 1.0, 2.0])]),
    )
    write(
        any_store,
        lambda t: t.update_logged(logged(t, run.id, {"loss": 2.0}, metric, 2, 4)),
    )
    target = write(any_store, lambda t: t.log_target(run.id))
    assert (target.summary, target.metric, target.last_step, target.log_seq) == ({"loss": 2.0}, metric, 2, 4)
    assert read(any_store, lambda t: t.history(run.id, after=0, limit=1)) == [(1, {"loss": 1.0})]
    assert read(any_store, lambda t: t.metric_series([run.id], "loss", {run.id: 0})) == {
        run.id: [(1, 1.0), (2, 2.0)]
    }
    band = read(any_store, lambda t: t.band_views(sweep.id, 2))
    assert [(v.id, v.metric.count, v.metric.bands, v.metric.min, v.metric.max) for v in band] == [
        (run.id, 3, {2: 1.0}, 1.0, 3.0)
    ]
    assert read(any_store, lambda t: t.band_views(sweep.id, 4)) == []
    write(any_store, lambda t: (t.set_run_config(run.id, {"lr": 0.1}), t.rename_run(run.id, "renamed")))
    write(any_store, lambda t: t.set_output(run.id, "head", "tail", 12))
    write(any_store, lambda t: t.set_output(run.id, "head", "tail2", 13))
    found = read(any_store, lambda t: t.run(run.id))
    assert (found.config, found.name) == ({"lr": 0.1}, "renamed")
    assert read(any_store, lambda t: t.output(run.id, lock=False)) == ("head", "tail2", 13)


def test_deleting_runs_takes_their_history_and_frees_what_they_retried(any_store):
    sweep = a_sweep(any_store)
    old, new = a_run(any_store, sweep, number=1), a_run(any_store, sweep, number=2)
    write(any_store, lambda t: t.mark_retried({old.id: new.id}))
    write(any_store, lambda t: (t.append_history(new.id, [(0, {"x": 1})]), t.set_output(new.id, "a", "", 1)))
    write(any_store, lambda t: t.delete_runs(sweep.id, [new.id]))
    assert [r.id for r in read(any_store, lambda t: t.runs(sweep.id))] == [old.id]
    assert read(any_store, lambda t: t.run(old.id)).retried_by is None
    with pytest.raises(NotFoundError):
        read(any_store, lambda t: t.history(new.id))
    assert read(any_store, lambda t: t.output(new.id)) is None


def test_runs_that_end_for_good_or_are_retried_are_stamped_with_the_sweeps_change_number(any_store):
    sweep = a_sweep(any_store)
    assert (sweep.change_seq, sweep.reset_seq) == (0, 0)
    agent = an_agent(any_store, sweep.id)
    a, b, c, d = (a_run(any_store, sweep, agent, number=n) for n in (1, 2, 3, 4))
    queued = NewRun(new_id(), sweep.id, 5, None, "r5", {"i": 5})
    write(any_store, lambda t: t.insert_pending_runs([queued]))
    other = a_sweep(any_store)  # its changes are its own
    assert read(any_store, lambda t: t.changed_runs(sweep.id, 0)) == ([], [])

    def changed(after):
        views, retried = read(any_store, lambda t: t.changed_runs(sweep.id, after))
        # What a claim reads in one statement: the same, and the live runs.
        live_states = [RUNNING, PENDING, CRASHED]
        live = read(any_store, lambda t: list(t.run_views(sweep.id, states=live_states)))
        both = read(any_store, lambda t: t.changed_and_live_runs(sweep.id, after, states=live_states))
        assert both == (views, retried, live)
        return [(v.id, v.state, v.number, dict(v.params)) for v in views], retried

    write(any_store, lambda t: t.end_run(a.id, FINISHED, exit_code=0, error=None, from_states=[RUNNING]))
    first = get_sweep(any_store, sweep.id).change_seq
    assert first > 0 and get_sweep(any_store, other.id).change_seq == 0
    assert changed(0) == ([(a.id, FINISHED, 1, {"i": 1})], [])
    # Crashing is not ending for good (a crashed run may be heard from again): no stamp.
    soon = read(any_store, lambda t: t.now()) + timedelta(seconds=60)
    write(
        any_store,
        lambda t: t.end_silent_runs(
            sweep.id, from_states=[RUNNING], silent_before=soon, state=CRASHED, error="x"
        ),
    )
    assert get_sweep(any_store, sweep.id).change_seq == first and changed(first) == ([], [])
    write(any_store, lambda t: t.reopen_runs([b.id, c.id, d.id], from_states=[CRASHED]))
    write(
        any_store, lambda t: t.end_run(b.id, RunState.FAILED, exit_code=1, error="e", from_states=[RUNNING])
    )
    second = get_sweep(any_store, sweep.id).change_seq
    assert second > first and changed(first) == ([(b.id, RunState.FAILED, 2, {"i": 2})], [])
    # A run of the sweep retried: stamped, and reported as retried (its retry stands for it).
    write(any_store, lambda t: t.mark_retried({b.id: c.id}))
    third = get_sweep(any_store, sweep.id).change_seq
    assert third > second and changed(second) == ([], [b.id])
    assert changed(0) == ([(a.id, FINISHED, 1, {"i": 1})], [b.id])
    # Cancelling: the queued run is killed, for good.
    write(any_store, lambda t: t.end_runs(sweep.id, from_states=[PENDING], state=KILLED, stop_reason="c"))
    assert changed(third)[0] == [(queued.id, KILLED, 5, {"i": 5})]
    # Live runs only (not retried), in number order, with their numbers.
    live = read(any_store, lambda t: list(t.run_views(sweep.id, states=[RUNNING, PENDING, CRASHED])))
    assert [(v.id, v.number) for v in live] == [(c.id, 3), (d.id, 4)]
    assert [v.number for v in read(any_store, lambda t: list(t.run_views(sweep.id)))] == [1, 3, 4, 5]
    # Deleting runs: the sweep's reset mark moves to a new change number.
    before = get_sweep(any_store, sweep.id).change_seq
    write(any_store, lambda t: t.delete_runs(sweep.id, [a.id]))
    after = get_sweep(any_store, sweep.id)
    assert after.reset_seq == after.change_seq > before
    assert get_sweep(any_store, other.id).reset_seq == 0
    # A failing transaction stamps nothing.
    with pytest.raises(RuntimeError):

        def fail(t):
            t.end_run(c.id, FINISHED, exit_code=0, error=None, from_states=[RUNNING])
            raise RuntimeError("no")

        write(any_store, fail)
    assert get_sweep(any_store, sweep.id).change_seq == after.change_seq


def test_tokens(any_store):
    made = write(any_store, lambda t: t.insert_token("tok1", scope="agent", name="ci", secret_hash="f" * 64))
    assert (made.id, made.scope, made.name, made.revoked_at) == ("tok1", "agent", "ci", None)
    assert read(any_store, lambda t: t.any_token()) and read(any_store, lambda t: t.token("tok2")) is None
    write(any_store, lambda t: t.touch_token("tok1"))
    assert read(any_store, lambda t: t.token("tok1")).last_used_at is not None
    revoked = write(any_store, lambda t: t.revoke_token("tok1"))
    time.sleep(0.005)
    assert write(any_store, lambda t: t.revoke_token("tok1")).revoked_at == revoked.revoked_at
    assert [t.id for t in read(any_store, lambda t: t.tokens())] == ["tok1"]


def test_writers_take_turns_on_a_locked_sweep(any_store):
    """Read-modify-write of a sweep under its lock, from threads at once: no update is lost."""
    sweep = a_sweep(any_store)

    def bump(t):
        held = t.lock_sweep(sweep.id)
        t.set_run_counts(sweep.id, run_count=held.run_count + 1, retry_count=0)

    errors = []

    def work():
        try:
            for _ in range(10):
                any_store.transact(bump)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert read(any_store, lambda t: t.sweep(sweep.id)).run_count == 40


def test_what_a_claim_reads_and_writes_at_once(any_store):
    """The sweep locked with whether its claim key was used, and the counts with the new run: what a
    claim reads first and writes last, in one statement each on PostgreSQL."""
    sweep = a_sweep(any_store)
    agent = an_agent(any_store, sweep.id)
    locked, earlier = write(any_store, lambda t: t.lock_sweep_for_claim(sweep.id, "k1"))
    assert (locked.id, earlier) == (sweep.id, None)
    new = NewRun(new_id(), sweep.id, 1, None, "r1", {"i": 1}, agent_id=agent, claim_key="k1")
    run = write(any_store, lambda t: t.insert_counted_run(new, run_count=1, retry_count=0))
    assert (run.id, run.state, run.claim_key, run.agent_id) == (new.id, RUNNING, "k1", agent)
    counted = read(any_store, lambda t: t.sweep(sweep.id))
    assert (counted.run_count, counted.retry_count) == (1, 0)
    assert write(any_store, lambda t: t.lock_sweep_for_claim(sweep.id, "k1"))[1].id == run.id
    # The key's run is found even for a sweep that is not there (as when it was read first).
    assert write(any_store, lambda t: t.lock_sweep_for_claim("no-such-sweep", "k1"))[1].id == run.id
    with pytest.raises(NotFoundError):
        write(any_store, lambda t: t.lock_sweep_for_claim("no-such-sweep", "k2"))
    # An unknown agent: NotFoundError, and nothing counted.
    bad = NewRun(new_id(), sweep.id, 2, None, "r2", {"i": 2}, agent_id="no-such-agent", claim_key="k2")
    with pytest.raises(NotFoundError):
        write(any_store, lambda t: t.insert_counted_run(bad, run_count=2, retry_count=1))
    assert read(any_store, lambda t: t.sweep(sweep.id)).run_count == 1


def test_the_next_queued_run_is_found_through_an_index_not_by_walking_the_sweep(tmp_path):
    """At every claim the store looks for the sweep's first queued run: SQLite must find it in the index
    on (sweep, state, number), not walk every run of the sweep in number order (5 ms at 10,000 runs)."""
    from sweepkit.store import statements

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        compiled = statements.next_queued_run.params(sweep_id="some-sweep").compile(
            dialect=store._engine.dialect, compile_kwargs={"literal_binds": True}
        )
        with store._engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").fetchall()
    finally:
        store.close()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_runs_sweep_id_state_number (sweep_id=? AND state=?)" in details, details
    assert "TEMP B-TREE" not in details  # no sort either
