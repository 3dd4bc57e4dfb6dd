"""The store: sweeps, agents, runs and their history in SQLite or PostgreSQL, one short transaction
per operation.

Only the local sweep service (``sweepkit.service.local``) uses it. Simple operations are methods
here; the service composes its decisions (claiming a run, logging with hyperband) from the
operations of a ``Tx`` inside one ``Store.transact`` call.

Faults: a busy or unreachable store (SQLite lock held by another process, PostgreSQL restarting) is
retried with backoff for ``SWEEPKIT_STORE_RETRY`` seconds (default 300) before ``StoreUnavailable``
is raised; a store that was deleted or replaced under the process raises ``StoreGone`` at once and
is never re-created. Lock order, to keep PostgreSQL free of deadlocks: the sweep row first (``SELECT
... FOR UPDATE``), then run rows.
"""

from __future__ import annotations

import json
import random
import secrets
import string
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from sweepkit import env
from sweepkit.errors import NotFoundError, StoreError, StoreGone, StoreUnavailable
from sweepkit.runs import TERMINAL_STATES, RunState, SweepState
from sweepkit.store import engine as _engine
from sweepkit.store import statements as sql
from sweepkit.store.migrate import NewerStoreError, ensure_schema, has_schema
from sweepkit.store.records import RunRecord, SweepRecord
from sweepkit.store.schema import agents, history, runs, sweeps
from sweepkit.store.sqltypes import utcnow
from sweepkit.store.transaction import Tx, exists, run_record, sweep_record
from sweepkit.values import logged_data

T = TypeVar("T")

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 8
_DEADLOCK_RETRIES = 5
_NOT_TERMINAL = sorted(s.value for s in RunState if s not in TERMINAL_STATES)


