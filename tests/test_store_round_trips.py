"""What a PostgreSQL store sends the server for a claim, and how it gets over a dropped connection
now that pooled connections are not pinged before each transaction (issue 29: a claim's round trips).

On a private PostgreSQL server (``private_postgres``): these tests restart it, terminate its
connections and turn on its statement log, none of which may happen to the shared test server.
"""

from __future__ import annotations

import os
import re
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from sweepkit.errors import StoreUnavailable
from sweepkit.runs import RunState
from sweepkit.service.local import LocalSweepService
from sweepkit.service.types import LogBatch
from sweepkit.store import NewSweep, new_id, open_store

pytestmark = pytest.mark.postgres

RANDOM_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}},
}
GRID_CONFIG = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"i": {"values": list(range(50))}},
}


@pytest.fixture(scope="module")
def private_pg():
    from private_postgres import PrivatePostgres

    why = PrivatePostgres.unavailable()
    if why is not None:
        if os.environ.get("SWEEPKIT_REQUIRE_ROOT_FAULTS") or os.environ.get("CI"):
            pytest.fail(f"a private PostgreSQL must run here (SWEEPKIT_REQUIRE_ROOT_FAULTS): {why}")
        pytest.skip(why)
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(private_pg):
    """A fresh database on the private server for this test."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(private_pg.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return private_pg.url.rsplit("/", 1)[0] + "/" + name


def _admin(server, sql: str, *params) -> list:
    with psycopg.connect(server.url, autocommit=True) as admin:
        cur = admin.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _new_sweep(store, config=RANDOM_CONFIG) -> str:
    return store.transact(lambda t: t.insert_sweep(NewSweep(new_id(), None, None, None, config))).id


def test_a_transaction_after_a_restart_runs_again_on_a_new_connection_without_a_word(private_pg, pg_url):
    store = open_store(pg_url)
    said: list[str] = []
    store.on_wait = said.append
    try:
        sweep_id = _new_sweep(store)  # the pool now holds a connection, which the restart drops
        private_pg.stop("fast")
        private_pg.start()
        calls = []

        def read(t):
            calls.append(1)
            return t.sweep(sweep_id)

        assert store.transact(read, write=False).id == sweep_id
        assert len(calls) == 2  # the dropped connection's try, then one on a new connection
        assert said == []  # nothing to wait for: no "busy or unreachable" message
    finally:
        store.close()


def test_a_server_that_stays_down_is_still_unreachable(private_pg, pg_url, monkeypatch):
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "1")
    store = open_store(pg_url)
    said: list[str] = []
    store.on_wait = said.append
    try:
        sweep_id = _new_sweep(store)
        private_pg.stop("fast")
        try:
            with pytest.raises(StoreUnavailable, match=r"retried for 1 s, SWEEPKIT_STORE_RETRY\)$"):
                store.transact(lambda t: t.sweep(sweep_id), write=False)
        finally:
            private_pg.start()
        assert len(said) == 1 and "is busy or unreachable" in said[0]
        assert store.transact(lambda t: t.sweep(sweep_id), write=False).id == sweep_id
    finally:
        store.close()


def test_a_connection_lost_in_the_middle_of_a_claim_claims_one_run(private_pg, pg_url):
    """The server drops the claim's connection just before the claim inserts its run: the claim runs
    again on a new connection and hands out one run; the first try's writes were never committed."""
    service = LocalSweepService(open_store(pg_url))
    said: list[str] = []
    service.store.on_wait = said.append
    engine = service.store._engine
    try:
        sweep_id = _new_sweep(service.store)
        agent = service.register_agent(sweep_id, host="test", pid=1)
        dropped = []

        @event.listens_for(engine, "before_cursor_execute")
        def drop_once(conn, cursor, statement, parameters, context, executemany):
            if "INSERT INTO runs" in statement and not dropped:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                dropped.append(pid)
                _admin(private_pg, "SELECT pg_terminate_backend(%s)", pid)

        claim = service.claim_run(sweep_id, agent, "claim-1")
        event.remove(engine, "before_cursor_execute", drop_once)
        assert dropped and claim.assignment is not None
        runs = service.store.transact(lambda t: t.runs(sweep_id), write=False)
        assert [r.id for r in runs] == [claim.assignment.run_id]
        assert service.store.transact(lambda t: t.sweep(sweep_id), write=False).run_count == 1
        assert said == []
    finally:
        service.close()


# --- round trips -------------------------------------------------------------------------------------

_LOGGED = re.compile(r"LOG:\s+(?:statement|execute [^:]*):\s*(.*)")


def _claim_statements(server, service, sweep_id: str, agent: str) -> list[str]:
    """What the server received while ``service`` claimed a run (then logged and finished it, unseen)."""
    start = server.log.stat().st_size
    claim = service.claim_run(sweep_id, agent, uuid.uuid4().hex)
    time.sleep(0.2)  # the server's log lines of the claim are written before its answers; to be sure
    text = server.log.read_bytes()[start:].decode(errors="replace")
    run_id = claim.assignment.run_id
    service.log(run_id, LogBatch(seq=1, rows=[{"_step": 0, "loss": 1.0}]))
    service.finish_run(run_id, RunState.FINISHED, exit_code=0)
    return [m.group(1).strip() for m in _LOGGED.finditer(text)]


@pytest.fixture
def statement_log(private_pg):
    _admin(private_pg, "ALTER SYSTEM SET log_statement = 'all'")
    _admin(private_pg, "SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        yield private_pg
    finally:
        _admin(private_pg, "ALTER SYSTEM RESET log_statement")
        _admin(private_pg, "SELECT pg_reload_conf()")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # BEGIN, the sweep locked (and whether its claim key was used), a queued run, the run count with
        # the new run, COMMIT
        (RANDOM_CONFIG, 5),
        # grid also reads, in one statement, the runs ended since its last claim and the live runs
        (GRID_CONFIG, 6),
    ],
    ids=["random", "grid"],
)
def test_a_claim_sends_no_ping_and_a_fixed_number_of_statements(statement_log, pg_url, config, expected):
    service = LocalSweepService(open_store(pg_url))
    try:
        sweep_id = _new_sweep(service.store, config)
        agent = service.register_agent(sweep_id, host="test", pid=1)
        for _ in range(2):  # the first claims read the whole sweep and mark silent runs crashed
            _claim_statements(statement_log, service, sweep_id, agent)
        sent = _claim_statements(statement_log, service, sweep_id, agent)
        assert sent[0] == "BEGIN" and sent[-1] == "COMMIT", sent
        assert ";" not in sent and not any(s.lower().startswith("select 1") for s in sent), sent
        assert len(sent) == expected, sent
    finally:
        service.close()


def test_the_engine_has_no_pre_ping(pg_url):
    store = open_store(pg_url)
    try:
        assert isinstance(store._engine, sa.Engine) and not store._engine.pool._pre_ping
    finally:
        store.close()
