"""``SqlTx``: the store's row operations (``StoreTx``) as SQL, inside one open SQLAlchemy transaction.

Each operation is one or two statements; the ones agents run for every run or batch are built once
(``statements``). None reads a run's history except ``history`` and ``metric_series``. Lock order,
to keep PostgreSQL free of deadlocks: the sweep row first (``SELECT ... FOR UPDATE``), then run
rows; SQLite holds its one write lock for the whole transaction anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sweepkit.runs import ENDED_FOR_GOOD, AgentInfo, MetricStats, RunState, RunView, SweepState
from sweepkit.store import engine as _engine
from sweepkit.store import records
from sweepkit.store import statements as sql
from sweepkit.store.base import LazyViews, States, StoreTx
from sweepkit.store.run_views import load_band_views, load_changed, load_changed_and_live, load_views
from sweepkit.store.schema import (
    ID_LENGTH,
    agents,
    history,
    runs,
    sweep_configs,
    sweep_digests,
    sweeps,
    tokens,
)
from sweepkit.store.sqltypes import as_utc, utcnow
from sweepkit.values import logged_data


def _values(states: States) -> list[str]:
    return [RunState(s).value for s in states]


class SqlTx(StoreTx):
    """One transaction on a SQLite or PostgreSQL store (see the module docstring)."""

    def __init__(self, conn: sa.Connection, store_url: str) -> None:
        self.conn = conn
        self.store_url = store_url
        self._sqlite = conn.dialect.name == "sqlite"

    def now(self) -> datetime:
        return as_utc(self.conn.execute(sql.now).scalar_one())

    # --- sweeps ---------------------------------------------------------------------------------

    def insert_sweep(self, new: records.NewSweep) -> records.SweepRecord:
        stmt = (
            sa.insert(sweeps)
            .values(
                id=new.id,
                project=new.project,
                entity=new.entity,
                name=new.name,
                state=SweepState.RUNNING.value,
                config=dict(new.config),
                source=new.source,
                finished_reason=None,
                run_count=0,
                retry_count=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            .returning(*sweeps.c)
        )
        record = _sweep(self.conn.execute(stmt).one())
        self._add_version(record.id, record.config, new.source, ())
        return record

    def _add_version(
        self, sweep_id: str, config: Mapping[str, Any], source: str | None, changes: Sequence[str]
    ) -> None:
        last = self.conn.execute(
            sa.select(sa.func.max(sweep_configs.c.version)).where(sweep_configs.c.sweep_id == sweep_id)
        ).scalar()
        self.conn.execute(
            sa.insert(sweep_configs).values(
                sweep_id=sweep_id,
                version=(last or 0) + 1,
                created_at=utcnow(),
                config=dict(config),
                source=source,
                changes=list(changes),
            )
        )

    def sweep(self, sweep_id: str) -> records.SweepRecord:
        row = self.conn.execute(sql.sweep_by_id, {"sweep_id": sweep_id}).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return _sweep(row)

    def lock_sweep(self, sweep_id: str) -> records.SweepRecord:
        row = self.conn.execute(sql.lock_sweep, {"sweep_id": sweep_id}).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return _sweep(row)

    def lock_sweep_for_claim(
        self, sweep_id: str, claim_key: str
    ) -> tuple[records.SweepRecord | None, records.RunRecord | None]:
        row = self.conn.execute(
            sql.lock_sweep_for_claim, {"sweep_id": sweep_id, "claim_key": claim_key}
        ).first()
        earlier = self.run_by_claim_key(claim_key) if row is None or row.claimed else None
        if row is None and earlier is None:
            raise self.no_sweep(sweep_id)
        return (None if row is None else _sweep(row)), earlier

    def sweeps(self, *, project: str | None = None) -> list[records.SweepRecord]:
        # Rows created within one clock tick (SQLite's clock counts milliseconds) in insertion order.
        tie = sa.literal_column("sweeps.rowid") if self._sqlite else sweeps.c.id
        stmt = sa.select(sweeps).order_by(sweeps.c.created_at.desc(), tie.desc())
        if project is not None:
            stmt = stmt.where(sweeps.c.project == project)
        return [_sweep(r) for r in self.conn.execute(stmt)]

    def set_sweep_state(self, sweep_id: str, state: SweepState, reason: str | None) -> records.SweepRecord:
        return self._update_sweep(sweep_id, state=SweepState(state).value, finished_reason=reason)

    def set_sweep_config(
        self, sweep_id: str, config: Mapping[str, Any], source: str | None, changes: Sequence[str] = ()
    ) -> records.SweepRecord:
        record = self._update_sweep(sweep_id, config=dict(config), source=source)
        self._add_version(sweep_id, config, source, changes)
        return record

    def config_versions(self, sweep_id: str) -> list[records.ConfigVersionRecord]:
        self.sweep(sweep_id)  # NotFoundError for no such sweep
        rows = self.conn.execute(
            sa.select(sweep_configs)
            .where(sweep_configs.c.sweep_id == sweep_id)
            .order_by(sweep_configs.c.version)
        )
        return [records.ConfigVersionRecord.from_columns(row._mapping) for row in rows]

    def fill_params(self, sweep_id: str, values: Mapping[str, Any]) -> int:
        found = self.conn.execute(
            sa.select(runs.c.id, runs.c.params).where(runs.c.sweep_id == sweep_id)
        ).all()
        changed = []
        for run_id, params in found:
            params = dict(params or {})
            missing = {k: v for k, v in values.items() if k not in params}
            if missing:
                changed.append({"run_id": run_id, "new_params": {**params, **missing}})
        if changed:
            self.conn.execute(
                sa.update(runs)
                .where(runs.c.id == sa.bindparam("run_id"))
                .values(params=sa.bindparam("new_params", type_=runs.c.params.type)),
                changed,
            )
            self._stamp(sweep_id, reset=True)  # ended runs' parameters changed: kept digests start again
        return len(changed)

    def _update_sweep(self, sweep_id: str, **columns: Any) -> records.SweepRecord:
        stmt = (
            sa.update(sweeps)
            .where(sweeps.c.id == sweep_id)
            .values(updated_at=utcnow(), **columns)
            .returning(*sweeps.c)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return _sweep(row)

    def set_run_counts(self, sweep_id: str, *, run_count: int, retry_count: int) -> None:
        params = {"sweep_id": sweep_id, "run_count": run_count, "retry_count": retry_count}
        self.conn.execute(sql.set_run_counts, params)

    def run_counts(self, sweep_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        if not sweep_ids:
            return {}
        stmt = (
            sa.select(runs.c.sweep_id, runs.c.state, sa.func.count())
            .where(runs.c.sweep_id.in_(list(sweep_ids)))
            .group_by(runs.c.sweep_id, runs.c.state)
        )
        out: dict[str, dict[str, int]] = {sid: {} for sid in sweep_ids}
        for sid, state, count in self.conn.execute(stmt):
            out[sid][state] = count
        return out

    # --- agents ---------------------------------------------------------------------------------

    def insert_agent(self, new: records.NewAgent) -> None:
        if new.sweep_id is not None and not _exists(self.conn, sweeps, new.sweep_id):
            raise self.no_sweep(new.sweep_id)
        self.conn.execute(
            sa.insert(agents).values(
                id=new.id,
                sweep_id=new.sweep_id,
                host=new.host[:255],
                pid=int(new.pid),
                state="running",
                created_at=utcnow(),
                heartbeat_at=utcnow(),
                finished_at=None,
                workdir=new.workdir,
                slots=None if new.slots is None else [list(gpus) for gpus in new.slots],
                token_id=new.token_id,
            )
        )

    def agent_token(self, agent_id: str) -> str | None:
        row = self.conn.execute(sa.select(agents.c.token_id).where(agents.c.id == agent_id)).first()
        if row is None:
            raise self.no_agent(agent_id)
        return row.token_id

    def agents(self, sweep_id: str, *, seen_since: datetime) -> list[AgentInfo]:
        if not _exists(self.conn, sweeps, sweep_id):
            raise self.no_sweep(sweep_id)
        # Agents registered within one clock tick (SQLite's counts milliseconds) in insertion order.
        tie = sa.literal_column("agents.rowid") if self._sqlite else agents.c.id
        stmt = sa.select(agents).where(agents.c.sweep_id == sweep_id).order_by(agents.c.created_at, tie)
        return [
            AgentInfo(
                id=row.id,
                host=row.host,
                pid=row.pid,
                state=row.state,
                created_at=row.created_at,
                heartbeat_at=row.heartbeat_at,
                finished_at=row.finished_at,
                live=row.state == "running"
                and row.heartbeat_at is not None
                and row.heartbeat_at >= seen_since,
                workdir=row.workdir,
                slots=row.slots,
            )
            for row in self.conn.execute(stmt)
        ]

    def touch_scheduler(self, sweep_id: str, *, host: str, pid: int) -> records.SweepRecord:
        stmt = (
            sa.update(sweeps)
            .where(sweeps.c.id == sweep_id)
            .values(scheduler_host=host[:255], scheduler_pid=int(pid), scheduler_seen_at=utcnow())
            .returning(*sweeps.c)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return _sweep(row)

    def touch_agent(self, agent_id: str) -> None:
        if not self.conn.execute(sql.touch_agent, {"agent_id": agent_id}).rowcount:
            raise self.no_agent(agent_id)

    def finish_agent(self, agent_id: str) -> None:
        self.conn.execute(
            sa.update(agents)
            .where(agents.c.id == agent_id)
            .values(state="finished", finished_at=utcnow(), heartbeat_at=utcnow())
        )

    def live_agents(self, sweep_ids: Sequence[str], *, seen_since: datetime) -> dict[str, int]:
        if not sweep_ids:
            return {}
        stmt = (
            sa.select(agents.c.sweep_id, sa.func.count())
            .where(
                agents.c.sweep_id.in_(list(sweep_ids)),
                agents.c.state == "running",
                agents.c.heartbeat_at >= seen_since,
            )
            .group_by(agents.c.sweep_id)
        )
        return {sid: count for sid, count in self.conn.execute(stmt)}

    # --- runs: reading -----------------------------------------------------------------------------

    def run(self, run_id: str) -> records.RunRecord:
        row = self.conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise self.no_run(run_id)
        return _run(row)

    def run_by_claim_key(self, claim_key: str) -> records.RunRecord | None:
        row = self.conn.execute(sql.run_by_claim_key, {"claim_key": claim_key}).first()
        return None if row is None else _run(row)

    def runs(
        self, sweep_id: str, *, states: States = (), after: int | None = None, limit: int | None = None
    ) -> list[records.RunRecord]:
        stmt = sa.select(runs).where(runs.c.sweep_id == sweep_id)
        if states:
            stmt = stmt.where(runs.c.state.in_(_values(states)))
        if after is not None:
            stmt = stmt.where(runs.c.number > after)
        stmt = stmt.order_by(runs.c.number, runs.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        if not _exists(self.conn, sweeps, sweep_id):
            raise self.no_sweep(sweep_id)
        return [_run(r) for r in self.conn.execute(stmt)]

    def runs_by_id(self, sweep_id: str, run_ids: Sequence[str]) -> dict[str, records.RunRecord]:
        stmt = sa.select(runs).where(runs.c.sweep_id == sweep_id, runs.c.id.in_(list(run_ids)))
        return {r.id: r for r in map(_run, self.conn.execute(stmt))}

    def run_statuses(self, run_ids: Sequence[str]) -> list[records.RunStatus]:
        ids = list(run_ids)
        found = {r.id: r for r in self.conn.execute(sql.run_statuses, {"run_ids": ids})}
        out = []
        for run_id in ids:
            row = found.get(run_id)
            if row is None:
                raise self.no_run(run_id)
            out.append(
                records.RunStatus(run_id, RunState(row.state), bool(row.stop_requested), row.stop_reason)
            )
        return out

    def run_views(self, sweep_id: str, *, states: States = ()) -> LazyViews:
        return LazyViews(lambda: load_views(self.conn, sweep_id, _values(states)))

    def changed_runs(self, sweep_id: str, after: int) -> tuple[list[RunView], list[str]]:
        return load_changed(self.conn, sweep_id, after)

    def changed_and_live_runs(
        self, sweep_id: str, after: int, *, states: States
    ) -> tuple[list[RunView], list[str], list[RunView]]:
        return load_changed_and_live(self.conn, sweep_id, after, _values(states))

    def _stamp(
        self, sweep_id: str | None = None, *, of_run: str | None = None, reset: bool = False
    ) -> int | None:
        """The sweep's next change number (the sweep of run ``of_run`` if given), counted; None when
        there is no such sweep. The sweep's row is updated first: lock order, and stamps in commit order."""
        which = sweeps.c.id == sweep_id if of_run is None else sweeps.c.id == _run_sweep(of_run)
        values = {"change_seq": sweeps.c.change_seq + 1}
        if reset:
            values["reset_seq"] = sweeps.c.change_seq + 1
        stmt = sa.update(sweeps).where(which).values(**values).returning(sweeps.c.change_seq)
        return self.conn.execute(stmt).scalar()

    def band_views(self, sweep_id: str, band: int, *, states: States = ()) -> list[RunView]:
        return load_band_views(self.conn, sweep_id, band, _values(states))

    def digest_snapshot(self, sweep_id: str) -> records.DigestSnapshot | None:
        row = self.conn.execute(sql.digest_snapshot, {"sweep_id": sweep_id}).one_or_none()
        return None if row is None else records.DigestSnapshot(int(row[0]), row[1], bytes(row[2]))

    def save_digest_snapshot(self, sweep_id: str, snapshot: records.DigestSnapshot) -> None:
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        t = sweep_digests.c
        values = {"change_seq": snapshot.change_seq, "key": snapshot.key, "data": snapshot.data}
        stmt = insert(sweep_digests).values(sweep_id=sweep_id, **values)
        newer = (t.key != stmt.excluded.key) | (t.change_seq < stmt.excluded.change_seq)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.sweep_id],
                set_={name: getattr(stmt.excluded, name) for name in values},
                where=newer,
            )
        )

    # --- runs: writing -----------------------------------------------------------------------------

    def insert_run(self, new: records.NewRun) -> records.RunRecord:
        return _run(self._with_agent(new.agent_id, sql.insert_run, _new_run_values(new)).one())

    def insert_counted_run(
        self, new: records.NewRun, *, run_count: int, retry_count: int
    ) -> records.RunRecord:
        if self._sqlite:  # no UPDATE in a WITH: two statements (no round trips on SQLite anyway)
            return super().insert_counted_run(new, run_count=run_count, retry_count=retry_count)
        counts = {"counted_sweep": new.sweep_id, "run_count": run_count, "retry_count": retry_count}
        values = {**_new_run_values(new), **counts}
        return _run(self._with_agent(new.agent_id, sql.insert_counted_run, values).one())

    def insert_pending_runs(self, new: Sequence[records.NewRun]) -> None:
        if not new:
            return
        values = [
            {
                "id": run.id,
                "sweep_id": run.sweep_id,
                "number": run.number,
                "project": run.project,
                "name": run.name,
                "state": RunState.PENDING.value,
                "params": dict(run.params),
                "config": None if run.config is None else dict(run.config),
                "summary": {},
                "metric": {},
                "log_seq": 0,
                "stop_requested": False,
                "agent_id": run.agent_id,
                "suggestion_info": dict(run.suggestion_info),
                "claim_key": run.claim_key,
                "retry_of": run.retry_of,
            }
            for run in new
        ]
        self.conn.execute(sa.insert(runs).values(created_at=utcnow()), values)

    def start_pending_run(
        self, sweep_id: str, *, agent_id: str, claim_key: str, slot: int | None = None
    ) -> records.RunRecord | None:
        run_id = self.conn.execute(sql.next_queued_run, {"sweep_id": sweep_id}).scalar()
        if run_id is None:
            return None
        params = {"run_id": run_id, "agent_id": agent_id, "claim_key": claim_key, "slot": slot}
        return _run(self._with_agent(agent_id, sql.start_queued_run, params).one())

    def _with_agent(self, agent_id: str | None, stmt: sa.Executable, params: Any) -> sa.CursorResult:
        """Run ``stmt``, which names ``agent_id`` as a run's agent: an unknown agent is a NotFoundError
        (one longer than the column, which no agent's id is, too: PostgreSQL would refuse the value)."""
        if agent_id is not None and len(agent_id) > ID_LENGTH:
            raise self.no_agent(agent_id)
        try:
            return self.conn.execute(stmt, params)
        except sa.exc.IntegrityError as exc:
            if agent_id is not None and _engine.is_foreign_key_violation(exc):
                raise self.no_agent(agent_id) from None
            raise

    def mark_retried(self, retries: Mapping[str, str]) -> None:
        if retries:
            first = next(iter(retries))
            change = self._stamp(of_run=first)
            self.conn.execute(
                sa.update(runs)
                .where(runs.c.id == sa.bindparam("old_id"))
                .values(retried_by=sa.bindparam("new_id"), change_seq=change),
                [{"old_id": old, "new_id": new} for old, new in retries.items()],
            )

    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> None:
        ids = list(run_ids)
        self._stamp(sweep_id, reset=True)
        self.conn.execute(sa.update(runs).where(runs.c.retried_by.in_(ids)).values(retried_by=None))
        self.conn.execute(sa.delete(runs).where(runs.c.sweep_id == sweep_id, runs.c.id.in_(ids)))

    def set_run_config(self, run_id: str, config: Mapping[str, Any] | None) -> None:
        config = None if config is None else dict(config)
        self.conn.execute(sa.update(runs).where(runs.c.id == run_id).values(config=config))

    def rename_run(self, run_id: str, name: str) -> None:
        self.conn.execute(sa.update(runs).where(runs.c.id == run_id).values(name=name))

    def end_run(
        self, run_id: str, state: RunState, *, exit_code: int | None, error: str | None, from_states: States
    ) -> records.RunRecord | None:
        params = {
            "run_id": run_id,
            "from_states": _values(from_states),
            "state": RunState(state).value,
            "exit_code": exit_code,
            "error": error,
            "change_seq": self._stamp(of_run=run_id) if RunState(state) in ENDED_FOR_GOOD else None,
        }
        row = self.conn.execute(sql.end_run, params).first()
        if row is None:
            self.run(run_id)  # NotFoundError for a run that does not exist
            return None
        return _run(row)

    def end_runs(self, sweep_id: str, *, from_states: States, state: RunState, stop_reason: str) -> None:
        values = {"state": RunState(state).value, "finished_at": utcnow(), "stop_reason": stop_reason}
        if RunState(state) in ENDED_FOR_GOOD:
            values["change_seq"] = self._stamp(sweep_id)
        self.conn.execute(
            sa.update(runs)
            .where(runs.c.sweep_id == sweep_id, runs.c.state.in_(_values(from_states)))
            .values(**values)
        )

    def end_silent_runs(
        self, sweep_id: str, *, from_states: States, silent_before: datetime, state: RunState, error: str
    ) -> list[str]:
        last_seen = sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at, runs.c.created_at)
        values = {"state": RunState(state).value, "finished_at": utcnow(), "error": error}
        if RunState(state) in ENDED_FOR_GOOD:
            values["change_seq"] = self._stamp(sweep_id)
        stmt = (
            sa.update(runs)
            .where(
                runs.c.sweep_id == sweep_id, runs.c.state.in_(_values(from_states)), last_seen < silent_before
            )
            .values(**values)
            .returning(runs.c.id)
        )
        return list(self.conn.execute(stmt).scalars())

    def reopen_runs(self, run_ids: Sequence[str], *, from_states: States) -> None:
        self.conn.execute(sql.reopen_runs, {"run_ids": list(run_ids), "from_states": _values(from_states)})

    def touch_runs(self, run_ids: Sequence[str], *, states: States) -> None:
        self.conn.execute(sql.touch_runs, {"run_ids": list(run_ids), "states": _values(states)})

    def request_stop(
        self, sweep_id: str, *, states: States, reason: str, info: dict | None, run_id: str | None = None
    ) -> int:
        where = [
            runs.c.sweep_id == sweep_id,
            runs.c.state.in_(_values(states)),
            runs.c.stop_requested.is_(False),
        ]
        if run_id is not None:
            where.append(runs.c.id == run_id)
        stmt = (
            sa.update(runs)
            .where(*where)
            .values(stop_requested=True, stop_reason=reason, stop_info=None if info is None else dict(info))
        )
        return self.conn.execute(stmt).rowcount

    # --- logging ------------------------------------------------------------------------------------

    def peek_log_target(self, run_id: str) -> tuple[records.SweepRecord | None, MetricStats]:
        row = self.conn.execute(sql.log_peek, {"run_id": run_id}).first()
        if row is None:
            raise self.no_run(run_id)
        sweep = _sweep(row) if row.id is not None else None
        return sweep, MetricStats.from_json(row.run_metric)

    def log_target(self, run_id: str) -> records.LogTarget:
        row = self.conn.execute(sql.log_target, {"run_id": run_id}).first()
        if row is None:
            raise self.no_run(run_id)
        return records.LogTarget.from_columns(row._mapping)

    def append_history(self, run_id: str, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        if rows:
            self.conn.execute(
                sql.insert_history, [{"run_id": run_id, "step": step, "data": data} for step, data in rows]
            )

    def update_logged(self, logged: records.LogTarget) -> None:
        params = {
            "run_id": logged.id,
            "summary": logged.summary,
            "metric": logged.metric.to_json(),
            "last_step": logged.last_step,
            "log_seq": logged.log_seq,
            "state": RunState(logged.state).value,
        }
        self.conn.execute(sql.update_logged, params)

    def output(self, run_id: str, *, lock: bool = False) -> tuple[str, str, int] | None:
        row = self.conn.execute(sql.output_locked if lock else sql.output, {"run_id": run_id}).first()
        return None if row is None else (row.head, row.tail, int(row.size))

    def set_output(self, run_id: str, head: str, tail: str, size: int) -> None:
        kept = {"head": head, "tail": tail, "size": size}
        if not self.conn.execute(sql.update_output, {"of_run": run_id, **kept}).rowcount:
            self.conn.execute(sql.insert_output, {"run_id": run_id, **kept})

    def history(self, run_id: str, *, after: int | None = None, limit: int = 1000) -> list[tuple[int, dict]]:
        stmt = sa.select(history.c.step, history.c.data).where(history.c.run_id == run_id)
        if after is not None:
            stmt = stmt.where(history.c.step > after)
        stmt = stmt.order_by(history.c.step).limit(limit)
        rows = [(int(step), dict(data)) for step, data in self.conn.execute(stmt)]
        if not rows and not _exists(self.conn, runs, run_id):
            raise self.no_run(run_id)
        return rows

    def metric_series(
        self, run_ids: Sequence[str], key: str, after: Mapping[str, int]
    ) -> dict[str, list[tuple[int, Any]]]:
        out: dict[str, list[tuple[int, Any]]] = {run_id: [] for run_id in run_ids}
        ids = list(out)
        if self._sqlite:  # numbers come out of SQLite as numbers: no JSON text to decode for each of them
            path = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
            value_columns = [
                sa.func.json_type(history.c.data, path),
                sa.func.json_extract(history.c.data, path),
            ]
        else:
            value_columns = [history.c.data[key]]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = (
                sa.select(history.c.run_id, history.c.step, *value_columns)
                .where(history.c.run_id.in_(chunk))
                .order_by(history.c.run_id, history.c.step)
            )
            for run_id, step, *found in self.conn.execute(stmt):
                value = _sqlite_json_value(*found) if self._sqlite else found[0]
                if value is not None and step > after.get(run_id, -1):
                    out[run_id].append((int(step), value))
        return out

    # --- access tokens ---------------------------------------------------------------------------

    def insert_token(
        self, token_id: str, *, scope: str, name: str | None, secret_hash: str
    ) -> records.TokenRecord:
        stmt = (
            sa.insert(tokens)
            .values(
                id=token_id,
                name=name,
                scope=scope,
                secret_hash=secret_hash,
                created_at=utcnow(),
                last_used_at=None,
                revoked_at=None,
            )
            .returning(*tokens.c)
        )
        return _token(self.conn.execute(stmt).one())

    def tokens(self) -> list[records.TokenRecord]:
        stmt = sa.select(tokens).order_by(tokens.c.created_at, tokens.c.id)
        return [_token(r) for r in self.conn.execute(stmt)]

    def token(self, token_id: str) -> records.TokenRecord | None:
        row = self.conn.execute(_TOKEN_BY_ID, {"token_id": token_id}).first()
        return None if row is None else _token(row)

    def any_token(self) -> bool:
        return self.conn.execute(sa.select(tokens.c.id).limit(1)).first() is not None

    def revoke_token(self, token_id: str) -> records.TokenRecord:
        self.conn.execute(
            sa.update(tokens)
            .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        found = self.token(token_id)
        if found is None:
            raise self.no_token(token_id)
        return found

    def touch_token(self, token_id: str) -> None:
        self.conn.execute(sa.update(tokens).where(tokens.c.id == token_id).values(last_used_at=utcnow()))


#: Looked up on every request of a server that needs tokens: built once.
_TOKEN_BY_ID = sa.select(tokens).where(tokens.c.id == sa.bindparam("token_id"))


def _new_run_values(new: records.NewRun) -> dict[str, Any]:
    """The columns of a new running run that ``statements.insert_run`` binds."""
    return {
        "id": new.id,
        "sweep_id": new.sweep_id,
        "number": new.number,
        "project": new.project,
        "name": new.name,
        "params": dict(new.params),
        "config": None if new.config is None else dict(new.config),
        "agent_id": new.agent_id,
        "suggestion_info": dict(new.suggestion_info),
        "claim_key": new.claim_key,
        "slot": new.slot,
    }


def _run_sweep(run_id: str):
    """The id of run ``run_id``'s sweep, as a scalar subquery."""
    return sa.select(runs.c.sweep_id).where(runs.c.id == run_id).scalar_subquery()


def _exists(conn: sa.Connection, table: sa.Table, row_id: str) -> bool:
    return conn.execute(sa.select(table.c.id).where(table.c.id == row_id)).first() is not None


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


def _sweep(row: sa.Row) -> records.SweepRecord:
    return records.SweepRecord.from_columns(row._mapping)


def _run(row: sa.Row) -> records.RunRecord:
    return records.RunRecord.from_columns(row._mapping)


def _token(row: sa.Row) -> records.TokenRecord:
    return records.TokenRecord.from_columns(row._mapping)
