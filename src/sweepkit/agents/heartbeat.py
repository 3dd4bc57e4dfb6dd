"""``Heartbeat``: one thread per agent that tells the service the agent and its runs are alive.

Every ``interval_s`` it sends one heartbeat for the agent and all the runs it is executing, and
passes each run's stop request (early termination, cancel) to that run's reporter. A store that is
busy or unreachable is simply tried again at the next beat; a store that is gone (or no longer
knows this agent) is fatal for the agent, which ``on_fatal`` is told once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sweepkit.errors import NotFoundError, StoreGone, StoreUnavailable, SweepkitError


class Heartbeat(threading.Thread):
    def __init__(
        self, service: Any, agent_id: str, interval_s: float, on_fatal: Callable[[BaseException], None]
    ):
        super().__init__(daemon=True, name="sweepkit-heartbeat")
        self.service, self.agent_id, self.interval_s = service, agent_id, interval_s
        self.on_fatal = on_fatal
        #: run id -> its reporter (stop requests are passed to it)
        self.runs: dict[str, Any] = {}
        self.halt = threading.Event()
        self._lock = threading.Lock()

    def watch(self, run_id: str, reporter: Any) -> None:
        with self._lock:
            self.runs[run_id] = reporter

    def forget(self, run_id: str) -> None:
        with self._lock:
            self.runs.pop(run_id, None)

    def beat(self) -> None:
        """One heartbeat now (also used while a sweep is paused)."""
        with self._lock:
            watched = dict(self.runs)
        try:
            controls = self.service.heartbeat(self.agent_id, list(watched))
        except StoreUnavailable:
            return  # the next beat tries again; runs go on
        except (StoreGone, NotFoundError) as exc:
            self.on_fatal(exc if isinstance(exc, StoreGone) else StoreGone(f"{exc}: the store was replaced"))
            return
        except SweepkitError:
            return
        for control in controls:
            reporter = watched.get(control.run_id)
            if reporter is not None and control.stop_requested:
                reporter.ask_stop(control.stop_reason or "stop requested")

    def run(self) -> None:
        while not self.halt.wait(self.interval_s):
            self.beat()
