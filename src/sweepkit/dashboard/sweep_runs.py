"""A sweep's runs as the dashboard shows them, kept in memory and refreshed with only what changed.

The dashboard asks the sweep service for whole pages of runs once; after that a refresh asks only
for runs numbered after the newest it knows and for the runs that may still change (pending,
running, preempting, crashed), then fetches any of those that left that set. Each run becomes a
compact *row*; a row that differs from the one kept gets the next *version* number, so a browser
that has seen version V is sent only the rows changed after V (``payload(since=...)``).

Rows are lists, not objects, to keep 10,000 runs small on the wire; ``FIELDS`` names their places.
A row's ``best`` is the run's value of the sweep's objective as the service judged it, and ``key``
that value on the objective's lower-is-better scale, so that pages compare runs without knowing
the goal.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from sweepkit.dashboard.curves import plottable
from sweepkit.dashboard.params import ParamAxis, axes
from sweepkit.runs import TERMINAL_STATES, Objective, RunState, rank
from sweepkit.service import RunInfo, SweepInfo, SweepService
from sweepkit.service.types import to_json
from sweepkit.values import dumps

#: The places of a row: ..., the run's parameter values (in ``params`` order), its summary, its last
#: logged step, the agent and the agent's slot that ran it, and where it came from (``RunInfo.origin``).
FIELDS = (
    "number",
    "id",
    "name",
    "state",
    "best",
    "key",
    "last",
    "count",
    "created",
    "started",
    "finished",
    "duration",
    "exit_code",
    "stop_band",
    "stop_requested",
    "params",
    "summary",
    "step",
    "agent",
    "slot",
    "origin",
)

#: Runs whose row may still change: refreshed every time.
WATCHED = (RunState.PENDING, RunState.RUNNING, RunState.PREEMPTING, RunState.CRASHED)

#: Summary values longer than this are left out of rows (the run page shows them whole).
MAX_SUMMARY_TEXT = 80
#: At most this many summary keys per row.
MAX_SUMMARY_KEYS = 40


def _epoch_s(value: Any) -> float | None:
    return None if value is None else round(value.timestamp(), 3)


def _short(value: Any) -> Any:
    """A summary value as a row carries it: numbers, booleans and short text; None for the rest."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str) and len(value) <= MAX_SUMMARY_TEXT:
        return value
    return None