def new_id() -> str:
    """A fresh id: 8 random lowercase letters and digits, like W&B's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open the store at ``url``: a database URL, a SQLite file path, or None.

    None means ``$SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` under the current directory.
    ``create=False`` never creates anything: a missing SQLite file, or a database without sweepkit's
    tables, is a ``NotFoundError`` (an older schema is still upgraded).
    """
    location = _engine.locate(url)
    engine = _engine.create_engine(location, create=create)
    write_engine = _engine.writer(engine)
    try:
        if not create and not location.is_memory and not has_schema(engine):
            raise NotFoundError(
                f"no sweepkit store in {location.display} (it holds no sweepkit tables; point at another "
                f"with --db, {env.STORE} or SWEEPKIT_URL)"
            )
        ensure_schema(engine, write_engine)
    except NewerStoreError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open store {location.display}: it was written by a newer sweepkit "
            f"(schema revision {exc.revision!r}); upgrade sweepkit to use it"
        ) from None
    except (sa.exc.DBAPIError, sa.exc.NoSuchModuleError, ImportError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open store {location.display}: {_engine.describe_error(exc)}") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, location)


class Store:
    """A sweepkit store: the one object that reads and writes the database."""

    def __init__(self, engine: sa.Engine, location: _engine.StoreLocation) -> None:
        self._engine = engine
        self._write_engine = _engine.writer(engine)
        self._location = location
        #: The store's URL for people: password masked.
        self.url: str = location.display
        #: A URL that ``open_store`` accepts for this same store (password included: never print it).
        self.connect_url: str = location.connect_url
        #: "sqlite" or "postgresql".
        self.backend: str = location.backend
        # An in-memory SQLite store is one connection: threads take turns (a file store needs no lock).
        self._memory_lock = threading.RLock() if location.is_memory else None
        path = location.path
        self._file = _engine.FileIdentity(path, self.url) if path is not None else None
        #: Called with one sentence when an operation starts waiting for a busy or unreachable store.
        self.on_wait: Callable[[str], None] = _say_on_stderr

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def close(self) -> None:
        """Release the store's connections (the Store must not be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions ---------------------------------------------------------------------------

    def transact(self, fn: Callable[[Tx], T], *, write: bool = True, durable: bool = True) -> T:
        """Run ``fn(tx)`` in one transaction, retried as the module docstring says.

        ``durable=False`` (heartbeats, logged rows) lets PostgreSQL confirm the commit before its WAL
        reaches the disk: a server crash may lose the last fraction of a second of them (the client
        sends them again: batches are idempotent), never consistency.
        """
        engine = self._write_engine if write else self._engine
        relaxed = not durable and self.backend == "postgresql"
        if self._memory_lock is not None:
            with self._memory_lock, engine.begin() as conn:
                return fn(Tx(conn, self.url))
        deadline: float | None = None
        waited = False
        delay = 0.05
        deadlocks = 0
        while True:
            if self._file is not None:
                self._file.check()
            try:
                with engine.begin() as conn:
                    if relaxed:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    result = fn(Tx(conn, self.url))
                if waited:
                    self.on_wait(f"store {self.url} answers again")
                return result
            except sa.exc.DBAPIError as exc:
                if _engine.is_retryable(exc) and deadlocks < _DEADLOCK_RETRIES:
                    deadlocks += 1
                    continue
                if self._file is not None:
                    self._file.check()  # a vanished file explains the error better
                if _engine.is_gone(exc):
                    raise StoreGone(
                        f"store {self.url} lost its tables or database while in use "
                        f"({_engine.describe_error(exc)}); nothing more is written"
                    ) from exc
                if not _engine.is_transient(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + env.store_retry_s()
                if now >= deadline:
                    raise StoreUnavailable(
                        f"store {self.url}: {_engine.describe_error(exc)} "
                        f"(retried for {env.store_retry_s():g} s, {env.STORE_RETRY})"
                    ) from exc
                if not waited:
                    waited = True
                    self.on_wait(
                        f"store {self.url} is busy or unreachable ({_engine.describe_error(exc)}); "
                        f"retrying for up to {env.store_retry_s():g} s"
                    )
                time.sleep(min(delay * (0.5 + random.random()), max(0.0, deadline - now)))
                delay = min(delay * 2, 5.0)

    # --- sweeps ---------------------------------------------------------------------------------

    def create_sweep(
        self,
        config: Mapping[str, Any],
        *,
        project: str | None,
        entity: str | None,
        name: str | None,
        source: str | None = None,
    ) -> SweepRecord:
        """Record a new sweep in state "running" (``source``: its config as written)."""
        values = {
            "source": source,
            "id": new_id(),
            "project": project,
            "entity": entity,
            "name": name,
            "state": SweepState.RUNNING.value,
            "config": dict(config),
            "finished_reason": None,
            "run_count": 0,
            "retry_count": 0,
        }

        def tx(t: Tx) -> SweepRecord:
            stmt = (
                sa.insert(sweeps)
                .values(created_at=utcnow(), updated_at=utcnow(), **values)
                .returning(*sweeps.c)
            )
            return sweep_record(t.conn.execute(stmt).one())

        return self.transact(tx)

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        return self.transact(lambda t: t.sweep(sweep_id), write=False)

    def list_sweeps(self, project: str | None = None) -> list[SweepRecord]:
        """Every sweep (of ``project`` if given), newest first."""
        order = [sweeps.c.created_at.desc(), *(key.desc() for key in self._insertion_order(sweeps))]
        stmt = sa.select(sweeps).order_by(*order)
        if project is not None:
            stmt = stmt.where(sweeps.c.project == project)
        return self.transact(lambda t: [sweep_record(r) for r in t.conn.execute(stmt)], write=False)

    def run_counts(self, sweep_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """How many runs each sweep has in each state."""
        if not sweep_ids:
            return {}
        stmt = (
            sa.select(runs.c.sweep_id, runs.c.state, sa.func.count())
            .where(runs.c.sweep_id.in_(list(sweep_ids)))
            .group_by(runs.c.sweep_id, runs.c.state)
        )

        def tx(t: Tx) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {sid: {} for sid in sweep_ids}
            for sid, state, count in t.conn.execute(stmt):
                out[sid][state] = count
            return out

        return self.transact(tx, write=False)

    def update_sweep(self, sweep_id: str, **values: Any) -> SweepRecord:
        """Set sweep columns (``state``, ``finished_reason``, ``config``)."""
        return self.transact(lambda t: t.update_sweep(sweep_id, **values))

    def cancel_sweep(self, sweep_id: str, reason: str) -> SweepRecord:
        """Mark the sweep cancelled, end its queued runs and ask every active run of it to stop, in one
        transaction."""

        def tx(t: Tx) -> SweepRecord:
            sweep = t.lock_sweep(sweep_id)
            if sweep.state != SweepState.CANCELLED:
                sweep = t.update_sweep(sweep_id, state=SweepState.CANCELLED.value, finished_reason=reason)
            t.conn.execute(
                sa.update(runs)
                .where(runs.c.sweep_id == sweep_id, runs.c.state == RunState.PENDING.value)
                .values(state=RunState.KILLED.value, finished_at=utcnow(), stop_reason="sweep cancelled")
            )
            active = runs.c.state.in_(sql.ACTIVE)
            t.conn.execute(
                sa.update(runs)
                .where(runs.c.sweep_id == sweep_id, active, runs.c.stop_requested.is_(False))
                .values(stop_requested=True, stop_reason="sweep cancelled")
            )
            return sweep

        return self.transact(tx)

    # --- agents ---------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str | None, *, host: str, pid: int) -> str:
        """Record an agent working on ``sweep_id``; returns its id."""
        agent_id = new_id()

        def tx(t: Tx) -> str:
            if sweep_id is not None and not exists(t.conn, sweeps, sweep_id):
                raise t.no_sweep(sweep_id)
            t.conn.execute(
                sa.insert(agents).values(
                    id=agent_id,
                    sweep_id=sweep_id,
                    host=host[:255],
                    pid=int(pid),
                    state="running",
                    created_at=utcnow(),
                    heartbeat_at=utcnow(),
                    finished_at=None,
                )
            )
            return agent_id

        return self.transact(tx)

    def heartbeat(
        self, agent_id: str, run_ids: Sequence[str]
    ) -> list[tuple[str, RunState, bool, str | None]]:
        """Note that the agent and its active runs are alive (database clock); each run's
        ``(id, state, stop_requested, stop_reason)``. A run heard from after it was reaped as crashed
        is running again."""

        def tx(t: Tx) -> list[tuple[str, RunState, bool, str | None]]:
            found = t.conn.execute(
                sa.update(agents).where(agents.c.id == agent_id).values(heartbeat_at=utcnow())
            ).rowcount
            if not found:
                raise NotFoundError(f"no agent {agent_id!r} in {self.url}")
            if not run_ids:
                return []
            ids = list(run_ids)
            t.revive(ids)
            t.conn.execute(sql.heartbeat_runs, {"run_ids": ids})
            rows = {r.id: r for r in t.conn.execute(sql.run_controls, {"run_ids": ids})}
            out = []
            for run_id in ids:
                row = rows.get(run_id)
                if row is None:
                    raise t.no_run(run_id)
                out.append((run_id, RunState(row.state), bool(row.stop_requested), row.stop_reason))
            return out

        return self.transact(tx, durable=False)

    def agent_finished(self, agent_id: str) -> None:
        def tx(t: Tx) -> None:
            t.conn.execute(
                sa.update(agents)
                .where(agents.c.id == agent_id)
                .values(state="finished", finished_at=utcnow(), heartbeat_at=utcnow())
            )

        self.transact(tx)

    def live_agents(self, sweep_ids: Sequence[str], *, timeout_s: float) -> dict[str, int]:
        """How many agents of each sweep are running and heard from within ``timeout_s``."""
        if not sweep_ids:
            return {}

        def tx(t: Tx) -> dict[str, int]:
            cutoff = t.db_now() - timedelta(seconds=float(timeout_s))
            stmt = (
                sa.select(agents.c.sweep_id, sa.func.count())
                .where(
                    agents.c.sweep_id.in_(list(sweep_ids)),
                    agents.c.state == "running",
                    agents.c.heartbeat_at >= cutoff,
                )
                .group_by(agents.c.sweep_id)
            )
            return {sid: count for sid, count in t.conn.execute(stmt)}

        return self.transact(tx, write=False)

    # --- runs -----------------------------------------------------------------------------------

    def create_run(
        self, *, project: str | None, name: str | None, config: Mapping[str, Any] | None
    ) -> RunRecord:
        """Record a run started outside an agent (``init()`` on its own), in state "running"."""

        def tx(t: Tx) -> RunRecord:
            run_id = new_id()
            return t.insert_run(
                run_id=run_id,
                sweep_id=None,
                number=None,
                project=project,
                name=name if name is not None else f"run-{run_id}",
                params={},
                config=None if config is None else dict(config),
                agent_id=None,
                suggestion_info={},
                claim_key=None,
            )

        return self.transact(tx)

    def get_run(self, run_id: str) -> RunRecord:
        return self.transact(lambda t: t.run(run_id), write=False)

    def list_runs(
        self,
        sweep_id: str,
        *,
        states: Sequence[RunState] | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """The sweep's runs in run-number order, after run number ``after``, at most ``limit``."""
        stmt = sa.select(runs).where(runs.c.sweep_id == sweep_id)
        if states:
            stmt = stmt.where(runs.c.state.in_([RunState(s).value for s in states]))
        if after is not None:
            stmt = stmt.where(runs.c.number > after)
        stmt = stmt.order_by(runs.c.number, runs.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)

        def tx(t: Tx) -> list[RunRecord]:
            if not exists(t.conn, sweeps, sweep_id):
                raise t.no_sweep(sweep_id)
            return [run_record(r) for r in t.conn.execute(stmt)]

        return self.transact(tx, write=False)

    def history(
        self, run_id: str, *, after: int | None = None, limit: int = 1000
    ) -> list[tuple[int, dict[str, Any]]]:
        """``(step, row)`` of the run's logged rows after step ``after``, in step order, at most ``limit``."""
        stmt = sa.select(history.c.step, history.c.data).where(history.c.run_id == run_id)
        if after is not None:
            stmt = stmt.where(history.c.step > after)
        stmt = stmt.order_by(history.c.step).limit(limit)

        def tx(t: Tx) -> list[tuple[int, dict[str, Any]]]:
            rows = [(int(step), dict(data)) for step, data in t.conn.execute(stmt)]
            if not rows and not exists(t.conn, runs, run_id):
                raise t.no_run(run_id)
            return rows

        return self.transact(tx, write=False)

    def run_output(self, run_id: str) -> tuple[str, str, int]:
        """What the run printed, as kept: (head, tail, size of everything)."""
        return self.transact(lambda t: t.output(run_id), write=False)

    def metric_series(
        self, run_ids: Sequence[str], key: str, after: Mapping[str, int] | None = None
    ) -> dict[str, list[tuple[int, Any]]]:
        """``(step, value)`` of each run's rows holding ``key`` (after its step in ``after``), in step
        order, read in a few statements for many runs (only that key is extracted from each row)."""
        after = after or {}
        out: dict[str, list[tuple[int, Any]]] = {run_id: [] for run_id in run_ids}
        ids = list(out)

        sqlite = self.backend == "sqlite"
        if sqlite:  # numbers come out of SQLite as numbers: no JSON text to decode for each of them
            path = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
            value_columns = [
                sa.func.json_type(history.c.data, path),
                sa.func.json_extract(history.c.data, path),
            ]
        else:
            value_columns = [history.c.data[key]]

        def tx(t: Tx) -> None:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                stmt = (
                    sa.select(history.c.run_id, history.c.step, *value_columns)
                    .where(history.c.run_id.in_(chunk))
                    .order_by(history.c.run_id, history.c.step)
                )
                for run_id, step, *found in t.conn.execute(stmt):
                    value = _sqlite_json_value(*found) if sqlite else found[0]
                    if value is not None and step > after.get(run_id, -1):
                        out[run_id].append((int(step), value))

        self.transact(tx, write=False)
        return out

    def finish_run(
        self, run_id: str, state: RunState, *, exit_code: int | None = None, error: str | None = None
    ) -> tuple[RunRecord, SweepRecord | None]:
        """End a run in a terminal state; returns the run and its sweep. Idempotent: a run that has
        ended keeps its state (a run reaped as crashed while its agent was cut off takes the state
        its agent reports)."""
        state = RunState(state)
        if state not in TERMINAL_STATES:
            raise ValueError(f"finish_run needs a terminal state, not {state.value!r}")
        open_states = [*_NOT_TERMINAL, RunState.CRASHED.value]

        def tx(t: Tx) -> tuple[RunRecord, SweepRecord | None]:
            row = t.conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.state.in_(open_states))
                .values(state=state.value, finished_at=utcnow(), exit_code=exit_code, error=error)
                .returning(*runs.c)
            ).first()
            run = run_record(row) if row is not None else t.run(run_id)
            return run, (t.sweep(run.sweep_id) if run.sweep_id is not None else None)

        return self.transact(tx)

    def reap_crashed(self, sweep_id: str, *, timeout_s: float) -> list[str]:
        """Mark "crashed" every running run of the sweep silent for more than ``timeout_s`` (database
        clock, so agents on machines with skewed clocks agree); returns their ids."""

        def tx(t: Tx) -> list[str]:
            t.lock_sweep(sweep_id)
            return t.reap_crashed(sweep_id, timeout_s)

        return sorted(self.transact(tx))

    # --- plumbing -------------------------------------------------------------------------------

    def _insertion_order(self, table: sa.Table) -> list[sa.ColumnElement]:
        """Tie-breakers for rows created within one clock tick (SQLite's clock counts milliseconds)."""
        if self.backend == "sqlite":
            return [sa.literal_column(f"{table.name}.rowid")]
        return [table.c.id]


def _sqlite_json_value(kind: str | None, value: Any) -> Any:
    """A value that SQLite's ``json_type`` and ``json_extract`` gave, as logged (None: not there)."""
    if kind in ("real", "integer"):
        return value
    if kind == "text":
        return logged_data(value)  # "NaN", "Infinity", "-Infinity" are floats that were stored as text
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("array", "object"):
        return logged_data(json.loads(value))
    return None


def _say_on_stderr(message: str) -> None:
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)
