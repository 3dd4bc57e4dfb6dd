"""The sweep controller: the operations agents, the CLI and the Python API perform on a sweep.

It joins the pure pieces (config, space, search, stopping) to the store: each operation is one
store call whose decision (which parameters next, which runs to stop) is taken by a pure function
inside the store's transaction. A later HTTP server exposes these same operations, and a remote
client offers the same methods, so agents never care which one they hold.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.runs import MetricStats, RunState, RunView, goal_reached
from sweepkit.search.base import Finished, Suggestion

#: Seconds without a heartbeat after which a running run counts as crashed.
DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0


def heartbeat_timeout_s() -> float:
    """The crash timeout: ``SWEEPKIT_HEARTBEAT_TIMEOUT`` seconds, or the default."""
    raw = os.environ.get("SWEEPKIT_HEARTBEAT_TIMEOUT")
    if not raw:
        return DEFAULT_HEARTBEAT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise SweepkitError(
            f"SWEEPKIT_HEARTBEAT_TIMEOUT: expected a number of seconds, got {raw!r}"
        ) from None
    if value <= 0:
        raise SweepkitError(f"SWEEPKIT_HEARTBEAT_TIMEOUT: expected a positive number, got {raw!r}")
    return value


@dataclass(frozen=True)
class SweepRef:
    """A sweep named on the command line: ``id``, ``project/id`` or ``entity/project/id``."""

    id: str
    project: str | None = None
    entity: str | None = None

    @classmethod
    def parse(cls, text: str) -> SweepRef:
        parts = text.strip().split("/")
        if not all(parts) or len(parts) > 3:
            raise SweepkitError(f"sweep id {text!r}: expected 'id', 'project/id' or 'entity/project/id'")
        if len(parts) == 1:
            return cls(parts[0])
        if len(parts) == 2:
            return cls(parts[1], project=parts[0])
        return cls(parts[2], project=parts[1], entity=parts[0])


def best_metric_value(view: RunView, metric_name: str, goal: str) -> float | None:
    """A run's best value of the metric (see ``MetricStats.best``)."""
    return view.metric.best(goal)


class _SweepPlan:
    """The loaded config and search space of one sweep, kept while its config is unchanged."""

    def __init__(self, config: Mapping[str, Any], source: str):
        from sweepkit.space import SearchSpace
        from sweepkit.sweep_config import load_config

        self.config = load_config(dict(config), filename=source)
        self.space = SearchSpace.from_config(self.config)

    def rng(self, n_runs: int) -> random.Random:
        seed = self.config.seed
        if seed is None:
            return random.Random()
        return random.Random(f"sweepkit:{seed}:{n_runs}")

    def next_run(self, sweep, runs: Sequence[RunView]) -> Suggestion | Finished:
        """The next run's parameters; ``runs`` may load lazily, so look at them only when needed."""
        cfg = self.config
        if cfg.run_cap is not None and sweep.run_count >= cfg.run_cap:
            return Finished(f"run_cap {cfg.run_cap} reached")
        metric = cfg.metric
        if metric is not None and metric.target is not None:
            for view in runs:
                if view.state != RunState.FINISHED:
                    continue
                best = best_metric_value(view, metric.name, metric.goal)
                if best is not None and goal_reached(best, metric.goal, metric.target):
                    return Finished(
                        f"metric.target {metric.target:g} reached by run {view.id} ({metric.name}={best:g})"
                    )
        from sweepkit.search import next_run

        return next_run(cfg, self.space, runs, self.rng(sweep.run_count))

    def stop_requests(self, load_runs) -> list:
        """Hyperband's verdicts over all the sweep's runs, as requests to stop running runs."""
        if not self.config.early_terminate or self.config.metric is None:
            return []
        from sweepkit.stopping import hyperband
        from sweepkit.store import StopRequest

        return [
            StopRequest(
                d.run_id,
                d.reason,
                {"rule": "hyperband", "band": d.band, "value": d.value, "threshold": d.threshold},
            )
            for d in hyperband.stop_runs(self.config, load_runs())
        ]


