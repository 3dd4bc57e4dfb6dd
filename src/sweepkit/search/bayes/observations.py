"""What the runs of a sweep tell the bayes model: observed values, imputed failures, pending points.

Values are turned "lower is better" with ``metric.sign``. By run state (SPEC.md section 2):

- finished: the best finite value the run logged, else its finite ``summary[metric.name]``;
  a finished run with neither is imputed like a failed one;
- failed, crashed, killed, preempted: imputed by ``metric.impute``:
  ``worst`` the worst finite value seen in any run (0.0 when none), ``best`` the run's own best
  logged value (else the best value seen in any run, else 0.0), ``latest`` the run's last
  logged value (else the worst);
- pending, running, preempting: pending points (no value).

This module needs no numpy: it works on plain floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sweepkit.runstate import ACTIVE_STATES, UNSUCCESSFUL_STATES, RunState


@dataclass
class Observations:
    """Runs sorted by what the model does with them (values are ``sign * value``)."""

    observed: list[tuple[int, float]] = field(default_factory=list)  # (run index, value)
    imputed: list[int] = field(default_factory=list)  # run indexes of imputed values
    pending: list[int] = field(default_factory=list)  # run indexes


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _signed_values(run: Any, name: str, sign: float) -> list[float]:
    """The run's finite logged values, signed; its summary value when it logged none."""
    values = [sign * v for v in run.finite_history()]
    if not values:
        s = _finite((run.summary or {}).get(name))
        if s is not None:
            values = [s * sign]
    return values


def collect(metric: Any, runs: list[Any]) -> Observations:
    sign = float(metric.sign)
    name = metric.name
    impute = getattr(metric, "impute", "worst") or "worst"
    per_run = [_signed_values(r, name, sign) for r in runs]
    seen = [v for vals in per_run for v in vals]
    worst = max(seen) if seen else 0.0
    best_seen = min(seen) if seen else 0.0
    out = Observations()
    for i, (run, vals) in enumerate(zip(runs, per_run, strict=True)):
        state = RunState(run.state)
        if state in ACTIVE_STATES:
            out.pending.append(i)
            continue
        if state == RunState.FINISHED and vals:
            out.observed.append((i, min(vals)))
            continue
        if state != RunState.FINISHED and state not in UNSUCCESSFUL_STATES:
            continue
        if impute == "best":
            value = min(vals) if vals else best_seen
        elif impute == "latest":
            last = [sign * v for v in run.finite_history()]
            value = last[-1] if last else worst
        else:
            value = worst
        out.imputed.append(i)
        out.observed.append((i, value))
    return out
