"""Loading runs of a sweep as ``RunView``s, fast: one aggregated JSON document per sweep, or, for a
stopping rule judging one band, only what it needs of the runs that reached the band.

A claim reads every run of its sweep while holding the sweep's lock, so this must stay cheap with
thousands of runs. Runs that were retried are left out: their retry stands for them (a queued retry
is a pending run), so no method counts a point twice or imputes a failure that is being re-run.
Decoding one JSON text built by the database (``json_group_array`` on SQLite,
``json_agg`` on PostgreSQL) costs a fraction of decoding JSON columns row by row in Python. Each
run brings its parameters and its metric aggregates, never a history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.store.schema import runs

_STATES = {state.value: state for state in RunState}


def load_views(conn: sa.Connection, sweep_id: str, states: Sequence[str] = ()) -> list[RunView]:
    """Every run of the sweep not retried (id, state, params, metric aggregates, number), in run-number
    order; only those in ``states`` (values) if any are given."""
    where = [runs.c.sweep_id == sweep_id, runs.c.retried_by.is_(None)]
    if states:
        where.append(runs.c.state.in_(list(states)))
    return [view for view, _retried in _load(conn, where)]


def load_changed(conn: sa.Connection, sweep_id: str, after: int) -> tuple[list[RunView], list[str]]:
    """The sweep's runs stamped after change ``after``: views of those not retried, ids of the others."""
    found = _load(conn, [runs.c.sweep_id == sweep_id, runs.c.change_seq > int(after)])
    return [view for view, retried in found if not retried], [view.id for view, retried in found if retried]


def _load(conn: sa.Connection, where: list) -> list[tuple[RunView, bool]]:
    """(view, whether retried) of the runs ``where`` selects, as one JSON document, in run-number order."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        element = sa.func.json_array(
            runs.c.number,
            runs.c.id,
            runs.c.state,
            sa.func.json(runs.c.params),
            sa.func.json(runs.c.metric),
            runs.c.retried_by.is_not(None),
        )
        aggregate = sa.func.json_group_array(element)
    elif dialect == "postgresql":
        element = sa.func.json_build_array(
            runs.c.number,
            runs.c.id,
            runs.c.state,
            runs.c.params,
            runs.c.metric,
            runs.c.retried_by.is_not(None),
        )
        aggregate = sa.cast(sa.func.json_agg(element), sa.Text)
    else:  # pragma: no cover - only SQLite and PostgreSQL stores are opened
        raise NotImplementedError(dialect)
    text = conn.execute(sa.select(aggregate).where(*where)).scalar()
    if not text:
        return []
    items = json.loads(text)
    items.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    return [
        (RunView(run_id, _STATES[state], params or {}, MetricStats.from_json(metric), number), bool(retried))
        for number, run_id, state, params, metric, retried in items
    ]


def load_band_views(
    conn: sa.Connection, sweep_id: str, band: int, states: Sequence[str] = ()
) -> list[RunView]:
    """The sweep's runs (not retried) that logged at least ``band`` metric values, each with only its
    count, its value at iteration ``band`` and its least and greatest values: what hyperband needs to
    judge that band; only those in ``states`` (values) if any are given. The database extracts them,
    so no parameters or whole aggregates are decoded."""
    dialect = conn.dialect.name
    if dialect == "sqlite":

        def field(path: str):
            return sa.func.json_extract(runs.c.metric, path)

        count, at_band = field("$.count"), field(f'$.bands."{int(band)}"')
        low, high = field("$.min"), field("$.max")
    elif dialect == "postgresql":
        metric = sa.cast(runs.c.metric, postgresql.JSONB)
        count = sa.cast(metric["count"].astext, sa.BigInteger)
        at_band = sa.cast(metric["bands"][str(int(band))].astext, sa.Float)
        low, high = sa.cast(metric["min"].astext, sa.Float), sa.cast(metric["max"].astext, sa.Float)
    else:  # pragma: no cover - only SQLite and PostgreSQL stores are opened
        raise NotImplementedError(dialect)
    where = [runs.c.sweep_id == sweep_id, runs.c.retried_by.is_(None), count >= int(band)]
    if states:
        where.append(runs.c.state.in_(list(states)))
    stmt = sa.select(runs.c.id, runs.c.state, count, at_band, low, high, runs.c.number).where(*where)
    found = list(conn.execute(stmt))
    # Sorted here, not by the database: an ORDER BY on the run number leads SQLite to the index that
    # has it and through every run of the sweep, not to the (sweep, state) one with the few live runs.
    found.sort(key=lambda row: (row[6] is None, row[6] or 0, row[0]))
    views = []
    for run_id, state, n, value, least, most, _number in found:
        bands = {int(band): float(value)} if value is not None else {}
        stats = MetricStats(int(n), None, least, most, bands)
        views.append(RunView(run_id, _STATES[state], {}, stats))
    return views
