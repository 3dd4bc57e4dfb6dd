"""Hyperband early termination as W&B defines it: bands, per-band thresholds, and which running runs to stop.

This is a stopping rule over the runs of one sweep, not bracketed Hyperband (W&B's rule;
docs/early-termination.md):

* the *bands* are iteration counts, from ``max_iter`` and ``s`` or from ``min_iter``, and ``eta``;
* *iteration k* of a run is the k-th finite value of the sweep's metric that the run logged;
* the *threshold* of band ``b`` is the value at iteration ``b`` of every run (in any state) that has
  at least ``b`` values, sorted from best to worst, at index ``int(count / eta)``;
* a *running* run is stopped when its value at its latest band (strict) or its best value so far
  (non-strict) is worse than that band's threshold. Ties survive.

The arithmetic follows the reference engine (``sweeps`` 0.3.0) to the last float rounding: bands are
built by repeated division or multiplication by ``eta``, at most 100 bands come from ``min_iter``,
and the threshold index is ``int(count * (1 / eta))``.

Pure: no I/O. :func:`decide_runs` works on plain values; :func:`stop_runs` (the stopping-rule
signature) reads them from a sweep config. Each run brings its ``MetricStats``: the values at the band
iterations and its best value, so no history is read. The values of runs that ended for good may
come sorted instead of as runs (``ended``: ``sweepkit.stopping.band_values``): a threshold is then
the same value, found without going through every run.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sweepkit.runs import RunState, RunView
from sweepkit.runs.objective import sign as goal_sign

#: How many bands ``min_iter`` yields in the reference engine (``min_iter * eta**k`` for k = 0..99).
MIN_ITER_BAND_COUNT = 100

#: Bands above this are left out: no run logs that many values, and floats lose integer precision.
_LARGEST_BAND = 2**53


@dataclass(frozen=True)
class StopDecision:
    """One running run to stop, and why.

    ``value`` and ``threshold`` are in the metric's own terms (not negated for ``maximize``).
    ``value`` is the run's value at iteration ``band`` (strict) or its best value so far (non-strict).
    """

    run_id: str
    band: int
    value: float
    threshold: float
    reason: str


# --- bands -------------------------------------------------------------------------------------------


def _eta(early_terminate: Mapping[str, Any]) -> float:
    eta = early_terminate.get("eta", 3)
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not eta > 1 or not math.isfinite(eta):
        raise ValueError(f"early_terminate.eta: expected a number greater than 1, got {eta!r}")
    return eta


def _whole(early_terminate: Mapping[str, Any], key: str) -> int:
    value = early_terminate[key]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise ValueError(f"early_terminate.{key}: expected an integer, got {value!r}")
    return int(value)


def _uses_max_iter(early_terminate: Mapping[str, Any]) -> bool:
    """``max_iter`` with ``s`` wins over ``min_iter``; ``max_iter`` alone cannot make bands."""
    return "max_iter" in early_terminate and "s" in early_terminate


def bands(early_terminate: Mapping[str, Any], *, up_to: int | None = None) -> list[int]:
    """The band iteration counts of an ``early_terminate`` section, ascending, without repeats.

    From ``max_iter`` and ``s``: ``max_iter / eta**k`` for k = 1..s, truncated, keeping those >= 1
    (27, s=2, eta=3 -> [3, 9]). From ``min_iter``: ``min_iter * eta**k`` for k = 0..99, truncated
    (3, eta=3 -> [3, 9, 27, ...]). ``up_to`` keeps only bands <= ``up_to`` (for display, or to
    look at the bands a history of that length has reached). An empty list means the section
    defines no band, which the config loader reports as an error.

    Raises ``ValueError`` when neither ``min_iter`` nor ``max_iter`` with ``s`` is given, or when
    ``eta``, ``min_iter``, ``max_iter`` or ``s`` are not numbers of the expected kind.
    """
    eta = _eta(early_terminate)
    limit = _LARGEST_BAND if up_to is None else min(up_to, _LARGEST_BAND)
    found: list[int] = []
    if _uses_max_iter(early_terminate):
        band: float = _whole(early_terminate, "max_iter")
        for _ in range(max(_whole(early_terminate, "s"), 0)):
            band /= eta
            if band < 1:
                break
            found.append(int(band))
    elif "min_iter" in early_terminate:
        band = _whole(early_terminate, "min_iter")
        for _ in range(MIN_ITER_BAND_COUNT):
            if int(band) > limit:
                break
            found.append(int(band))
            band *= eta
    else:
        raise ValueError("early_terminate: expected min_iter, or max_iter with s")
    return sorted({b for b in found if 1 <= b <= limit})


def band_at(early_terminate: Mapping[str, Any], n_values: int) -> int | None:
    """The latest band a run with ``n_values`` finite metric values has reached, or None."""
    reached = bands(early_terminate, up_to=n_values)
    return reached[-1] if reached else None


# --- decisions ---------------------------------------------------------------------------------------


def _show(value: float, other: float) -> str:
    """A short rendering of ``value``, precise enough to tell it apart from ``other``."""
    short = f"{value:.4g}"
    return short if short != f"{other:.4g}" else repr(float(value))


def decide_runs(
    early_terminate: Mapping[str, Any],
    goal: str,
    runs: Sequence[RunView],
    *,
    metric_name: str = "metric",
    ended: Mapping[int, Sequence[float]] | None = None,
) -> list[StopDecision]:
    """The running runs the hyperband rule stops now, in the order of ``runs``.

    ``early_terminate`` is the normalized section (``min_iter`` or ``max_iter`` and ``s``, ``eta``
    default 3, ``strict`` default true); ``goal`` is ``"minimize"`` or ``"maximize"``; each run's
    ``metric`` holds its values at the band iterations. ``metric_name`` only appears in the reasons.
    ``ended``: for each band, the values there of other runs (not in ``runs``; none of them running),
    as ``sign * value`` ascending (maximize negated): they count for the thresholds as if they were
    runs of ``runs``.
    """
    band_list = bands(early_terminate)
    if not band_list:
        return []
    eta = _eta(early_terminate)
    strict = bool(early_terminate.get("strict", True))
    sign = goal_sign(goal)
    known: dict[int, tuple[float, int]] = {}

    def threshold(band: int) -> tuple[float, int]:
        # Lower is better here: maximize is negated.
        if band not in known:
            found = _signed_threshold(runs, band, sign, eta, ended)
            assert found is not None  # the run being judged has a value at this band
            known[band] = found
        return known[band]

    decisions = []
    for run in runs:
        stats = run.metric
        if run.state != RunState.RUNNING or not stats.count:
            continue
        band = band_at(early_terminate, stats.count)
        if band is None or stats.at(band) is None:
            continue
        limit, count = threshold(band)
        value = sign * (stats.at(band) if strict else stats.best_logged(goal))
        if value > limit:
            decisions.append(
                _decision(
                    run.id, band, sign * value, sign * limit, count, stats.count, eta, strict, metric_name
                )
            )
    return decisions


def _signed_threshold(
    runs: Sequence[RunView],
    band: int,
    sign: int,
    eta: float,
    ended: Mapping[int, Sequence[float]] | None = None,
) -> tuple[float, int] | None:
    """``sign`` times band ``band``'s threshold, and how many runs reached it (None: no run did);
    ``ended[band]`` (sorted, signed) counts as more runs."""
    share = 1.0 / eta  # the reference engine's r; int(n * r) and int(n / eta) differ for a few n
    at_band = sorted(sign * value for run in runs if (value := run.metric.at(band)) is not None)
    others = ended.get(band, ()) if ended is not None else ()
    count = len(at_band) + len(others)
    if not count:
        return None
    index = int(count * share)
    if not others:
        return at_band[index], count
    # The value at ``index`` of both lists merged: of the index + 1 lowest values at most
    # len(at_band) are not in ``others``, so it is among others[index - len(at_band) : index + 1].
    low = max(0, index - len(at_band))
    return sorted([*others[low : index + 1], *at_band])[index - low], count


def thresholds(
    early_terminate: Mapping[str, Any],
    goal: str,
    runs: Sequence[RunView],
    *,
    ended: Mapping[int, Sequence[float]] | None = None,
) -> dict[int, tuple[float, int]]:
    """Each band's threshold now, in the metric's own terms, and how many runs reached that band.

    Only bands that some run has reached appear. A running run whose value at its latest band is
    worse than that band's threshold is stopped (see :func:`decide_runs`); dashboards draw these.
    ``ended``: the values of other runs at each band, as :func:`decide_runs` takes them.
    """
    most = max((run.metric.count for run in runs), default=0)
    if ended:
        most = max(most, *ended)  # a value at a band means at least that many iterations
    eta = _eta(early_terminate)
    sign = goal_sign(goal)
    out: dict[int, tuple[float, int]] = {}
    for band in bands(early_terminate, up_to=most):
        found = _signed_threshold(runs, band, sign, eta, ended)
        if found is not None:
            out[band] = (sign * found[0], found[1])
    return out


def _decision(
    run_id: str,
    band: int,
    value: float,
    limit: float,
    count: int,
    n_values: int,
    eta: float,
    strict: bool,
    metric_name: str,
) -> StopDecision:
    if strict:
        what = f"{metric_name} {_show(value, limit)} at iteration {band}"
        mode = ""
    else:
        what = f"best {metric_name} {_show(value, limit)} in {n_values} iterations"
        mode = ", non-strict"
    reached = "1 run" if count == 1 else f"{count} runs"
    reason = (
        f"hyperband: {what} is worse than the band-{band} threshold {_show(limit, value)} "
        f"(eta={eta:g}{mode}, {reached} reached it)"
    )
    return StopDecision(run_id=run_id, band=band, value=float(value), threshold=float(limit), reason=reason)


def stop_runs(
    cfg: Any, runs: Sequence[RunView], *, ended: Mapping[int, Sequence[float]] | None = None
) -> list[StopDecision]:
    """The running runs to stop now under the sweep's ``early_terminate`` section ([] without one).

    ``cfg`` is a loaded sweep config (``sweepkit.sweep_config.SweepConfig``: its ``early_terminate``
    and the metric it judges, ``metric`` or the first of ``metrics``, are read), as W&B's ``stop_runs(config, runs)`` takes it.
    ``ended``: as :func:`decide_runs` takes it.
    """
    early_terminate = cfg.early_terminate
    metric = getattr(cfg, "judged_metric", None) or cfg.metric  # also a W&B-shaped config
    if not early_terminate or metric is None:
        return []
    kind = early_terminate.get("type", "hyperband")
    if kind != "hyperband":
        raise ValueError(f"early_terminate.type: expected 'hyperband', got {kind!r}")
    return decide_runs(early_terminate, metric.goal, runs, metric_name=metric.name, ended=ended)
