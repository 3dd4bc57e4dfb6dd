"""A sweep's progress as a terminal shows it, kept up to date through the service cheaply.

``SweepProgress.poll()`` asks the service for the sweep (counts by state, planned runs, agents)
and, through a ``RunFeed``, for the runs that ended since the last poll: a sweep of 10,000 runs is
read once, then only its newest runs are. From these it keeps what a view shows: runs done against
the planned number, elapsed and estimated time left (from the pace of recent runs), the top runs
by the sweep's objective (each run's value as the service judged it, compared with the objective's
own rule), the best value so far after each finished run, and the newest failures and stops with their reason
(kept apart, so that many hyperband stops do not hide a failure).
No terminal code here: ``live_view`` draws it with rich, ``line`` says it in one plain line.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any

from sweepkit.cli.run_feed import RunFeed
from sweepkit.runs import FINAL_SWEEP_STATES, TERMINAL_STATES, RunState, SweepState

#: Runs whose end a view lists with its reason: failures, and runs stopped (by hyperband, Ctrl-C).
FAILURE_STATES = frozenset({RunState.FAILED, RunState.CRASHED})
STOP_STATES = frozenset({RunState.KILLED})
#: How many recent ends set the pace.
_PACE_WINDOW = 50


class SweepProgress:
    """What a view of one sweep shows (see the module docstring)."""

    def __init__(
        self, service: Any, sweep_id: str, *, total: int | None = None, top: int = 10, problems: int = 3
    ):
        self.service, self.sweep_id = service, sweep_id
        self._total = total
        self._top_n = top
        self.feed = RunFeed(service, sweep_id)
        self.info: Any = None
        #: The ``top`` best finished runs as a heap of (-key, -number, run) (``Objective.key``: lower
        #: is better): its first item is the worst one kept (ties: the later run), the one to drop
        #: when a better run comes.
        self._best: list[tuple[float, int, Any]] = []
        #: The best value so far after each finished run, in the order they finished.
        self.best_series: list[float] = []
        #: The newest failed or crashed runs, and the newest killed ones, newest last.
        self.failures: deque[Any] = deque(maxlen=problems)
        self.stops: deque[Any] = deque(maxlen=problems)
        self._ends: deque[float] = deque(maxlen=_PACE_WINDOW)
        self._last_end: datetime | None = None

    # --- polling ---------------------------------------------------------------------------------

    def poll(self) -> list[Any]:
        """Bring the view up to date; returns the runs (``RunInfo``) that ended since the last poll."""
        self.info = self.service.get_sweep(self.sweep_id)
        ended = sorted(self.feed.poll(), key=_end_time)
        objective = self.objective
        for run in ended:
            end = _end_time(run)
            self._ends.append(end.timestamp())
            self._last_end = end if self._last_end is None else max(self._last_end, end)
            if run.state in FAILURE_STATES:
                self.failures.append(run)
            elif run.state in STOP_STATES:
                self.stops.append(run)
            value = run.value(objective) if objective and run.state == RunState.FINISHED else None
            if value is None:
                continue
            heapq.heappush(self._best, (-objective.key(value), -run.number, run))
            if len(self._best) > self._top_n:
                heapq.heappop(self._best)
            previous = self.best_series[-1] if self.best_series else None
            better = previous is None or objective.better(value, previous)
            self.best_series.append(value if better else previous)
        return ended

    # --- what a view shows -------------------------------------------------------------------------

    @property
    def objective(self) -> Any:
        """The sweep's (first) objective (an ``Objective``), or None."""
        return self.info.plan.objective if self.info else None

    @property
    def metric(self) -> str | None:
        objective = self.objective
        return objective.name if objective is not None else None

    @property
    def done(self) -> int:
        """Runs that have ended, in any state."""
        return sum(n for state, n in self.info.runs_by_state.items() if RunState(state) in TERMINAL_STATES)

    @property
    def total(self) -> int | None:
        """Runs the sweep will have handed out when it is done (None: open-ended)."""
        planned = self.info.planned_runs
        if self._total is None:
            return planned
        return self._total if planned is None else min(planned, self._total)

    @property
    def over(self) -> bool:
        """The sweep starts nothing more and no run of it is going (a watcher can stop)."""
        quiet = not any(RunState(s) not in TERMINAL_STATES for s, n in self.info.runs_by_state.items() if n)
        return quiet and (self.info.state in FINAL_SWEEP_STATES or self.info.state == SweepState.STOPPED)

    @property
    def unattended(self) -> bool:
        """Runs are still to come, but no agent is working on the sweep (no time left can be told)."""
        return not self.over and self.info.live_agents == 0

    def elapsed_s(self) -> float:
        """Seconds since the sweep was created (until its last run ended, once it is over)."""
        end = self._last_end if self.over and self._last_end else datetime.now(timezone.utc)
        return max(0.0, (end - self.info.created_at).total_seconds())

    def runs_per_minute(self) -> float | None:
        """The pace of the recent ends, or None before two runs have ended."""
        if len(self._ends) < 2:
            return None
        # While runs go on, the time since the last end counts too: a stalled sweep slows down.
        until = self._ends[-1] if self.over else max(self._ends[-1], time.time())
        span = until - self._ends[0]
        return 60.0 * (len(self._ends) - 1) / span if span > 0 else None

    def left_s(self) -> float | None:
        """Estimated seconds until ``total`` runs have ended (None when it cannot be told)."""
        total, pace = self.total, self.runs_per_minute()
        if total is None or pace is None or self.over or self.unattended:
            return None
        return max(0, total - self.done) / pace * 60.0

    def top_runs(self) -> list[Any]:
        """The best finished runs, best first (ties: the earlier run first)."""
        return [run for _, _, run in sorted(self._best, reverse=True)]

    def line(self) -> str:
        """The progress in one plain line (no time left: the line is printed whenever it changes)."""
        from sweepkit.agents.messages import value_text

        by_state = self.info.runs_by_state
        total = self.total
        parts = [f"{self.done}/{total} done" if total is not None else f"{self.done} done"]
        parts += [f"{n} {state}" for state, n in sorted(by_state.items()) if n]
        top = self.top_runs()
        if top:
            parts.append(f"best {self.metric}={value_text(top[0].value(self.objective))} ({top[0].id})")
        if self.unattended:
            parts.append("no agent is working on it")
        scheduler = self.info.scheduler
        if scheduler is not None and scheduler.state != "alive" and not self.over:
            parts.append("scheduler gone" if scheduler.state == "gone" else "no scheduler started yet")
        return "runs: " + ", ".join(parts)


def _end_time(run: Any) -> datetime:
    """When a run ended (a crashed one: its last heartbeat)."""
    if run.state == RunState.CRASHED and run.heartbeat_at is not None:
        return run.heartbeat_at
    return run.finished_at or run.heartbeat_at or run.created_at
