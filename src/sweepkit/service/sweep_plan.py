"""A stored sweep's policy: its loaded config and space, and the decisions the service takes with them.

``SweepPlan`` answers, for the local service inside its transactions: which parameters come next
(``run_cap``, ``metric.target``, then the search method), which runs to stop (the stopping rule),
which metric iterations a run's aggregates keep, and how a claimed run becomes an ``Assignment``.
Pure apart from the config it holds: no store, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit import env
from sweepkit.runs import MetricStats, RunState, RunView, goal_reached, is_metric_value
from sweepkit.search.base import Finished, Suggestion
from sweepkit.stopping import StopDecision, band_iterations


class SweepPlan:
    """The loaded config and search space of one sweep (rebuilt when its config changes)."""

    def __init__(self, config: Mapping[str, Any], source: str):
        from sweepkit.space import SearchSpace
        from sweepkit.sweep_config import load_config

        self.config = load_config(dict(config), filename=source)
        self.space = SearchSpace.from_config(self.config)
        metric = self.config.metric
        self.metric_name: str | None = metric.name if metric is not None else None
        self.bands: frozenset[int] = (
            band_iterations(self.config.early_terminate) if metric is not None else frozenset()
        )

    @property
    def planned_runs(self) -> int | None:
        """``run_cap``, else the grid's size (the smaller of the two for a capped grid); None otherwise."""
        cap = self.config.run_cap
        if self.config.method == "grid":
            from sweepkit.search.grid import grid_size

            size = grid_size(self.space)
            return size if cap is None else min(cap, size)
        return cap

    # --- claims --------------------------------------------------------------------------------------

    def rng(self, n_runs: int) -> random.Random:
        seed = self.config.seed
        if seed is None:
            return random.Random()
        return random.Random(f"sweepkit:{seed}:{n_runs}")

    def next_run(self, run_count: int, runs: Sequence[RunView]) -> Suggestion | Finished:
        """The next run's parameters; ``runs`` may load lazily, so look at them only when needed."""
        cfg = self.config
        if cfg.run_cap is not None and run_count >= cfg.run_cap:
            return Finished(f"run_cap {cfg.run_cap} reached")
        metric = cfg.metric
        if metric is not None and metric.target is not None:
            for view in runs:
                best = view.metric.best(metric.goal) if view.state == RunState.FINISHED else None
                if best is not None and goal_reached(best, metric.goal, metric.target):
                    return Finished(
                        f"metric.target {metric.target:g} reached by run {view.id} ({metric.name}={best:g})"
                    )
        from sweepkit.search import next_run

        return next_run(cfg, self.space, runs, self.rng(run_count))

    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A run's parameters as its program sees them: nested groups as nested dicts."""
        return self.space.unflatten(dict(params))

    def assignment_fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parts of an ``Assignment`` that come from the sweep's config."""
        from sweepkit.command_template import CommandError, render_parts, uses_args_json_file

        values = self.values(params)
        command, error = None, None
        try:
            command = render_parts(self.config.command, values, program=self.config.program)
        except CommandError as err:
            error = str(err)
        return {
            "config": values,
            "command": command,
            "command_error": error,
            "needs_args_json_file": uses_args_json_file(self.config.command),
            "metric_name": self.metric_name,
        }

    # --- logging ---------------------------------------------------------------------------------------

    @property
    def stops_runs(self) -> bool:
        return bool(self.bands)

    def metric_values(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        if self.metric_name is None:
            return []
        name = self.metric_name
        return [row[name] for row in rows if name in row and is_metric_value(row[name])]

    def crosses_band(self, stats: MetricStats, new_values: int) -> bool:
        """Whether ``new_values`` more values take a run with ``stats`` into a new band."""
        return bool(self.crossed_bands(stats, new_values))

    def crossed_bands(self, stats: MetricStats, new_values: int) -> list[int]:
        """The bands that ``new_values`` more values take a run with ``stats`` into, ascending.

        Only these bands' thresholds change, so only the runs whose latest band is one of them can
        be condemned now: the stopping rule judges each with the runs that reached it.
        """
        return sorted(band for band in self.bands if stats.count < band <= stats.count + new_values)

    def stop_runs(self, runs: Sequence[RunView]) -> list[StopDecision]:
        from sweepkit.stopping import stop_runs

        return stop_runs(self.config, runs)


def run_env(sweep_id: str, run_id: str, project: str | None, entity: str | None) -> dict[str, str]:
    """The environment a run gets from its sweep: W&B's names and sweepkit's (never a secret)."""
    out = {
        env.SWEEP_ID: sweep_id,
        env.RUN_ID: run_id,
        env.WANDB_SWEEP_ID: sweep_id,
        env.WANDB_RUN_ID: run_id,
    }
    if project:
        out[env.WANDB_PROJECT] = project
    if entity:
        out[env.WANDB_ENTITY] = entity
    return out
