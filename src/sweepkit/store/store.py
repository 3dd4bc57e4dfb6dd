"""The store's operations: sweeps, agents, claiming runs, logging, heartbeats, stops and queries.

Every operation is one short transaction. Lock order, to keep PostgreSQL free of deadlocks: the sweep
row first (``SELECT ... FOR UPDATE``), then run rows; a transaction that changes several runs holds
their sweep's lock. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``, which takes the
database's single write lock, so writers simply queue (busy timeout) and the same order holds.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from numbers import Integral
from typing import Any, TypeVar

import sqlalchemy as sa

from sweepkit.errors import NotFoundError, SweepkitError
from sweepkit.runs import ACTIVE_STATES, TERMINAL_STATES, MetricStats, RunState, RunView
from sweepkit.search.base import Finished, Suggestion
from sweepkit.store import engine as _engine
from sweepkit.store import statements as sql
from sweepkit.store.metric_log import fold_rows, metric_params, steps_maybe_stored
from sweepkit.store.migrate import NewerStoreError, ensure_schema
from sweepkit.store.records import (
    CLAIMED,
    SWEEP_FINISHED,
    SWEEP_RUNNING,
    SWEEP_STATES,
    ClaimResult,
    LogResult,
    RunControl,
    RunRecord,
    StopRequest,
    SweepRecord,
)
from sweepkit.store.run_views import LazyRunViews, load_views
from sweepkit.store.schema import agents, history, runs, sweeps
from sweepkit.store.sqltypes import as_utc, utcnow

T = TypeVar("T")

#: ``plan(sweep, runs)`` decides the next run of a sweep (a search method bound to its config).
Plan = Callable[[SweepRecord, list[RunView]], "Suggestion | Finished"]
#: ``stop_check(sweep, this_run, load_runs)`` returns the runs to stop (a stopping rule).
StopCheck = Callable[[SweepRecord, RunView, Callable[[], list[RunView]]], "Iterable[StopRequest] | None"]

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 8
_RETRIES = 3
_ACTIVE = sorted(s.value for s in ACTIVE_STATES)
_NOT_TERMINAL = sorted(s.value for s in RunState if s not in TERMINAL_STATES)


def new_id() -> str:
    """A fresh id: 8 random lowercase letters and digits, like W&B's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def open_store(url: str | None = None) -> Store:
    """Open (and create or upgrade) the store at ``url``: a database URL, a SQLite file path, or None.

    None means ``$SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` under the current directory.
    ``postgres://`` and ``postgresql://`` URLs use the psycopg 3 driver.
    """
    location = _engine.locate(url)
    engine = _engine.create_engine(location)
    write_engine = _engine.writer(engine)
    try:
        ensure_schema(engine, write_engine)
    except NewerStoreError as exc:
        engine.dispose()
        raise _engine.StoreError(
            f"cannot open store {location.display}: it was written by a newer sweepkit "
            f"(schema revision {exc.revision!r}); upgrade sweepkit to use it"
        ) from None
    except (sa.exc.DBAPIError, sa.exc.NoSuchModuleError, ImportError) as exc:
        engine.dispose()
        raise _engine.StoreError(
            f"cannot open store {location.display}: {_engine.describe_error(exc)}"
        ) from exc
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

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def close(self) -> None:
        """Release the store's connections (the Store must not be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- sweeps ---------------------------------------------------------------------------------

    def create_sweep(
        self,
        config: Mapping[str, Any],
        *,
        project: str | None = None,
        entity: str | None = None,
        name: str | None = None,
    ) -> SweepRecord:
        """Record a new sweep (state "running"). Project, entity and name default to the config's."""
        config = dict(config)
        project = project if project is not None else _text_or_none(config.get("project"))
        entity = entity if entity is not None else _text_or_none(config.get("entity"))
        name = name if name is not None else _text_or_none(config.get("name"))

        def tx(conn: sa.Connection) -> SweepRecord:
            stmt = (
                sa.insert(sweeps)
                .values(
                    id=new_id(),
                    project=project,
                    entity=entity,
                    name=name,
                    state=SWEEP_RUNNING,
                    config=config,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                    finished_reason=None,
                    run_count=0,
                )
                .returning(*sweeps.c)
            )
            return _sweep_record(conn.execute(stmt).one())

        return self._transact(tx)

    def get_sweep(self, sweep_id: str, project: str | None = None, entity: str | None = None) -> SweepRecord:
        """The sweep ``sweep_id``; NotFoundError if missing or in another project/entity than given.

        A sweep recorded without a project (or entity) matches any project (or entity) asked for.
        """

        def tx(conn: sa.Connection) -> SweepRecord:
            row = conn.execute(sa.select(sweeps).where(sweeps.c.id == sweep_id)).first()
            if row is None:
                raise self._no_sweep(sweep_id)
            return _sweep_record(row)

        record = self._transact(tx, write=False)
        if project is not None and record.project is not None and record.project != project:
            raise NotFoundError(f"no sweep {sweep_id!r} in project {project!r} in {self.url}")
        if entity is not None and record.entity is not None and record.entity != entity:
            raise NotFoundError(f"no sweep {sweep_id!r} in entity {entity!r} in {self.url}")
        return record

    def list_sweeps(self, project: str | None = None) -> list[SweepRecord]:
        """Every sweep (of ``project`` if given), newest first."""
        order = [sweeps.c.created_at.desc(), *(key.desc() for key in self._insertion_order(sweeps))]
        stmt = sa.select(sweeps).order_by(*order)
        if project is not None:
            stmt = stmt.where(sweeps.c.project == project)
        return self._transact(lambda conn: [_sweep_record(r) for r in conn.execute(stmt)], write=False)

    def set_sweep_state(self, sweep_id: str, state: str, reason: str | None = None) -> SweepRecord:
        """Set the sweep's state (one of ``SWEEP_STATES``) and the reason shown for it."""
        if state not in SWEEP_STATES:
            raise ValueError(f"unknown sweep state {state!r}; expected one of {', '.join(SWEEP_STATES)}")
        return self._update_sweep(sweep_id, state=state, finished_reason=reason)

    def update_sweep_config(self, sweep_id: str, config: Mapping[str, Any]) -> SweepRecord:
        """Replace the sweep's config (``sweepkit sweep --update``)."""
        return self._update_sweep(sweep_id, config=dict(config))

    def _update_sweep(self, sweep_id: str, **values: Any) -> SweepRecord:
        def tx(conn: sa.Connection) -> SweepRecord:
            stmt = (
                sa.update(sweeps)
                .where(sweeps.c.id == sweep_id)
                .values(updated_at=utcnow(), **values)
                .returning(*sweeps.c)
            )
            row = conn.execute(stmt).first()
            if row is None:
                raise self._no_sweep(sweep_id)
            return _sweep_record(row)

        return self._transact(tx)

    # --- agents ---------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str | None, *, host: str, pid: int) -> str:
        """Record an agent working on ``sweep_id``; returns its id (for ``claim_run`` and heartbeats)."""
        agent_id = new_id()

        def tx(conn: sa.Connection) -> str:
            if sweep_id is not None and not _exists(conn, sweeps, sweep_id):
                raise self._no_sweep(sweep_id)
            conn.execute(
                sa.insert(agents).values(
                    id=agent_id,
                    sweep_id=sweep_id,
                    host=host,
                    pid=int(pid),
                    state="running",
                    created_at=utcnow(),
                    heartbeat_at=utcnow(),
                    finished_at=None,
                )
            )
            return agent_id

        return self._transact(tx)

    def agent_heartbeat(self, agent_id: str) -> None:
        """Note that the agent is alive (database clock)."""
        self._update_agent(agent_id, durable=False, heartbeat_at=utcnow())

    def agent_finished(self, agent_id: str) -> None:
        """Note that the agent has stopped."""
        self._update_agent(agent_id, state="finished", finished_at=utcnow(), heartbeat_at=utcnow())

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """The agent's record as a plain dict (id, sweep_id, host, pid, state, timestamps)."""

        def tx(conn: sa.Connection) -> dict[str, Any]:
            row = conn.execute(sa.select(agents).where(agents.c.id == agent_id)).first()
            if row is None:
                raise NotFoundError(f"no agent {agent_id!r} in {self.url}")
            return dict(row._mapping)

        return self._transact(tx, write=False)

    def _update_agent(self, agent_id: str, *, durable: bool = True, **values: Any) -> None:
        def tx(conn: sa.Connection) -> None:
            result = conn.execute(sa.update(agents).where(agents.c.id == agent_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no agent {agent_id!r} in {self.url}")

        self._transact(tx, durable=durable)

    # --- claiming runs --------------------------------------------------------------------------

    def claim_run(self, sweep_id: str, agent_id: str | None, plan: Plan) -> ClaimResult:
        """Hand out the sweep's next run, in one transaction holding the sweep's row lock.

        Not running -> ``ClaimResult(None, <sweep state>, <reason>)``. Otherwise ``plan(sweep, runs)``
        sees every run of the sweep (a sequence read on first use, valid only during the call) and returns a ``Suggestion`` (a new run is recorded, status
        "claimed") or ``Finished`` (the sweep becomes "finished" with that reason). If ``plan``
        raises, nothing is written and the exception propagates.
        """

        def tx(conn: sa.Connection) -> ClaimResult:
            sweep = self._lock_sweep(conn, sweep_id)
            if sweep.state != SWEEP_RUNNING:
                return ClaimResult(None, sweep.state, sweep.finished_reason)
            outcome = plan(
                sweep, LazyRunViews(conn, sweep_id, (sweep.config.get("metric") or {}).get("name"))
            )
            if isinstance(outcome, Finished):
                conn.execute(
                    sa.update(sweeps)
                    .where(sweeps.c.id == sweep_id)
                    .values(state=SWEEP_FINISHED, finished_reason=outcome.reason, updated_at=utcnow())
                )
                return ClaimResult(None, SWEEP_FINISHED, outcome.reason)
            if not isinstance(outcome, Suggestion):
                raise TypeError(f"a plan must return Suggestion or Finished, not {type(outcome).__name__}")
            number = sweep.run_count + 1
            run = self._insert_run(
                conn,
                sweep_id=sweep_id,
                number=number,
                project=sweep.project,
                name=f"{sweep.name or sweep.id}-{number}",
                params=dict(outcome.params),
                config=None,
                agent_id=agent_id,
                suggestion_info=dict(outcome.info or {}),
            )
            conn.execute(sql.set_run_count, {"sweep_id": sweep_id, "run_count": number})
            return ClaimResult(run, CLAIMED)

        try:
            return self._transact(tx)
        except sa.exc.IntegrityError:
            if agent_id is not None and not self._agent_exists(agent_id):
                raise NotFoundError(f"no agent {agent_id!r} in {self.url}") from None
            raise

    def create_run(
        self,
        *,
        project: str | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        sweep_id: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Record a run started outside an agent (``init()`` on its own), in state "running"."""

        def tx(conn: sa.Connection) -> RunRecord:
            number = None
            run_project, run_name = project, name
            if sweep_id is not None:
                sweep = self._lock_sweep(conn, sweep_id)
                number = sweep.run_count + 1
                run_project = project if project is not None else sweep.project
                run_name = name if name is not None else f"{sweep.name or sweep.id}-{number}"
            run_id = new_id()
            run = self._insert_run(
                conn,
                run_id=run_id,
                sweep_id=sweep_id,
                number=number,
                project=run_project,
                name=run_name if run_name is not None else f"run-{run_id}",
                params=dict(params or {}),
                config=None if config is None else dict(config),
                agent_id=None,
                suggestion_info={},
            )
            if number is not None:
                conn.execute(sql.set_run_count, {"sweep_id": sweep_id, "run_count": number})
            return run

        return self._transact(tx)

    def _insert_run(self, conn: sa.Connection, *, run_id: str | None = None, **values: Any) -> RunRecord:
        row = conn.execute(sql.insert_run, {"id": run_id or new_id(), **values}).one()
        return _run_record(row)

    # --- runs: queries and updates --------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord:
        """The run ``run_id`` (NotFoundError if missing)."""

        def tx(conn: sa.Connection) -> RunRecord:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                raise self._no_run(run_id)
            return _run_record(row)

        return self._transact(tx, write=False)

    def list_runs(
        self,
        sweep_id: str | None = None,
        *,
        project: str | None = None,
        states: Iterable[RunState | str] | None = None,
    ) -> list[RunRecord]:
        """Runs (of a sweep, of a project, in some states), oldest first."""
        stmt = sa.select(runs).order_by(runs.c.created_at, *self._insertion_order(runs))
        if sweep_id is not None:
            stmt = stmt.where(runs.c.sweep_id == sweep_id)
        if project is not None:
            stmt = stmt.where(runs.c.project == project)
        if states is not None:
            stmt = stmt.where(runs.c.state.in_([RunState(s).value for s in states]))
        return self._transact(lambda conn: [_run_record(r) for r in conn.execute(stmt)], write=False)

    def run_views(self, sweep_id: str) -> list[RunView]:
        """Every run of the sweep as search methods and stopping rules see them, oldest first."""
        return self._transact(lambda conn: load_views(conn, sweep_id), write=False)

    def update_run(
        self,
        run_id: str,
        *,
        config: Mapping[str, Any] | None = None,
        summary_update: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> RunRecord:
        """Replace the run's config and/or name, merge keys into its summary."""

        def tx(conn: sa.Connection) -> RunRecord:
            values: dict[str, Any] = {}
            if config is not None:
                values["config"] = dict(config)
            if name is not None:
                values["name"] = name
            if summary_update:
                row = conn.execute(
                    sa.select(runs.c.summary).where(runs.c.id == run_id).with_for_update()
                ).first()
                if row is None:
                    raise self._no_run(run_id)
                values["summary"] = {**(row.summary or {}), **summary_update}
            if values:
                stmt = sa.update(runs).where(runs.c.id == run_id).values(**values).returning(*runs.c)
            else:
                stmt = sa.select(runs).where(runs.c.id == run_id)
            row = conn.execute(stmt).first()
            if row is None:
                raise self._no_run(run_id)
            return _run_record(row)

        return self._transact(tx)

    # --- logging --------------------------------------------------------------------------------

    def log(
        self,
        run_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        metric_name: str | None = None,
        stop_check: StopCheck | None = None,
    ) -> LogResult:
        """Record logged rows of a running run, and ask ``stop_check`` about the sweep's runs.

        Each row needs an integer ``"_step"``; a step logged again merges into its row. The rows'
        values merge into the summary (last value wins), the ``metric_name`` values append to the
        metric history, and the heartbeat is refreshed. When ``stop_check`` is given and this call
        added a metric value, it runs in the same transaction with the sweep's row locked; each run
        it names that is running and not yet asked to stop is asked to stop (one decision per run).
        """
        rows = [_checked_row(run_id, row) for row in rows]
        if not rows:
            control = self.heartbeat_run(run_id)
            if control.state != RunState.RUNNING:
                raise self._not_running(run_id, control.state)
            return LogResult(control.stop_requested, control.stop_reason)
        logs_metric = metric_name is not None and any(metric_name in row for row in rows)

        def tx(conn: sa.Connection) -> LogResult:
            sweep: SweepRecord | None = None
            if stop_check is not None and logs_metric:
                sweep_id = conn.execute(sql.run_sweep_id, {"run_id": run_id}).scalar()
                if sweep_id is not None:
                    sweep = self._lock_sweep(conn, sweep_id)
            run = conn.execute(sql.run_for_log, {"run_id": run_id}).first()
            if run is None:
                raise self._no_run(run_id)
            if run.state != RunState.RUNNING.value:
                raise self._not_running(run_id, RunState(run.state))

            stored: dict[int, dict[str, Any]] = {}
            maybe_stored = steps_maybe_stored(rows, run.last_step)
            if maybe_stored:
                found = conn.execute(sql.stored_history, {"run_id": run_id, "steps": maybe_stored})
                stored = {step: dict(data) for step, data in found}
            folded = fold_rows(rows, stored, metric_name, run.summary or {}, run.last_step)
            check = sweep is not None and folded.metric_changed
            update = sql.log_update(
                self.backend, len(folded.appended), folded.replace_last is not None, check
            )
            params = {"run_id": run_id, "summary": folded.summary, "last_step": folded.last_step}
            updated = conn.execute(update, {**params, **metric_params(folded)})
            this_run = None
            if check:
                run_params, metric_history = updated.one()
                this_run = RunView(
                    run_id, RunState.RUNNING, run_params or {}, MetricStats.from_values(metric_history or [])
                )
            new_rows = [
                {"run_id": run_id, "step": step, "data": data}
                for step, (data, existed) in folded.rows.items()
                if not existed
            ]
            if new_rows:
                conn.execute(sql.insert_history, new_rows)
            old_rows = [
                {"h_run_id": run_id, "h_step": step, "h_data": data}
                for step, (data, existed) in folded.rows.items()
                if existed
            ]
            if old_rows:
                conn.execute(sql.update_history, old_rows)

            stop_requested, stop_reason = bool(run.stop_requested), run.stop_reason
            if sweep is None or this_run is None:
                return LogResult(stop_requested, stop_reason)
            loaded: list[list[RunView]] = []

            def load_runs() -> list[RunView]:
                if not loaded:
                    loaded.append(load_views(conn, sweep.id))
                return loaded[0]

            for request in stop_check(sweep, this_run, load_runs) or ():
                asked = _request_stop(conn, request.run_id, request.reason, request.info, sweep_id=sweep.id)
                if asked and request.run_id == run_id and not stop_requested:
                    stop_requested, stop_reason = True, request.reason
            return LogResult(stop_requested, stop_reason)

        return self._transact(tx, durable=False)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The run's logged rows in step order (``"_step"`` included)."""

        def tx(conn: sa.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                sa.select(history.c.data).where(history.c.run_id == run_id).order_by(history.c.step)
            ).scalars()
            out = [dict(data) for data in rows]
            if not out and not _exists(conn, runs, run_id):
                raise self._no_run(run_id)
            return out

        return self._transact(tx, write=False)

    # --- heartbeats, stops, ends ----------------------------------------------------------------

    def heartbeat_run(self, run_id: str) -> RunControl:
        """Note that the active run is alive (database clock); say whether it should stop.

        A run that is no longer active (finished, crashed, killed, ...) is told to stop.
        """

        def tx(conn: sa.Connection) -> RunControl:
            row = conn.execute(sql.heartbeat_run, {"run_id": run_id}).first()
            if row is None:
                row = conn.execute(sql.run_control, {"run_id": run_id}).first()
                if row is None:
                    raise self._no_run(run_id)
            state = RunState(row.state)
            if state in TERMINAL_STATES:
                return RunControl(True, row.stop_reason or f"run is {state.value}", state)
            return RunControl(bool(row.stop_requested), row.stop_reason, state)

        return self._transact(tx, durable=False)

    def request_stop(self, run_id: str, reason: str, info: Mapping[str, Any] | None = None) -> bool:
        """Ask an active run to stop; False if it had ended or was already asked (first reason kept)."""

        def tx(conn: sa.Connection) -> bool:
            if _request_stop(conn, run_id, reason, info, sweep_id=None):
                return True
            if not _exists(conn, runs, run_id):
                raise self._no_run(run_id)
            return False

        return self._transact(tx)

    def request_stop_all(self, sweep_id: str, reason: str) -> list[str]:
        """Ask every active run of the sweep to stop; returns all their ids (asked earlier or now)."""

        def tx(conn: sa.Connection) -> list[str]:
            self._lock_sweep(conn, sweep_id)
            active = runs.c.state.in_(_ACTIVE)
            ids = list(
                conn.execute(
                    sa.select(runs.c.id)
                    .where(runs.c.sweep_id == sweep_id, active)
                    .order_by(runs.c.number, runs.c.id)
                ).scalars()
            )
            if ids:
                conn.execute(
                    sa.update(runs)
                    .where(runs.c.sweep_id == sweep_id, active, runs.c.stop_requested.is_(False))
                    .values(stop_requested=True, stop_reason=reason)
                )
            return ids

        return self._transact(tx)

    def finish_run(
        self,
        run_id: str,
        state: RunState | str,
        *,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> RunRecord:
        """End a run in a terminal state. Idempotent: a run that has already ended keeps its state."""
        state = RunState(state)
        if state not in TERMINAL_STATES:
            raise ValueError(f"finish_run needs a terminal state, not {state.value!r}")

        def tx(conn: sa.Connection) -> RunRecord:
            row = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.state.in_(_NOT_TERMINAL))
                .values(state=state.value, finished_at=utcnow(), exit_code=exit_code, error=error)
                .returning(*runs.c)
            ).first()
            if row is None:
                row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
                if row is None:
                    raise self._no_run(run_id)
            return _run_record(row)

        return self._transact(tx)

    def reap_crashed(self, sweep_id: str | None = None, *, timeout_s: float) -> list[str]:
        """Mark "crashed" every running run (of the sweep) silent for more than ``timeout_s``.

        Silence is measured on the database clock, so agents on machines with skewed clocks agree.
        Returns the ids of the runs marked.
        """
        error = f"no heartbeat for more than {timeout_s:g} s: its agent or process stopped"

        def cutoff(conn: sa.Connection):
            now = conn.execute(sa.select(utcnow())).scalar_one()
            return as_utc(now) - timedelta(seconds=float(timeout_s))

        def silent(conn: sa.Connection) -> list[Any]:
            last_seen = sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at, runs.c.created_at)
            return [runs.c.state == RunState.RUNNING.value, last_seen < cutoff(conn)]

        def reap(conn: sa.Connection, sid: str | None, run_ids: list[str] | None = None) -> list[str]:
            # Lock order: the sweep first (a stopping rule may be changing its runs right now).
            if sid is None:
                where = [runs.c.sweep_id.is_(None)]
            else:
                conn.execute(sql.lock_sweep, {"sweep_id": sid})
                where = [runs.c.sweep_id == sid]
            if run_ids is not None:
                where.append(runs.c.id.in_(run_ids))
            return list(
                conn.execute(
                    sa.update(runs)
                    .where(*where, *silent(conn))
                    .values(state=RunState.CRASHED.value, finished_at=utcnow(), error=error)
                    .returning(runs.c.id)
                ).scalars()
            )

        if sweep_id is not None:

            def one_sweep(conn: sa.Connection) -> list[str]:
                if not _exists(conn, sweeps, sweep_id):
                    raise self._no_sweep(sweep_id)
                return reap(conn, sweep_id)

            return sorted(self._transact(one_sweep))

        # Every sweep: find the silent runs without locks, then reap each sweep's under its lock.
        def candidates(conn: sa.Connection) -> dict[str | None, list[str]]:
            found: dict[str | None, list[str]] = {}
            for rid, sid in conn.execute(sa.select(runs.c.id, runs.c.sweep_id).where(*silent(conn))):
                found.setdefault(sid, []).append(rid)
            return found

        reaped: list[str] = []
        for sid, run_ids in self._transact(candidates, write=False).items():
            reaped += self._transact(lambda conn, sid=sid, ids=run_ids: reap(conn, sid, ids))
        return sorted(reaped)

    # --- plumbing -------------------------------------------------------------------------------

    def _transact(self, fn: Callable[[sa.Connection], T], *, write: bool = True, durable: bool = True) -> T:
        """Run ``fn(conn)`` in one transaction (retried if PostgreSQL broke a deadlock).

        ``durable=False`` (heartbeats, logged rows) lets PostgreSQL confirm the commit before its WAL
        reaches the disk: a server crash may lose the last fraction of a second of them, never
        consistency, and each such commit skips a disk flush.
        """
        engine = self._write_engine if write else self._engine
        relaxed = not durable and self.backend == "postgresql"
        if self._memory_lock is not None:
            with self._memory_lock, engine.begin() as conn:
                return fn(conn)
        for attempt in range(_RETRIES):
            try:
                with engine.begin() as conn:
                    if relaxed:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    return fn(conn)
            except sa.exc.DBAPIError as exc:
                if _engine.is_retryable(exc) and attempt + 1 < _RETRIES:
                    continue
                if _engine.is_connection_error(exc):
                    raise _engine.StoreError(f"store {self.url}: {_engine.describe_error(exc)}") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _insertion_order(self, table: sa.Table) -> list[sa.ColumnElement]:
        """Tie-breakers for rows created within one clock tick (SQLite's clock counts milliseconds)."""
        if self.backend == "sqlite":
            return [sa.literal_column(f"{table.name}.rowid")]
        return [table.c.number, table.c.id] if "number" in table.c else [table.c.id]

    def _lock_sweep(self, conn: sa.Connection, sweep_id: str) -> SweepRecord:
        row = conn.execute(sql.lock_sweep, {"sweep_id": sweep_id}).first()
        if row is None:
            raise self._no_sweep(sweep_id)
        return _sweep_record(row)

    def _agent_exists(self, agent_id: str) -> bool:
        return self._transact(lambda conn: _exists(conn, agents, agent_id), write=False)

    def _no_sweep(self, sweep_id: str) -> NotFoundError:
        return NotFoundError(f"no sweep {sweep_id!r} in {self.url}")

    def _no_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(f"no run {run_id!r} in {self.url}")

    def _not_running(self, run_id: str, state: RunState) -> SweepkitError:
        return SweepkitError(f"run {run_id!r} is {state.value}, not running: it cannot log any more")


# --- helpers ------------------------------------------------------------------------------------


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _exists(conn: sa.Connection, table: sa.Table, row_id: str) -> bool:
    return conn.execute(sa.select(table.c.id).where(table.c.id == row_id)).first() is not None


def _request_stop(
    conn: sa.Connection, run_id: str, reason: str, info: Mapping[str, Any] | None, *, sweep_id: str | None
) -> bool:
    """Ask one active run, not yet asked, to stop; True if this call asked it."""
    where = [runs.c.id == run_id, runs.c.state.in_(_ACTIVE), runs.c.stop_requested.is_(False)]
    if sweep_id is not None:
        where.append(runs.c.sweep_id == sweep_id)
    result = conn.execute(
        sa.update(runs)
        .where(*where)
        .values(stop_requested=True, stop_reason=reason, stop_info=None if info is None else dict(info))
    )
    return result.rowcount > 0


def _checked_row(run_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    step = row.get("_step") if isinstance(row, Mapping) else None
    if isinstance(step, bool) or not isinstance(step, Integral):
        raise SweepkitError(f"run {run_id!r}: every logged row needs an integer '_step', got {step!r}")
    if step < 0:
        raise SweepkitError(f"run {run_id!r}: '_step' must be 0 or more, got {step}")
    return {**row, "_step": int(step)}


def _sweep_record(row: sa.Row) -> SweepRecord:
    m = row._mapping
    return SweepRecord(
        id=m["id"],
        project=m["project"],
        entity=m["entity"],
        name=m["name"],
        state=m["state"],
        config=m["config"] or {},
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        finished_reason=m["finished_reason"],
        run_count=m["run_count"],
    )


def _run_record(row: sa.Row) -> RunRecord:
    m = row._mapping
    return RunRecord(
        id=m["id"],
        sweep_id=m["sweep_id"],
        project=m["project"],
        name=m["name"],
        state=RunState(m["state"]),
        params=m["params"] or {},
        config=m["config"],
        summary=m["summary"] or {},
        metric_history=list(m["metric_history"] or []),
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        heartbeat_at=m["heartbeat_at"],
        exit_code=m["exit_code"],
        agent_id=m["agent_id"],
        stop_requested=bool(m["stop_requested"]),
        stop_reason=m["stop_reason"],
        stop_info=m["stop_info"],
        suggestion_info=m["suggestion_info"] or {},
        error=m["error"],
        number=m["number"],
        last_step=m["last_step"],
    )