class Controller:
    """Sweep operations over one store (see the module docstring)."""

    #: How long a sweep read for logging or attaching a run may be reused (``--update`` is seen
    #: within this many seconds).
    SWEEP_CACHE_S = 2.0

    def __init__(self, store):
        self.store = store
        self._plans: dict[str, tuple[Any, _SweepPlan]] = {}
        self._sweeps: dict[str, tuple[float, Any]] = {}
        self._last_reap: dict[str, float] = {}

    # -- sweeps ---------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return self.store.url

    def create_sweep(
        self,
        source: Mapping[str, Any] | str | Path,
        *,
        project: str | None = None,
        entity: str | None = None,
        name: str | None = None,
    ):
        """Validate a config (file path or dict) and store a new sweep; returns (record, config)."""
        from sweepkit.sweep_config import load_config

        cfg = load_config(source)
        record = self.store.create_sweep(
            cfg.data,
            project=project or cfg.project,
            entity=entity or cfg.entity,
            name=name or cfg.name,
        )
        return record, cfg

    def get_sweep(self, ref: str | SweepRef):
        ref = ref if isinstance(ref, SweepRef) else SweepRef.parse(ref)
        return self.store.get_sweep(ref.id, project=ref.project, entity=ref.entity)

    def cached_sweep(self, sweep_id: str):
        """The sweep's record, read again only when the cached one is older than SWEEP_CACHE_S."""
        now = time.monotonic()
        hit = self._sweeps.get(sweep_id)
        if hit is not None and now - hit[0] < self.SWEEP_CACHE_S:
            return hit[1]
        sweep = self.store.get_sweep(sweep_id)
        self._sweeps[sweep_id] = (now, sweep)
        return sweep

    def plan(self, sweep) -> _SweepPlan:
        cached = self._plans.get(sweep.id)
        if cached is not None and cached[0] == sweep.updated_at:
            return cached[1]
        plan = _SweepPlan(sweep.config, source=f"sweep {sweep.id}")
        self._plans[sweep.id] = (sweep.updated_at, plan)
        return plan

    def update_sweep(self, ref: str | SweepRef, source: Mapping[str, Any] | str | Path):
        """Replace a sweep's config; the new one must be valid and keep the method."""
        from sweepkit.sweep_config import load_config

        sweep = self.get_sweep(ref)
        cfg = load_config(source)
        old_method = sweep.config.get("method")
        if cfg.method != old_method:
            raise SweepkitError(
                f"{cfg.source}: method: cannot change a running sweep's method from "
                f"{old_method!r} to {cfg.method!r}; create a new sweep instead"
            )
        self.store.update_sweep_config(sweep.id, cfg.data)
        return self.store.get_sweep(sweep.id)

    def set_state(self, ref: str | SweepRef, action: str) -> Any:
        """Apply ``pause``, ``resume``, ``stop`` or ``cancel`` to a sweep."""
        sweep = self.get_sweep(ref)
        terminal = {"finished", "cancelled"}
        if action == "pause":
            if sweep.state != "running":
                raise SweepkitError(f"sweep {sweep.id} is {sweep.state}; only a running sweep can be paused")
            self.store.set_sweep_state(sweep.id, "paused")
        elif action == "resume":
            if sweep.state in terminal:
                raise SweepkitError(f"sweep {sweep.id} is {sweep.state} and cannot be resumed")
            self.store.set_sweep_state(sweep.id, "running")
        elif action == "stop":
            if sweep.state not in terminal:
                self.store.set_sweep_state(sweep.id, "stopped", reason="stopped by user")
        elif action == "cancel":
            if sweep.state != "cancelled":
                self.store.set_sweep_state(sweep.id, "cancelled", reason="cancelled by user")
            self.store.request_stop_all(sweep.id, "sweep cancelled")
        else:  # pragma: no cover - the CLI offers only these four
            raise ValueError(action)
        return self.store.get_sweep(sweep.id)

    # -- agents and runs --------------------------------------------------------------------------
    def register_agent(self, sweep_id: str, *, host: str, pid: int) -> str:
        return self.store.register_agent(sweep_id, host=host, pid=pid)

    def agent_heartbeat(self, agent_id: str) -> None:
        self.store.agent_heartbeat(agent_id)

    def agent_finished(self, agent_id: str) -> None:
        self.store.agent_finished(agent_id)

    def next_run(self, sweep_id: str, agent_id: str):
        """Claim the next run of a sweep for an agent (see ``Store.claim_run``)."""
        self.reap_crashed(sweep_id)
        return self.store.claim_run(
            sweep_id, agent_id, lambda sweep, runs: self.plan(sweep).next_run(sweep, runs)
        )

    def reap_crashed(self, sweep_id: str, *, force: bool = False) -> list[str]:
        """Mark the sweep's silent runs crashed; at most every quarter timeout unless forced."""
        timeout = heartbeat_timeout_s()
        now = time.monotonic()
        if not force and now - self._last_reap.get(sweep_id, -1e9) < timeout / 4:
            return []
        self._last_reap[sweep_id] = now
        return self.store.reap_crashed(sweep_id, timeout_s=timeout)

    def start_standalone_run(self, *, project=None, name=None, config=None):
        return self.store.create_run(project=project, name=name, config=config)

    def get_run(self, run_id: str):
        return self.store.get_run(run_id)

    def sweep_values(self, run) -> dict[str, Any]:
        """A run's sweep parameters as its program sees them: nested groups as nested dicts."""
        if run.sweep_id is None:
            return {}
        return self.plan(self.cached_sweep(run.sweep_id)).space.unflatten(run.params)

    def run_config(self, run) -> dict[str, Any]:
        """The config a run's program saw: what it stored, else its sweep parameters."""
        if run.config is not None:
            return dict(run.config)
        return self.sweep_values(run)

    def update_run(self, run_id: str, *, config=None, summary_update=None, name=None) -> None:
        self.store.update_run(run_id, config=config, summary_update=summary_update, name=name)

    def log(self, run_id: str, rows: list[dict[str, Any]], *, sweep_id: str | None = None):
        """Record history rows; a sweep with early termination decides stops here, as values arrive."""
        metric_name = None
        stop_check = None
        if sweep_id is not None:
            # The stored config is already validated and filled in: read what logging needs from
            # it directly; the full plan is built only when a run reaches a hyperband band.
            stored = self.cached_sweep(sweep_id).config
            metric_name = (stored.get("metric") or {}).get("name")
            if metric_name and stored.get("early_terminate"):
                stop_check = self._stop_check
        return self.store.log(run_id, rows, metric_name=metric_name, stop_check=stop_check)

    def _stop_check(self, sweep, this_run: RunView, load_runs) -> list:
        """Inside the log transaction: judge the sweep's runs once this run has reached a band."""
        from sweepkit.stopping import hyperband

        et = sweep.config.get("early_terminate")
        if not et or not hyperband.reached_band(et, this_run.metric.count):
            return []
        return self.plan(sweep).stop_requests(load_runs)

    def heartbeat_run(self, run_id: str):
        return self.store.heartbeat_run(run_id)

    def finish_run(self, run_id: str, state: RunState, *, exit_code=None, error=None) -> None:
        self.store.finish_run(run_id, state, exit_code=exit_code, error=error)

    def request_stop(self, run_id: str, reason: str) -> None:
        self.store.request_stop(run_id, reason)

    def list_runs(self, sweep_id: str):
        self.reap_crashed(sweep_id, force=True)
        return self.store.list_runs(sweep_id)

    def best_run(self, sweep_id: str):
        """The finished run with the best value of the sweep's metric, or None."""
        sweep = self.store.get_sweep(sweep_id)
        metric = self.plan(sweep).config.metric
        if metric is None:
            return None
        best, best_value = None, None
        for run in self.store.list_runs(sweep_id):
            if run.state != RunState.FINISHED:
                continue
            stats = MetricStats.from_values(run.metric_history).with_summary(run.summary.get(metric.name))
            view = RunView(run.id, run.state, run.params, stats)
            value = best_metric_value(view, metric.name, metric.goal)
            if value is None:
                continue
            if best_value is None or (
                value < best_value if metric.goal == "minimize" else value > best_value
            ):
                best, best_value = run, value
        return best


def open_controller(db: str | None = None) -> Controller:
    """A controller over the store at ``db`` (URL or path; default: SWEEPKIT_DB or ./.sweepkit)."""
    from sweepkit.store import open_store

    return Controller(open_store(db))
