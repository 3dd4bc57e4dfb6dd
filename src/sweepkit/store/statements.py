"""SQL statements of the hot paths (claim, log, heartbeat, finish), built once with bound parameters.

Building a SQLAlchemy statement costs more than running it on SQLite; the statements that agents
run for every run or every logged batch are therefore built here once and executed with parameters.
"""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.runs import RunState
from sweepkit.store.schema import agents, history, run_output, runs, sweep_digests, sweeps
from sweepkit.store.sqltypes import JSONData, JSONDoc, utcnow

_RUNNING = RunState.RUNNING.value


def _in(column: sa.Column, name: str) -> sa.ColumnElement:
    """``column IN (...)`` with the values bound at execution (a list)."""
    return column.in_(sa.bindparam(name, expanding=True))


#: The database's clock.
now = sa.select(utcnow())

#: The sweep row (read by every claim of bayes before the lock, and by most calls).
sweep_by_id = sa.select(sweeps).where(sweeps.c.id == sa.bindparam("sweep_id"))

#: What a service saved of the sweep's ended runs (read by a new process's first claim).
digest_snapshot = sa.select(sweep_digests.c.change_seq, sweep_digests.c.key, sweep_digests.c.data).where(
    sweep_digests.c.sweep_id == sa.bindparam("sweep_id")
)

#: The sweep row, locked until the transaction ends (FOR UPDATE; SQLite holds its write lock anyway).
lock_sweep = sweep_by_id.with_for_update()

#: ``lock_sweep``, and whether a run was claimed with the claim key already (``claimed``): the first
#: statement of every claim. The key is looked up with the statement's snapshot, taken before the lock
#: is granted, as when it was read before the lock: a claim that raced another with the same key is
#: refused by the key's unique index and run again, and then finds that run.
lock_sweep_for_claim = (
    sa.select(sweeps, sa.exists().where(runs.c.claim_key == sa.bindparam("claim_key")).label("claimed"))
    .where(sweeps.c.id == sa.bindparam("sweep_id"))
    .with_for_update(of=sweeps)
)

set_run_counts = (
    sa.update(sweeps)
    .where(sweeps.c.id == sa.bindparam("sweep_id"))
    .values(run_count=sa.bindparam("run_count"), retry_count=sa.bindparam("retry_count"))
)

#: A new running run; the caller binds every other column.
insert_run = (
    sa.insert(runs)
    .values(
        state=_RUNNING,
        summary=sa.bindparam("summary", {}, type_=JSONData()),
        metric=sa.bindparam("metric", {}, type_=JSONDoc()),
        last_step=None,
        log_seq=0,
        created_at=utcnow(),
        started_at=utcnow(),
        heartbeat_at=utcnow(),
        stop_requested=False,
    )
    .returning(*runs.c)
)

#: ``set_run_counts`` and ``insert_run`` in one statement, for PostgreSQL (whose ``WITH`` may update):
#: the sweep's counts bound as ``counted_sweep``, ``run_count``, ``retry_count``. (As text: an UPDATE
#: built by SQLAlchemy would also take the run's values bound at execution as its sweep's columns.)
insert_counted_run = insert_run.add_cte(
    sa.text(
        "UPDATE sweeps SET run_count = :run_count, retry_count = :retry_count WHERE sweeps.id = :counted_sweep"
    )
    .bindparams(
        sa.bindparam("run_count", type_=sa.Integer()),
        sa.bindparam("retry_count", type_=sa.Integer()),
        sa.bindparam("counted_sweep", type_=sa.String()),
    )
    .columns()
    .cte("counted")
)

#: The sweep's first queued run (a retry waiting for an agent).
next_queued_run = (
    sa.select(runs.c.id)
    .where(runs.c.sweep_id == sa.bindparam("sweep_id"), runs.c.state == RunState.PENDING.value)
    .order_by(runs.c.number)
    .limit(1)
)

#: A queued run handed to an agent: running from now.
start_queued_run = (
    sa.update(runs)
    .where(runs.c.id == sa.bindparam("run_id"))
    .values(
        state=_RUNNING,
        agent_id=sa.bindparam("agent_id"),
        claim_key=sa.bindparam("claim_key"),
        slot=sa.bindparam("slot"),
        started_at=utcnow(),
        heartbeat_at=utcnow(),
    )
    .returning(*runs.c)
)

run_by_claim_key = sa.select(runs).where(runs.c.claim_key == sa.bindparam("claim_key"))

#: What logging needs to know about its run, locked.
log_target = (
    sa.select(
        runs.c.id,
        runs.c.sweep_id,
        runs.c.state,
        runs.c.summary,
        runs.c.metric,
        runs.c.last_step,
        runs.c.log_seq,
        runs.c.stop_requested,
        runs.c.stop_reason,
        runs.c.retried_by,
    )
    .where(runs.c.id == sa.bindparam("run_id"))
    .with_for_update()
)

#: The run's metric aggregates and its sweep, unlocked (to decide whether a batch needs the sweep's lock).
log_peek = (
    sa.select(runs.c.metric.label("run_metric"), sweeps)
    .select_from(runs.outerjoin(sweeps, runs.c.sweep_id == sweeps.c.id))
    .where(runs.c.id == sa.bindparam("run_id"))
)

insert_history = sa.insert(history)

#: The run after a logged batch.
update_logged = (
    sa.update(runs)
    .where(runs.c.id == sa.bindparam("run_id"))
    .values(
        summary=sa.bindparam("summary", type_=JSONData()),
        metric=sa.bindparam("metric", type_=JSONDoc()),
        last_step=sa.bindparam("last_step"),
        log_seq=sa.bindparam("log_seq"),
        state=sa.bindparam("state"),
        heartbeat_at=utcnow(),
    )
)

_output_columns = (run_output.c.head, run_output.c.tail, run_output.c.size)
output = sa.select(*_output_columns).where(run_output.c.run_id == sa.bindparam("run_id"))
output_locked = output.with_for_update()
insert_output = sa.insert(run_output)
#: (bound as ``of_run``, ``head``, ``tail``, ``size``: a bound name may not be the column it sets)
update_output = sa.update(run_output).where(run_output.c.run_id == sa.bindparam("of_run"))

#: An agent heard from.
touch_agent = sa.update(agents).where(agents.c.id == sa.bindparam("agent_id")).values(heartbeat_at=utcnow())

#: Runs heard from: those in the given states are dated now.
touch_runs = (
    sa.update(runs)
    .where(_in(runs.c.id, "run_ids"), _in(runs.c.state, "states"))
    .values(heartbeat_at=utcnow())
)

#: Runs in the given states, not retried, running again.
reopen_runs = (
    sa.update(runs)
    .where(_in(runs.c.id, "run_ids"), _in(runs.c.state, "from_states"), runs.c.retried_by.is_(None))
    .values(state=_RUNNING, finished_at=None, error=None)
)

run_statuses = sa.select(runs.c.id, runs.c.state, runs.c.stop_requested, runs.c.stop_reason).where(
    _in(runs.c.id, "run_ids")
)

#: A run ended, if it is in one of the given states.
end_run = (
    sa.update(runs)
    .where(runs.c.id == sa.bindparam("run_id"), _in(runs.c.state, "from_states"))
    .values(
        state=sa.bindparam("state"),
        finished_at=utcnow(),
        exit_code=sa.bindparam("exit_code"),
        error=sa.bindparam("error"),
        change_seq=sa.func.coalesce(sa.bindparam("change_seq", type_=sa.BigInteger()), runs.c.change_seq),
    )
    .returning(*runs.c)
)
