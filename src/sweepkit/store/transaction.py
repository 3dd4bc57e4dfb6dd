"""``Tx``: the store's operations inside one open transaction.

The local sweep service composes these within ``Store.transact`` to take a decision and record it
atomically (claim a run under the sweep's lock, log a batch and apply hyperband's stops). Each
method is one or two statements; none reads a run's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from sweepkit.errors import NotFoundError
from sweepkit.runs import MetricStats, RunState, SweepState
from sweepkit.store import statements as sql
from sweepkit.store.records import LogTarget, RunRecord, SweepRecord
from sweepkit.store.run_views import LazyRunViews, load_band_views
from sweepkit.store.schema import run_output, runs, sweeps
from sweepkit.store.sqltypes import as_utc, utcnow


class Tx:
    """One transaction on the store (see the module docstring)."""

    def __init__(self, conn: sa.Connection, store_url: str) -> None:
        self.conn = conn
        #: The store's URL for messages (password masked).
        self.store_url = store_url

    # --- sweeps ---------------------------------------------------------------------------------

    def sweep(self, sweep_id: str) -> SweepRecord:
        row = self.conn.execute(sa.select(sweeps).where(sweeps.c.id == sweep_id)).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return sweep_record(row)

    def lock_sweep(self, sweep_id: str) -> SweepRecord:
        """The sweep, its row locked until the transaction ends."""
        row = self.conn.execute(sql.lock_sweep, {"sweep_id": sweep_id}).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return sweep_record(row)

    def update_sweep(self, sweep_id: str, **values: Any) -> SweepRecord:
        stmt = (
            sa.update(sweeps)
            .where(sweeps.c.id == sweep_id)
            .values(updated_at=utcnow(), **values)
            .returning(*sweeps.c)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            raise self.no_sweep(sweep_id)
        return sweep_record(row)

    def finish_sweep(self, sweep_id: str, reason: str) -> None:
        self.conn.execute(
            sa.update(sweeps)
            .where(sweeps.c.id == sweep_id)
            .values(state=SweepState.FINISHED.value, finished_reason=reason, updated_at=utcnow())
        )

    def band_views(self, sweep_id: str, band: int) -> list:
        """The runs that reached ``band``, with what a stopping rule needs to judge that band."""
        return load_band_views(self.conn, sweep_id, band)

    def run_views(self, sweep_id: str) -> LazyRunViews:
        """Every run of the sweep as policies see them (retried runs left out), read on first use."""
        return LazyRunViews(self.conn, sweep_id)

    # --- runs -----------------------------------------------------------------------------------

    def run(self, run_id: str) -> RunRecord:
        row = self.conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise self.no_run(run_id)
        return run_record(row)

    def run_by_claim_key(self, claim_key: str) -> RunRecord | None:
        row = self.conn.execute(sql.run_by_claim_key, {"claim_key": claim_key}).first()
        return None if row is None else run_record(row)

    def insert_run(self, **values: Any) -> RunRecord:
        """A new running run (``run_id`` and the other columns given)."""
        values["id"] = values.pop("run_id")
        return run_record(self.conn.execute(sql.insert_run, values).one())

    def claim_next_number(self, sweep: SweepRecord) -> int:
        number = sweep.run_count + 1
        self.conn.execute(sql.set_run_count, {"sweep_id": sweep.id, "run_count": number})
        return number

    def start_queued_run(self, sweep_id: str, *, agent_id: str, claim_key: str) -> RunRecord | None:
        """Hand the sweep's first queued run (a retry) to an agent, or None when none waits (caller
        holds the sweep's lock, so each is handed out once)."""
        run_id = self.conn.execute(sql.next_queued_run, {"sweep_id": sweep_id}).scalar()
        if run_id is None:
            return None
        params = {"run_id": run_id, "agent_id": agent_id, "claim_key": claim_key}
        return run_record(self.conn.execute(sql.start_queued_run, params).one())

    def retry_candidates(self, sweep_id: str, states: Sequence[RunState]) -> list[RunRecord]:
        """The sweep's runs in ``states`` that were not retried yet, in run-number order."""
        stmt = (
            sa.select(runs)
            .where(
                runs.c.sweep_id == sweep_id,
                runs.c.state.in_([RunState(s).value for s in states]),
                runs.c.retried_by.is_(None),
            )
            .order_by(runs.c.number)
        )
        return [run_record(row) for row in self.conn.execute(stmt)]

    def queue_retries(self, sweep: SweepRecord, old_runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Queue a new pending run with each old run's parameters, numbered after the sweep's runs,
        and mark the old runs retried (caller holds the sweep's lock)."""
        if not old_runs:
            return []
        from sweepkit.store.store import new_id

        first = sweep.run_count + 1
        values = [
            {
                "id": new_id(),
                "sweep_id": sweep.id,
                "number": first + i,
                "project": sweep.project,
                "name": f"{sweep.name or sweep.id}-{first + i}",
                "state": RunState.PENDING.value,
                "params": dict(old.params),
                "config": None,
                "summary": {},
                "metric": {},
                "log_seq": 0,
                "stop_requested": False,
                "suggestion_info": dict(old.suggestion_info),
                "retry_of": old.id,
            }
            for i, old in enumerate(old_runs)
        ]
        self.conn.execute(sa.insert(runs).values(created_at=utcnow()), values)
        self.conn.execute(
            sa.update(runs)
            .where(runs.c.id == sa.bindparam("old_id"))
            .values(retried_by=sa.bindparam("new_id")),
            [{"old_id": old.id, "new_id": new["id"]} for old, new in zip(old_runs, values, strict=True)],
        )
        self.conn.execute(
            sa.update(sweeps)
            .where(sweeps.c.id == sweep.id)
            .values(
                run_count=sweep.run_count + len(values),
                retry_count=sweep.retry_count + len(values),
                updated_at=utcnow(),
            )
        )
        found = self.runs_by_id(sweep.id, [new["id"] for new in values])
        return [found[new["id"]] for new in values]

    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> None:
        """Delete the sweep's runs ``run_ids`` and their history; runs they were retries of can be
        retried again."""
        ids = list(run_ids)
        self.conn.execute(sa.update(runs).where(runs.c.retried_by.in_(ids)).values(retried_by=None))
        self.conn.execute(sa.delete(runs).where(runs.c.sweep_id == sweep_id, runs.c.id.in_(ids)))

    def runs_by_id(self, sweep_id: str, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The sweep's runs among ``run_ids``, by id (ids of other runs are left out)."""
        stmt = sa.select(runs).where(runs.c.sweep_id == sweep_id, runs.c.id.in_(list(run_ids)))
        return {r.id: r for r in map(run_record, self.conn.execute(stmt))}

    def peek_log_target(self, run_id: str) -> tuple[SweepRecord | None, MetricStats]:
        """The run's sweep and metric aggregates, in one read without a lock."""
        row = self.conn.execute(sql.log_peek, {"run_id": run_id}).first()
        if row is None:
            raise self.no_run(run_id)
        sweep = sweep_record(row) if row.id is not None else None
        return sweep, MetricStats.from_json(row.run_metric)

    def log_target(self, run_id: str) -> LogTarget:
        """What logging needs to know of the run, its row locked."""
        row = self.conn.execute(sql.log_target, {"run_id": run_id}).first()
        if row is None:
            raise self.no_run(run_id)
        return LogTarget(
            id=row.id,
            sweep_id=row.sweep_id,
            state=RunState(row.state),
            summary=dict(row.summary or {}),
            metric=MetricStats.from_json(row.metric),
            last_step=row.last_step,
            log_seq=int(row.log_seq or 0),
            stop_requested=bool(row.stop_requested),
            stop_reason=row.stop_reason,
            retried_by=row.retried_by,
        )

    def append_history(self, run_id: str, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Insert ``(step, data)`` rows (steps after every stored one)."""
        if rows:
            self.conn.execute(
                sql.insert_history, [{"run_id": run_id, "step": step, "data": data} for step, data in rows]
            )

    def update_logged(
        self,
        target: LogTarget,
        *,
        summary: Mapping[str, Any],
        metric: MetricStats,
        last_step: int | None,
        log_seq: int,
        state: RunState,
    ) -> None:
        self.conn.execute(
            sql.update_logged,
            {
                "run_id": target.id,
                "summary": dict(summary),
                "metric": metric.to_json(),
                "last_step": last_step,
                "log_seq": log_seq,
                "state": state.value,
            },
        )

    def append_output(self, run_id: str, text: str, *, head_chars: int, tail_chars: int) -> None:
        """Add what the run printed: kept are the first ``head_chars`` and the newest ``tail_chars``."""
        row = self.conn.execute(
            sa.select(run_output.c.head, run_output.c.tail, run_output.c.size)
            .where(run_output.c.run_id == run_id)
            .with_for_update()
        ).first()
        head, tail, size = (row.head, row.tail, int(row.size)) if row is not None else ("", "", 0)
        total = size + len(text)
        room = head_chars - len(head)
        if room > 0:
            head, text = head + text[:room], text[room:]
        values = {"head": head, "tail": (tail + text)[-tail_chars:], "size": total}
        if row is None:
            self.conn.execute(sa.insert(run_output).values(run_id=run_id, **values))
        else:
            self.conn.execute(sa.update(run_output).where(run_output.c.run_id == run_id).values(**values))

    def output(self, run_id: str) -> tuple[str, str, int]:
        """The run's kept output: (head, tail, size of everything it printed)."""
        row = self.conn.execute(
            sa.select(run_output.c.head, run_output.c.tail, run_output.c.size).where(
                run_output.c.run_id == run_id
            )
        ).first()
        if row is None:
            self.run(run_id)  # NotFoundError for a run that does not exist
            return "", "", 0
        return row.head, row.tail, int(row.size)

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set run columns (``config``, ``name``)."""
        self.conn.execute(sa.update(runs).where(runs.c.id == run_id).values(**values))

    def revive(self, run_ids: Sequence[str]) -> None:
        """Runs reaped as crashed while their agent was cut off from the store are running again
        (unless they were retried meanwhile)."""
        self.conn.execute(
            sa.update(runs)
            .where(
                runs.c.id.in_(list(run_ids)),
                runs.c.state == RunState.CRASHED.value,
                runs.c.retried_by.is_(None),
            )
            .values(state=RunState.RUNNING.value, finished_at=None, error=None)
        )

    def request_stop(
        self, run_id: str, reason: str, info: Mapping[str, Any] | None = None, *, sweep_id: str | None = None
    ) -> bool:
        """Ask one active run, not yet asked, to stop; True if this call asked it."""
        where = [runs.c.id == run_id, runs.c.state.in_(sql.ACTIVE), runs.c.stop_requested.is_(False)]
        if sweep_id is not None:
            where.append(runs.c.sweep_id == sweep_id)
        result = self.conn.execute(
            sa.update(runs)
            .where(*where)
            .values(stop_requested=True, stop_reason=reason, stop_info=None if info is None else dict(info))
        )
        return result.rowcount > 0

    def db_now(self):
        return as_utc(self.conn.execute(sa.select(utcnow())).scalar_one())

    def reap_crashed(self, sweep_id: str, timeout_s: float) -> list[str]:
        """Mark "crashed" the sweep's running runs silent for more than ``timeout_s`` (caller holds
        the sweep's lock)."""
        error = f"no heartbeat for more than {timeout_s:g} s: its agent or process stopped"
        cutoff = self.db_now() - timedelta(seconds=float(timeout_s))
        last_seen = sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at, runs.c.created_at)
        return list(
            self.conn.execute(
                sa.update(runs)
                .where(
                    runs.c.sweep_id == sweep_id,
                    runs.c.state == RunState.RUNNING.value,
                    last_seen < cutoff,
                )
                .values(state=RunState.CRASHED.value, finished_at=utcnow(), error=error)
                .returning(runs.c.id)
            ).scalars()
        )

    # --- messages -------------------------------------------------------------------------------

    def no_sweep(self, sweep_id: str) -> NotFoundError:
        return NotFoundError(f"no sweep {sweep_id!r} in {self.store_url}")

    def no_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(f"no run {run_id!r} in {self.store_url}")


def exists(conn: sa.Connection, table: sa.Table, row_id: str) -> bool:
    return conn.execute(sa.select(table.c.id).where(table.c.id == row_id)).first() is not None


def sweep_record(row: sa.Row) -> SweepRecord:
    m = row._mapping
    return SweepRecord(
        id=m["id"],
        project=m["project"],
        entity=m["entity"],
        name=m["name"],
        state=SweepState(m["state"]),
        config=m["config"] or {},
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        finished_reason=m["finished_reason"],
        run_count=m["run_count"],
        retry_count=m["retry_count"],
        source=m["source"],
    )


def run_record(row: sa.Row) -> RunRecord:
    m = row._mapping
    return RunRecord(
        id=m["id"],
        sweep_id=m["sweep_id"],
        number=m["number"],
        project=m["project"],
        name=m["name"],
        state=RunState(m["state"]),
        params=m["params"] or {},
        config=m["config"],
        summary=m["summary"] or {},
        metric=MetricStats.from_json(m["metric"]),
        last_step=m["last_step"],
        log_seq=int(m["log_seq"] or 0),
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
        claim_key=m["claim_key"],
        retry_of=m["retry_of"],
        retried_by=m["retried_by"],
    )
