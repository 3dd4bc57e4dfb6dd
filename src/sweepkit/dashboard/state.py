"""The dashboard's memory of the sweeps it shows: one service, and per sweep its rows, curves and importance.

``DashboardState`` opens the sweep service on first use (``service_factory()``, called once) and
keeps, for the sweeps recently looked at, a :class:`SweepRuns`, the :class:`Curves` of the few keys
charts asked for lately and an :class:`ImportanceCache`, so that many browsers polling the same
sweep cost one refresh a second.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sweepkit.dashboard.curves import ITERATION, Curves
from sweepkit.dashboard.importance import ImportanceCache
from sweepkit.dashboard.sweep_runs import SweepRuns
from sweepkit.runs import RunState
from sweepkit.service import SweepInfo, SweepService

#: Sweeps whose rows and curves are kept; the least recently shown is dropped first.
MAX_SWEEPS = 32
#: Curves (a key against an x) kept per sweep besides the metric's by iteration.
MAX_CURVES = 4


@dataclass
class SweepMemory:
    runs: SweepRuns
    #: Curves by (key, x); the least recently asked for is dropped first.
    curves: OrderedDict[tuple[str, str], Curves] = field(default_factory=OrderedDict)
    importance: ImportanceCache = field(default_factory=ImportanceCache)
    thresholds: tuple[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def curves_of(self, service: SweepService, key: str, x: str) -> Curves:
        """The curves of ``key`` against ``x`` (made on first use)."""
        with self.lock:
            found = self.curves.get((key, x))
            if found is None:
                rule = self.runs.sweep.plan.stopping
                bands = rule.bands if rule is not None and x == ITERATION else ()
                found = self.curves[(key, x)] = Curves(service, key, x, bands)
                metric_curves = (self.runs.metric, ITERATION)
                while len(self.curves) > MAX_CURVES + 1:
                    oldest = next(k for k in self.curves if k != metric_curves)
                    del self.curves[oldest]
            self.curves.move_to_end((key, x))
            return found


class DashboardState:
    """See the module docstring."""

    def __init__(self, service_factory: Callable[[], SweepService], *, refresh_interval_s: float = 1.0):
        self._factory = service_factory
        self._service: SweepService | None = None
        self.refresh_interval_s = refresh_interval_s
        self._sweeps: OrderedDict[str, SweepMemory] = OrderedDict()
        self._best: dict[str, tuple[Any, float | None]] = {}
        self._lock = threading.Lock()

    @property
    def service(self) -> SweepService:
        with self._lock:
            if self._service is None:
                self._service = self._factory()
            return self._service

    def sweep(self, sweep_id: str, *, refresh: bool = True) -> SweepMemory:
        """The memory of sweep ``sweep_id`` (NotFoundError when there is no such sweep), refreshed."""
        service = self.service
        with self._lock:
            memory = self._sweeps.get(sweep_id)
            if memory is not None:
                self._sweeps.move_to_end(sweep_id)
        if memory is None:
            runs = SweepRuns(service, sweep_id, min_interval_s=self.refresh_interval_s)
            runs.refresh(force=True)  # raises NotFoundError for an unknown sweep
            memory = SweepMemory(runs)
            with self._lock:
                memory = self._sweeps.setdefault(sweep_id, memory)
                while len(self._sweeps) > MAX_SWEEPS:
                    self._sweeps.popitem(last=False)
        elif refresh:
            memory.runs.refresh()
        return memory

    def known(self, sweep_id: str) -> SweepMemory | None:
        """The memory of a sweep if it is kept (never loads one)."""
        with self._lock:
            return self._sweeps.get(sweep_id)

    def forget(self, sweep_id: str) -> None:
        with self._lock:
            self._sweeps.pop(sweep_id, None)

    def best(self, sweep: SweepInfo) -> float | None:
        """The sweep's best value among finished runs (as ``sweepkit best``), asked of the service
        again only when its number of finished runs or its objective changed."""
        memory = self.known(sweep.id)
        if memory is not None:
            return memory.runs.best()
        objective = sweep.plan.objective
        if objective is None:
            return None
        key = (sweep.runs_by_state.get(RunState.FINISHED.value, 0), objective)
        cached = self._best.get(sweep.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        run = self.service.best_run(sweep.id)
        value = run.value(objective) if run is not None else None
        self._best[sweep.id] = (key, value)
        return value
