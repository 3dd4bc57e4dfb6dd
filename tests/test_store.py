"""The store itself: where it lives, how it opens (and never re-creates), its faults, its migrations.

What the store does for sweeps and runs is tested through the sweep service (tests/test_service.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from sweepkit.errors import NotFoundError, StoreError, StoreGone, StoreUnavailable, SweepkitError
from sweepkit.store import open_store
from sweepkit.store.engine import locate

GRID_CONFIG = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": [0, 1, 2]}},
}


def new_sweep(store):
    return store.create_sweep(GRID_CONFIG, project=None, entity=None, name=None)


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
        assert store.list_sweeps() == []


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
            store.get_sweep(sweep.id)
    assert not path.exists()


def test_a_replaced_store_file_is_noticed(tmp_path):
    path = tmp_path / "s.db"
    store = open_store(str(path))
    new_sweep(store)
    path.rename(tmp_path / "old.db")
    open_store(str(path)).close()  # someone makes a new, empty store at the same place
    with pytest.raises(StoreGone, match="was replaced by another file while in use"):
        store.list_sweeps()
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
    assert store.get_sweep(sweep.id).id == sweep.id
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
    service.close()


def test_a_store_from_a_newer_sweepkit_is_refused(store_url):
    open_store(store_url).close()
    engine = sa.create_engine(locate(store_url).url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="written by a newer sweepkit .schema revision '9999'."):
        open_store(store_url)
