"""What the runs of a sweep tell the bayes model: observed values, imputed failures, pending points.

Values are turned "lower is better" with ``metric.sign``. By run state (as W&B's engine counts them;
docs/bayes.md, "Run states and imputation"):

- finished: the run's value (``MetricStats.best``: the best of its logged values and the summary
  value it set); a finished run with neither is imputed like a failed one;
- failed, crashed, killed: imputed by ``metric.impute``:
  ``worst`` the worst finite value seen in any run (0.0 when none), ``best`` the run's own best
  logged value (else the best value seen in any run, else 0.0), ``latest`` the run's last
  logged value (else the worst);
- pending, running, preempting and preempted: pending points (no value). A preempted run is
  requeued and resumes, as in W&B, so its point is taken but its result is still to come.

This module needs no numpy: it works on each run's ``MetricStats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sweepkit.runs import ACTIVE_STATES, UNSUCCESSFUL_STATES, RunState

#: Runs whose point is taken and whose result is still to come.
PENDING_STATES = ACTIVE_STATES | {RunState.PREEMPTED}


@dataclass
class Observations:
    """Runs sorted by what the model does with them (values are ``sign * value``)."""

    observed: list[tuple[int, float]] = field(default_factory=list)  # (run index, value)
    imputed: list[int] = field(default_factory=list)  # run indexes of imputed values
    pending: list[int] = field(default_factory=list)  # run indexes


def _signed_values(run: Any, goal: str, sign: float) -> tuple[float | None, float | None]:
    """The run's best and last values, signed (its summary value when it logged none)."""
    stats = run.metric
    best = stats.best(goal)
    last = stats.last if stats.count else None
    return (None if best is None else sign * best), (None if last is None else sign * last)


def collect(metric: Any, runs: list[Any]) -> Observations:
    sign = float(metric.sign)
    impute = getattr(metric, "impute", "worst") or "worst"
    per_run = [_signed_values(r, metric.goal, sign) for r in runs]
    # The worst value seen: each run's worst logged value (signed max), or its summary value.
    worst_seen = [
        sign * (r.metric.max if sign > 0 else r.metric.min) if r.metric.count else best
        for r, (best, _last) in zip(runs, per_run, strict=True)
    ]
    worst_seen = [v for v in worst_seen if v is not None]
    best_seen = [best for best, _last in per_run if best is not None]
    worst = max(worst_seen) if worst_seen else 0.0
    best_any = min(best_seen) if best_seen else 0.0
    out = Observations()
    for i, (run, (best, last)) in enumerate(zip(runs, per_run, strict=True)):
        state = RunState(run.state)
        if state in PENDING_STATES:
            out.pending.append(i)
            continue
        if state == RunState.FINISHED and best is not None:
            out.observed.append((i, best))
            continue
        if state != RunState.FINISHED and state not in UNSUCCESSFUL_STATES:
            continue
        if impute == "best":
            value = best if best is not None else best_any
        elif impute == "latest":
            value = last if last is not None else worst
        else:
            value = worst
        out.imputed.append(i)
        out.observed.append((i, value))
    return out
