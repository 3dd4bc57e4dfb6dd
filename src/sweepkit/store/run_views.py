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

import functools
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
    stmt = _statements(conn.dialect.name)["live" if states else "all"]
    params = {"sweep_id": sweep_id, "states": list(states)} if states else {"sweep_id": sweep_id}
    return [view for view, _retried in _parse(conn.execute(stmt, params).scalar())]


def load_changed(conn: sa.Connection, sweep_id: str, after: int) -> tuple[list[RunView], list[str]]:
    """The sweep's runs stamped after change ``after``: views of those not retried, ids of the others."""
    stmt = _statements(conn.dialect.name)["changed"]
    return _split_changed(_parse(conn.execute(stmt, {"sweep_id": sweep_id, "after": int(after)}).scalar()))


def load_changed_and_live(
    conn: sa.Connection, sweep_id: str, after: int, states: Sequence[str]
) -> tuple[list[RunView], list[str], list[RunView]]:
    """``load_changed`` and ``load_views(states)`` in one statement (two aggregates, each read through
    its own index): one round trip to the server instead of two."""
    if not states:
        changed, retried = load_changed(conn, sweep_id, after)
        return changed, retried, load_views(conn, sweep_id)
    stmt = _statements(conn.dialect.name)["changed and live"]
    params = {"sweep_id": sweep_id, "after": int(after), "states": list(states)}
    changed_text, live_text = conn.execute(stmt, params).one()
    changed, retried = _split_changed(_parse(changed_text))
    return changed, retried, [view for view, _retried in _parse(live_text)]


@functools.cache
def _statements(dialect: str) -> dict[str, sa.Select]:
    """The statements above for ``dialect``, built once (building one costs more than running it on
    SQLite), with the sweep's id, the states and the change number bound at execution."""
    sweep = runs.c.sweep_id == sa.bindparam("sweep_id")
    not_retried = runs.c.retried_by.is_(None)
    in_states = runs.c.state.in_(sa.bindparam("states", expanding=True))
    changed = [sweep, runs.c.change_seq > sa.bindparam("after", type_=sa.BigInteger())]
    aggregate = _aggregate(dialect)
    return {
        "all": sa.select(aggregate).where(sweep, not_retried),
        "live": sa.select(aggregate).where(sweep, not_retried, in_states),
        "changed": sa.select(aggregate).where(*changed),
        "changed and live": sa.select(
            sa.select(aggregate).where(*changed).scalar_subquery(),
            sa.select(aggregate).where(sweep, not_retried, in_states).scalar_subquery(),
        ),
    }


def _split_changed(found: list[tuple[RunView, bool]]) -> tuple[list[RunView], list[str]]:
    return [view for view, retried in found if not retried], [view.id for view, retried in found if retried]


def _aggregate(dialect: str) -> sa.ColumnElement:
    """The runs a query selects as one JSON text: an array of [number, id, state, params, metric,
    retried] arrays."""
    if dialect == "sqlite":
        element = sa.func.json_array(
            runs.c.number,
            runs.c.id,
            runs.c.state,
            sa.func.json(runs.c.params),
            sa.func.json(runs.c.metric),
            runs.c.retried_by.is_not(None),
        )
        return sa.func.json_group_array(element)
    if dialect == "postgresql":
        element = sa.func.json_build_array(
            runs.c.number,
            runs.c.id,
            runs.c.state,
            runs.c.params,
            runs.c.metric,
            runs.c.retried_by.is_not(None),
        )
        return sa.cast(sa.func.json_agg(element), sa.Text)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL stores are opened


def _parse(text: str | None) -> list[tuple[RunView, bool]]:
    """(view, whether retried) of the runs in an aggregate's JSON text, in run-number order."""
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
