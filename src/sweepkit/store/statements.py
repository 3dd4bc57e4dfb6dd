"""SQL statements of the hot paths (claim, log, heartbeat), built once with bound parameters.

Building a SQLAlchemy statement costs more than running it on SQLite; the statements that agents
run for every run or every logged row are therefore built here once and executed with parameters.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sweepkit.runs import ACTIVE_STATES, RunState
from sweepkit.store.schema import history, runs, sweeps
from sweepkit.store.sqltypes import JSONData, utcnow

_RUNNING = RunState.RUNNING.value

#: The sweep row, locked until the transaction ends (FOR UPDATE; SQLite holds its write lock anyway).
lock_sweep = sa.select(sweeps).where(sweeps.c.id == sa.bindparam("sweep_id")).with_for_update()

set_run_count = (
    sa.update(sweeps)
    .where(sweeps.c.id == sa.bindparam("sweep_id"))
    .values(run_count=sa.bindparam("run_count"))
)

#: A new running run; the caller binds every other column.
insert_run = (
    sa.insert(runs)
    .values(
        state=_RUNNING,
        summary=sa.bindparam("summary", {}, type_=JSONData()),
        metric_history=sa.bindparam("metric_history", [], type_=JSONData()),
        last_step=None,
        created_at=utcnow(),
        started_at=utcnow(),
        heartbeat_at=utcnow(),
        stop_requested=False,
    )
    .returning(*runs.c)
)

run_sweep_id = sa.select(runs.c.sweep_id).where(runs.c.id == sa.bindparam("run_id"))

#: What ``log`` needs to know about its run, locked.
run_for_log = (
    sa.select(runs.c.state, runs.c.summary, runs.c.last_step, runs.c.stop_requested, runs.c.stop_reason)
    .where(runs.c.id == sa.bindparam("run_id"))
    .with_for_update()
)

insert_history = sa.insert(history)

update_history = (
    sa.update(history)
    .where(history.c.run_id == sa.bindparam("h_run_id"), history.c.step == sa.bindparam("h_step"))
    .values(data=sa.bindparam("h_data", type_=JSONData()))
)

stored_history = sa.select(history.c.step, history.c.data).where(
    history.c.run_id == sa.bindparam("run_id"), history.c.step.in_(sa.bindparam("steps", expanding=True))
)

heartbeat_run = (
    sa.update(runs)
    .where(runs.c.id == sa.bindparam("run_id"), runs.c.state.in_(sorted(s.value for s in ACTIVE_STATES)))
    .values(heartbeat_at=utcnow())
    .returning(runs.c.state, runs.c.stop_requested, runs.c.stop_reason)
)

run_control = sa.select(runs.c.state, runs.c.stop_requested, runs.c.stop_reason).where(
    runs.c.id == sa.bindparam("run_id")
)


@lru_cache(maxsize=64)
def log_update(dialect: str, appended: int, replace_last: bool, returning: bool) -> sa.Update:
    """The run update of a ``log`` call appending ``appended`` metric values (bound as ``m0``, ``m1``...,
    JSON text) and maybe replacing the last one (``mlast``); returning params and metric history if asked.
    """
    values = {
        "summary": sa.bindparam("summary", type_=JSONData()),
        "last_step": sa.bindparam("last_step"),
        "heartbeat_at": utcnow(),
    }
    if appended or replace_last:
        values["metric_history"] = _metric_history(dialect, appended, replace_last)
    stmt = sa.update(runs).where(runs.c.id == sa.bindparam("run_id")).values(**values)
    if returning:
        stmt = stmt.returning(runs.c.params, runs.c.metric_history)
    return stmt


def _json_param(name: str) -> sa.BindParameter:
    return sa.bindparam(name, type_=sa.String())


def _metric_history(dialect: str, appended: int, replace_last: bool) -> sa.ColumnElement:
    """The metric history with new values, computed by the database (Python never reads the list)."""
    column = runs.c.metric_history
    if dialect == "sqlite":
        expr: sa.ColumnElement = column
        if replace_last:
            expr = sa.func.json_set(expr, "$[#-1]", sa.func.json(_json_param("mlast")))
        if appended:
            pairs: list = []
            for i in range(appended):
                pairs += ["$[#]", sa.func.json(_json_param(f"m{i}"))]
            expr = sa.func.json_insert(expr, *pairs)
        return expr
    if dialect == "postgresql":
        expr = sa.cast(column, postgresql.JSONB)
        if replace_last:
            path = sa.cast(sa.literal("{-1}", sa.String()), postgresql.ARRAY(sa.Text))
            expr = sa.func.jsonb_set(expr, path, sa.cast(_json_param("mlast"), postgresql.JSONB))
        if appended:
            items = [sa.cast(_json_param(f"m{i}"), postgresql.JSONB) for i in range(appended)]
            expr = expr.op("||")(sa.func.jsonb_build_array(*items))
        return sa.cast(expr, sa.JSON)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL stores are opened