def summary_cells(summary: dict[str, Any], metric: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key.startswith("_") or key == metric:
            continue
        cell = _short(value)
        if cell is not None:
            out[key] = cell
            if len(out) >= MAX_SUMMARY_KEYS:
                break
    return out


class SweepRuns:
    """The rows of one sweep's runs (see the module docstring). Thread-safe."""

    def __init__(self, service: SweepService, sweep_id: str, *, min_interval_s: float = 1.0) -> None:
        self.service = service
        self.sweep_id = sweep_id
        self.min_interval_s = min_interval_s
        #: Changes when this object is rebuilt: a browser's version from another epoch starts over.
        self.epoch = uuid.uuid4().hex[:8]
        self.version = 0
        self.sweep: SweepInfo | None = None
        self.metric: str | None = None
        self.objective: Objective | None = None
        self.params: list[ParamAxis] = []
        self.rows: dict[int, list[Any]] = {}
        self.ids: dict[int, str] = {}
        #: Each run's state, count of metric values and value of the objective.
        self.stats: dict[int, tuple[RunState, int, float | None]] = {}
        #: Each run's last logged step (None before its first row).
        self.last_steps: dict[int, int | None] = {}
        #: The keys of each run's summary that hold a number (what charts can draw across runs).
        self.number_keys: dict[int, frozenset[str]] = {}
        self.changed_at: dict[int, int] = {}
        self._watched: set[int] = set()
        self._newest = 0
        self._config_seen: Any = None
        self._refreshed = -1e18
        self._encoded: dict[int, tuple[list[Any], bytes]] = {}
        self._lock = threading.RLock()

    # --- refreshing -----------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Bring the rows up to date, at most once every ``min_interval_s`` unless ``force``."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._refreshed < self.min_interval_s:
                return
            self._refresh()
            self._refreshed = time.monotonic()

    def _refresh(self) -> None:
        service = self.service
        sweep = service.get_sweep(self.sweep_id)
        if sweep.config != self._config_seen:
            self._config_seen = sweep.config
            self._set_config(sweep)
        self.sweep = sweep
        seen: set[int] = set()
        after = self._newest or None
        while True:
            page = service.list_runs(self.sweep_id, after=after, limit=1000)
            self._take(page.runs, seen)
            if page.next_after is None:
                break
            after = page.next_after
        if not self._watched - seen:
            # Nothing to look after but new runs.
            return
        watched = service.all_runs(self.sweep_id, states=WATCHED)
        self._take([r for r in watched if r.number not in seen], seen)
        for number in sorted(self._watched - seen):
            self._take([service.get_run(self.ids[number])], seen)

    def _set_config(self, sweep: SweepInfo) -> None:
        """A new config (the first, or an update): every row may change shape, so start over."""
        self.objective = sweep.plan.objective
        self.metric = self.objective.name if self.objective is not None else None
        self.params = axes(sweep.plan.parameters)
        self.rows.clear()
        self.changed_at.clear()
        self._watched.clear()
        self._newest = 0
        self.epoch = uuid.uuid4().hex[:8]

    def _take(self, runs: Iterable[RunInfo], seen: set[int]) -> None:
        for run in runs:
            number = run.number
            if number is None:
                continue
            seen.add(number)
            self._newest = max(self._newest, number)
            self.ids[number] = run.id
            self.stats[number] = (run.state, run.metric.count, run.value(self.objective))
            self.last_steps[number] = run.last_step
            keys = frozenset(k for k, v in run.summary.items() if plottable(v))
            if self.number_keys.get(number) != keys:
                self.number_keys[number] = keys
            if run.state in WATCHED:
                self._watched.add(number)
            else:
                self._watched.discard(number)
            row = self._row(run)
            if self.rows.get(number) != row:
                self.version += 1
                self.rows[number] = row
                self.changed_at[number] = self.version

    def _row(self, run: RunInfo) -> list[Any]:
        stop_band = None
        if run.stop_info and isinstance(run.stop_info.get("band"), int):
            stop_band = run.stop_info["band"]
        # A running run's duration grows by itself: the page computes it from "started", so that the
        # row changes only when the run does.
        duration = run.duration_s if run.state in TERMINAL_STATES else None
        value = run.value(self.objective)
        return [
            run.number,
            run.id,
            run.name,
            run.state.value,
            value,
            self.objective.key(value) if value is not None and self.objective is not None else None,
            run.metric.last,
            run.metric.count,
            _epoch_s(run.created_at),
            _epoch_s(run.started_at),
            _epoch_s(run.finished_at),
            None if duration is None else round(duration, 2),
            run.exit_code,
            stop_band,
            run.stop_requested,
            [to_json(run.params.get(p.name)) for p in self.params],
            summary_cells(run.summary, self.metric),
            run.last_step,
            run.agent_id,
            run.slot,
            run.origin,
        ]

    # --- what the dashboard reads ---------------------------------------------------------------------

    def cursor(self) -> str:
        return f"{self.epoch}.{self.version}"

    def payload(self, since: str | None = None) -> dict[str, Any]:
        """Every row (``since`` None or from another epoch), else the rows changed after ``since``."""
        with self._lock:
            version = None
            if since:
                epoch, _, number = since.partition(".")
                if epoch == self.epoch and number.isdigit():
                    version = int(number)
            if version is None:
                rows = [self.rows[n] for n in sorted(self.rows)]
            else:
                rows = [self.rows[n] for n in sorted(self.rows) if self.changed_at[n] > version]
            return {
                "cursor": self.cursor(),
                "full": version is None,
                "fields": list(FIELDS),
                "params": [p.name for p in self.params],
                "rows": rows,
            }

    def encoded(self, since: str | None = None) -> tuple[bytes, dict[str, Any]]:
        """``payload(since)``'s rows as JSON bytes (every row's encoding is kept, so 10,000 rows
        cost a join), and the payload's other fields."""
        with self._lock:
            payload = self.payload(since)
            rows = payload.pop("rows")
            parts = []
            for row in rows:
                number = row[0]
                cached = self._encoded.get(number)
                if cached is None or cached[0] is not row:
                    cached = (row, dumps(row, ascii=True).encode())
                    self._encoded[number] = cached
                parts.append(cached[1])
            return b"[" + b",".join(parts) + b"]", payload

    def best(self) -> float | None:
        """The best value among finished runs (the service's ranking rule, ``sweepkit.runs.rank``)."""
        if self.objective is None:
            return None
        with self._lock:
            finished = [n for n, (state, _count, _value) in self.stats.items() if state == RunState.FINISHED]
            ranked = rank(finished, [self.objective], lambda n: [self.stats[n][2]])
            return self.stats[ranked[0][0]][2] if ranked else None

    def metric_counts(self) -> dict[int, int]:
        with self._lock:
            return {n: count for n, (_state, count, _value) in self.stats.items()}

    def steps(self) -> dict[int, int | None]:
        """Each run's last logged step (what tells curves of any key that a run logged since)."""
        with self._lock:
            return dict(self.last_steps)

    def logged_keys(self) -> dict[str, int]:
        """Every key some run's summary holds a number under, with how many runs have it."""
        with self._lock:
            counts: dict[str, int] = {}
            for keys in self.number_keys.values():
                for key in keys:
                    counts[key] = counts.get(key, 0) + 1
            return counts
