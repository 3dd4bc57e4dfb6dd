"""Loading every run of a sweep as ``RunView``s, fast: one aggregated JSON document per sweep.

A claim reads every run of its sweep while holding the sweep's lock, so this must stay cheap with
thousands of runs. Decoding one JSON text built by the database (``json_group_array`` on SQLite,
``json_agg`` on PostgreSQL) costs a fraction of decoding three JSON columns per row in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.store.schema import runs
from sweepkit.store.sqltypes import from_json_data

_STATES = {state.value: state for state in RunState}
_NONFINITE_MARKS = ('"NaN"', 'Infinity"')


class LazyRunViews(Sequence):
    """The runs of a sweep, read from the database on first use (within the claim's transaction).

    Plans that do not look at the runs (a random search without ``metric.target``) then cost no
    read at all, whatever the size of the sweep.
    """

    def __init__(self, conn: sa.Connection, sweep_id: str, metric_name: str | None = None):
        self._conn, self._sweep_id, self._metric_name = conn, sweep_id, metric_name
        self._views: list[RunView] | None = None

    def _load(self) -> list[RunView]:
        if self._views is None:
            self._views = load_views(self._conn, self._sweep_id, self._metric_name)
        return self._views

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self):
        return iter(self._load())


def load_views(conn: sa.Connection, sweep_id: str, metric_name: str | None = None) -> list[RunView]:
    """Every run of the sweep (id, state, params, metric history, summary), in run-number order."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        element = sa.func.json_array(
            runs.c.number,
            runs.c.id,
            runs.c.state,
            sa.func.json(runs.c.params),
            sa.func.json(runs.c.metric_history),
            sa.func.json(runs.c.summary),
        )
        aggregate = sa.func.json_group_array(element)
    elif dialect == "postgresql":
        element = sa.func.json_build_array(
            runs.c.number, runs.c.id, runs.c.state, runs.c.params, runs.c.metric_history, runs.c.summary
        )
        aggregate = sa.cast(sa.func.json_agg(element), sa.Text)
    else:  # pragma: no cover - only SQLite and PostgreSQL stores are opened
        return _load_views_by_row(conn, sweep_id, metric_name)
    text = conn.execute(sa.select(aggregate).where(runs.c.sweep_id == sweep_id)).scalar()
    if not text:
        return []
    items = json.loads(text)
    items.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    restore = any(mark in text for mark in _NONFINITE_MARKS)
    views = []
    for _number, run_id, state, params, metric_history, summary in items:
        if restore:
            metric_history = from_json_data(metric_history)
            summary = from_json_data(summary)
        views.append(_view(run_id, _STATES[state], params, metric_history, summary, metric_name))
    return views


def _load_views_by_row(conn: sa.Connection, sweep_id: str, metric_name: str | None) -> list[RunView]:
    rows = conn.execute(
        sa.select(runs.c.id, runs.c.state, runs.c.params, runs.c.metric_history, runs.c.summary)
        .where(runs.c.sweep_id == sweep_id)
        .order_by(runs.c.number, runs.c.id)
    )
    return [_view(i, _STATES[s], p, h, m, metric_name) for i, s, p, h, m in rows]


def _view(run_id, state, params, metric_history, summary, metric_name) -> RunView:
    stats = MetricStats.from_values(metric_history or [])
    if metric_name is not None and not stats.count:
        stats = stats.with_summary((summary or {}).get(metric_name))
    return RunView(run_id, state, params or {}, stats)
