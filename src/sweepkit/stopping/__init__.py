"""Stopping rules: which running runs of a sweep to stop now, and why.

Every rule module exposes ``stop_runs(config, runs) -> list[StopDecision]`` over
``sweepkit.runs.RunView``s; :func:`stop_runs` dispatches on ``early_terminate.type``. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.runs import RunView
from sweepkit.stopping.hyperband import StopDecision

__all__ = ["StopDecision", "band_iterations", "stop_runs"]


def stop_runs(
    config: Any, runs: Sequence[RunView], *, ended: Mapping[int, Sequence[float]] | None = None
) -> list[StopDecision]:
    """The decisions of the sweep's stopping rule ([] when it has none); ``config`` is a loaded sweep
    config (``sweepkit.sweep_config.SweepConfig``); ``ended``: the values at each band of runs that
    ended for good, sorted (``sweepkit.stopping.band_values``), when they are not in ``runs``."""
    if not config.early_terminate or (getattr(config, "judged_metric", None) or config.metric) is None:
        return []
    from sweepkit.stopping import hyperband

    return hyperband.stop_runs(config, runs, ended=ended)


def band_iterations(early_terminate: dict | None) -> frozenset[int]:
    """The iterations at which the rule compares runs: the values a run's ``MetricStats`` keeps."""
    if not early_terminate:
        return frozenset()
    from sweepkit.stopping import hyperband

    return frozenset(hyperband.bands(early_terminate))
