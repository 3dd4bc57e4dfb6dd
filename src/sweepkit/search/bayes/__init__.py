"""The bayes search method: Gaussian-process Bayesian optimisation over a sweep's search space.

``suggest_bayes(cfg, space, runs, rng)`` is a pure function of the config, the space, the runs so
far and the random generator: the same generator state and runs give the same suggestion.

1. The runs become observations (``observations``), rows of model inputs (``encoding``); the runs
   that ended for good are encoded once and kept from claim to claim (``search.sweep_runs``).
2. While there are fewer than ``max(5, d + 1)`` observations, the suggestion is a space-filling
   draw: the prior draw farthest from every run so far, pending ones included.
3. After that a GP (``gp``, fitted by ``model``) models the "lower is better" metric; pending runs
   enter it as fantasies at their predicted mean, never better than the incumbent (a capped
   kriging believer), so parallel agents spread out; the suggestion maximises log expected
   improvement (``acquisition``), and among points within 20% of the best expected improvement
   that differ from it along inputs the model has found to matter little (length scales at least
   ``SPREAD_LENGTH_FACTOR`` times the prior's), it takes the one farthest from the runs so far
   (``acquisition.diversify``).

Points already run (any state) are never suggested again while the space has others; once a
discrete space is used up, the suggestion is a prior draw (W&B's answer too).

A claim computes its suggestion before it takes the sweep's lock (``prepare``), so that agents
claiming at once do not queue behind each other's model fits; under the lock ``complete`` checks it
against the runs found there. When they are the runs it saw (always, with one agent), it is the
suggestion, unchanged. When other agents claimed runs meanwhile, the suggestion is the best of
candidates scored before the lock (the suggestion, the other local maxima of the acquisition, and
a pool of prior draws and local moves around the best runs and around the suggestion) after a
penalty for closeness to each point that became pending since: ``log(1 - rho)``, rho the kernel's
correlation with it at ``RECHECK_PENALTY_SHRINK`` times shorter length scales, a local
penalisation that stands in for conditioning the model on those points. Under the lock that is a
millisecond, not a model fit.
See docs/bayes.md for the reasons behind each choice.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweepkit.search.base import Suggestion
from sweepkit.search.bayes.acquisition import diversify, log_ei, maximise
from sweepkit.search.bayes.encoding import Domain, row_key, row_keys
from sweepkit.search.bayes.gp import Hyper, Posterior, matern, prior_log_length, scaled_sq
from sweepkit.search.bayes.model import Transform, hyperparameters, subset
from sweepkit.search.bayes.observations import IMPUTED, OBSERVED, PENDING, EndedRuns, Points
from sweepkit.search.sweep_runs import ENDED_VIEWS, Digest, EndedViews, SweepRuns, every_run

__all__ = ["Prepared", "complete", "digests", "next_run", "prepare", "suggest_bayes"]

#: The key of bayes's digest in a ``SweepRuns``.
DIGEST = "bayes"

#: ``info["note"]`` when every point of a discrete space has been run.
USED_UP_NOTE = "every point of the space has been run; repeating a random one"

#: Candidates drawn per space-filling suggestion (the farthest from the runs so far wins).
DESIGN_CANDIDATES = 64
#: Spreading (step 4) redraws only inputs whose fitted length scale is at least this many times
#: the prior's median for the space's dimension.
SPREAD_LENGTH_FACTOR = 3.0
#: Random candidates added to a prepared suggestion's local maxima when it is scored again.
RECHECK_POOL = 64
#: Local moves around the prepared suggestion itself added to those candidates: when another agent
#: claimed a point beside it meanwhile, a point near the acquisition's peak can still win.
RECHECK_AROUND = 64
#: The penalty for closeness to a point that became pending uses the kernel's correlation at
#: length scales this many times shorter: a local penalty, not one that empties a whole length
#: scale around each such point (docs/bayes.md, issue 29).
RECHECK_PENALTY_SHRINK = 2.0


@dataclass
class _Model:
    """A prepared suggestion's candidates, scored before the lock, for ``complete`` to penalise."""

    domain: Domain
    hyper: Hyper
    #: The suggestion's point and maximised alternatives, then a pool of prior and local draws.
    candidates: np.ndarray
    keys: list
    #: Each candidate's log EI under the prepared model, and the info fields that depend on it.
    log_ei: np.ndarray
    infos: list[dict[str, float]]


@dataclass
class Prepared:
    """A suggestion computed before the sweep's lock (``prepare``), and what it was computed from."""

    suggestion: Suggestion
    row: np.ndarray | None
    n_runs: int
    counted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pending: list = field(default_factory=list)
    model: _Model | None = None


_blas_controller: Any = None


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Run BLAS on one thread: the matrices here are small, and OpenBLAS's idle threads spinning
    between calls made suggestions several times slower on a 2-core machine. Needs threadpoolctl
    (a scikit-learn dependency); without it BLAS keeps its own setting."""
    global _blas_controller
    try:
        if _blas_controller is None:
            from threadpoolctl import ThreadpoolController

            _blas_controller = ThreadpoolController()
        return _blas_controller.limit(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - optional speed-up only
        return contextlib.nullcontext()


def initial_design_size(dim: int) -> int:
    return max(5, dim + 1)


def _generator(rng: random.Random) -> np.random.Generator:
    return np.random.default_rng(rng.getrandbits(128))


def _min_distance(u: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Distance from each row of ``u`` to the nearest row of ``others``, on the unit torus.

    Wrapping around removes the pull of plain maximin designs towards the faces and corners of
    the cube (which would also over-pick the last category of a categorical axis).
    """
    if len(others) == 0:
        return np.full(len(u), np.inf)
    diff = np.abs(u[:, None, :] - others[None, :, :])
    diff = np.minimum(diff, 1.0 - diff)
    return np.sqrt((diff * diff).sum(axis=2)).min(axis=1)


def _space_filling(
    domain: Domain, gen: np.random.Generator, existing: np.ndarray, used: set
) -> np.ndarray | None:
    """The candidate farthest from every existing point, in the unit cube of prior quantiles.

    Candidates are scrambled Sobol points mapped through the priors (so a category with
    probability 0.9 owns 90% of its axis and most of the design), or, for a small discrete space,
    a prior-weighted choice among its unused points.
    """
    enumerated = domain.enumerate(limit=4096)
    if enumerated is None:
        u = domain.uniform(DESIGN_CANDIDATES, gen)
        cands = domain.from_uniform(u)
        # keep the drawn position inside a category cell, so the distance sees the prior's geometry
        cat = domain.cat_mask
        pos = np.where(cat, u, domain.to_uniform(cands))
    else:
        free = np.array([k not in used for k in row_keys(enumerated)], dtype=bool)
        if not free.any():
            return None
        weights = np.ones(len(enumerated))
        for i, col in enumerate(domain.columns):
            if col.categorical:
                weights *= col.probabilities[enumerated[:, i].astype(int)]
        weights = weights * free
        if weights.sum() <= 0:
            weights = free.astype(float)
        k = min(DESIGN_CANDIDATES, int(free.sum()))
        take = gen.choice(len(enumerated), size=k, replace=False, p=weights / weights.sum())
        cands = enumerated[np.sort(take)]
        pos = domain.to_uniform(cands)
    keep = np.array([k not in used for k in row_keys(cands)], dtype=bool)
    if not keep.any():
        return None
    cands, pos = cands[keep], pos[keep]
    others = domain.to_uniform(existing) if len(existing) else existing
    return cands[int(np.argmax(_min_distance(pos, others)))]


def next_run(config: Any, space: Any, runs: Any, rng: random.Random) -> Suggestion:
    """The search-method signature (see ``sweepkit.search.base``)."""
    return suggest_bayes(config, space, runs, rng)


def suggest_bayes(cfg: Any, space: Any, runs: Any, rng: random.Random) -> Suggestion:
    """The next point to run for a bayes sweep (see the module docstring)."""
    with _one_blas_thread():
        return _suggest(cfg, space, runs, rng)


def prepare(cfg: Any, space: Any, runs: Any, rng: random.Random) -> Prepared | None:
    """The suggestion for ``runs`` (a ``SweepRuns``) with what ``complete`` needs to check it later;
    None when it cannot be checked that way (several metrics: each suggestion draws its weights)."""
    if not isinstance(runs, SweepRuns) or DIGEST not in runs.digests:
        return None
    keep: dict[str, Any] = {}
    with _one_blas_thread():
        suggestion = _suggest(cfg, space, runs, rng, keep)
    return Prepared(
        suggestion,
        keep.get("row"),
        len(runs),
        keep.get("counted", np.empty(0, dtype=np.int64)),
        keep.get("pending", []),
        keep.get("model"),
    )


def complete(prepared: Prepared, runs: SweepRuns) -> Suggestion | None:
    """The suggestion for ``runs`` given one ``prepare``d for the runs as they were: that one when
    the runs are the same, else the prepared model's candidates scored again with the results and
    pending points that came since; None when neither is possible (a full suggestion is needed)."""
    ended = runs.digests.get(DIGEST)
    if ended is None or prepared.row is None:
        return None
    points, used = ended.with_live(runs.live)
    counted, pend, keys = _sorted_runs(points)
    same = (
        len(runs) == prepared.n_runs
        and np.array_equal(counted, prepared.counted)
        and keys == prepared.pending
        and row_key(prepared.row) not in used
    )
    if same:
        return prepared.suggestion
    if prepared.model is None:
        return None
    with _one_blas_thread():
        return _rescored(prepared, points, pend, used, len(runs))


def _sorted_runs(points: Points) -> tuple[np.ndarray, np.ndarray, list]:
    """The run numbers of the observations, the pending rows, and their keys in order."""
    counted = ((points.kind == OBSERVED) | (points.kind == IMPUTED)) & points.has_row
    pend = points.rows[(points.kind == PENDING) & points.has_row]
    return points.numbers[counted], pend, sorted(row_keys(pend))


def _rescored(
    prepared: Prepared, points: Points, pend: np.ndarray, used: set, n_runs: int
) -> Suggestion | None:
    """``complete``'s second case (see the module docstring)."""
    m = prepared.model
    if m is None:
        return None
    fresh = [i for i, key in enumerate(row_keys(pend)) if key not in set(prepared.pending)]
    score = m.log_ei.copy()
    if fresh:
        d2 = scaled_sq(m.candidates, pend[fresh], m.hyper.inv_sq_lengths(), m.domain.cat_mask)
        rho, _ = matern(d2 * RECHECK_PENALTY_SHRINK**2)
        score += np.log(np.maximum(1.0 - rho, 1e-300)).sum(axis=1)
    score[[key in used for key in m.keys]] = -np.inf
    i = int(np.argmax(score))
    if not np.isfinite(score[i]):
        return None
    counted = ((points.kind == OBSERVED) | (points.kind == IMPUTED)) & points.has_row
    info = dict(prepared.suggestion.info)
    info.pop("spread_from_maximum", None)
    info.update(m.infos[i])
    info.update(
        {
            "n_observations": int(counted.sum()),
            "n_pending": len(pend),
            "n_runs": n_runs,
            "penalised_for_new_pending": len(fresh),
        }
    )
    return Suggestion(m.domain.decode(m.candidates[i]), info)


def digests(cfg: Any, space: Any) -> dict[str, Digest]:
    """What bayes keeps of the runs that ended for good (``sweepkit.search.sweep_runs``); with
    several metrics the runs themselves, scalarised afresh for each suggestion."""
    if len(getattr(cfg, "metrics", None) or []) > 1:
        return {ENDED_VIEWS: EndedViews()}
    return {DIGEST: EndedRuns(cfg.metric, Domain(space))}


def _suggest(cfg: Any, space: Any, runs: Any, rng: random.Random, keep: dict | None = None) -> Suggestion:
    metrics = getattr(cfg, "metrics", None) or [cfg.metric]
    weights: list[float] | None = None
    if len(metrics) > 1:  # several metrics: one random scalarisation per suggestion (ParEGO)
        from sweepkit.search.bayes.scalarise import scalarised

        views = every_run(runs)
        views, metric, weights = scalarised(metrics, views, rng)
        runs = SweepRuns.of(views, {DIGEST: EndedRuns(metric, Domain(space))})
    else:
        metric = metrics[0]
        if not isinstance(runs, SweepRuns):
            runs = SweepRuns.of(runs, digests(cfg, space))
    ended = runs.digests[DIGEST]
    domain = ended.domain
    gen = _generator(rng)
    points, used = ended.with_live(runs.live)
    x, y, pend, n_observed = points.model_inputs(metric)
    n_runs = len(runs)
    if keep is not None:
        keep["counted"], _, keep["pending"] = _sorted_runs(points)
    if domain.dim == 0:
        return Suggestion(domain.decode(np.empty(0)), {"phase": "constant", "n_observations": n_observed})
    # Runs the space cannot express (a parameter they lack, a value outside a narrowed range): ignored.
    n_outside = int((~points.has_row).sum())

    if len(y) < initial_design_size(domain.dim):
        row = _space_filling(domain, gen, np.vstack([x, pend]), used)
        info: dict[str, Any] = {
            "phase": "initial-design",
            "n_observations": len(y),
            "n_outside_space": n_outside,
        }
        if row is None:
            row = domain.sample(1, gen)[0]
            info["note"] = USED_UP_NOTE
        info["n_runs"] = n_runs
        if keep is not None:
            keep["row"] = row
        return Suggestion(domain.decode(row), info)
    suggestion = _model_suggestion(domain, gen, x, y, pend, used, metric, n_runs, keep)
    suggestion.info["n_outside_space"] = n_outside
    if weights is not None:
        suggestion.info["scalarisation_weights"] = [round(w, 4) for w in weights]
    return suggestion


def _scored_candidates(
    post: Posterior,
    best: float,
    domain: Domain,
    gen: np.random.Generator,
    row: np.ndarray,
    maxima: list[tuple[np.ndarray, float]],
    anchors: np.ndarray,
    transform: Transform,
    sign: float,
) -> _Model:
    """``complete``'s candidates for a suggestion ``row``: it, the other local maxima, and a pool of
    prior and local draws (the whole space when it is small), each with its log EI and info."""
    cands = domain.enumerate(limit=4096)
    if cands is None:
        pool = [row[None, :], *(r[None, :] for r, _ in maxima), domain.sample(RECHECK_POOL, gen)]
        if len(anchors):
            reps = int(np.ceil(RECHECK_POOL / len(anchors)))
            pool.append(domain.perturb(np.repeat(anchors, reps, axis=0), gen))
        pool.append(domain.perturb(np.repeat(row[None, :], RECHECK_AROUND, axis=0), gen))
        cands = np.vstack(pool)
    mean, std = post.predict(cands)
    vals = log_ei(mean, std, best)
    if domain.enumerate(limit=4096) is not None:  # the suggestion first, as in the pool
        keys = row_keys(cands)
        first = keys.index(row_key(row)) if row_key(row) in keys else None
        if first is not None:
            order = np.r_[first, np.delete(np.arange(len(cands)), first)]
            cands, mean, std, vals = cands[order], mean[order], std[order], vals[order]
    slope_best = float(np.log(transform.slope(np.array([best]))[0]))
    predicted = transform.inverse(mean.copy())
    slopes = transform.slope(mean)
    infos = [
        {
            "predicted_mean": sign * float(predicted[i]),
            "predicted_std": float(std[i] * slopes[i]),
            "acquisition_value": float(vals[i]) + slope_best,
        }
        for i in range(len(cands))
    ]
    return _Model(domain, post.hyper, cands, row_keys(cands), vals, infos)


def _model_suggestion(
    domain: Domain,
    gen: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    pend: np.ndarray,
    used: set,
    metric: Any,
    n_runs: int,
    keep: dict | None = None,
) -> Suggestion:
    cat_mask = domain.cat_mask
    hyper = hyperparameters(x, y, cat_mask)
    idx = subset(y)
    xs, ys = x[idx], y[idx]
    transform = Transform.fit(ys)
    z = transform(ys)
    post = Posterior(xs, z, cat_mask, hyper)
    if len(pend):
        # Kriging believer, except that a pending point is never believed to beat the incumbent:
        # the model sees "no improvement there", so parallel suggestions move elsewhere.
        fantasy = post.mean(pend)
        fantasy = np.maximum(fantasy, z.min())
        post = Posterior(np.vstack([xs, pend]), np.concatenate([z, fantasy]), cat_mask, hyper)
    # The incumbent is the best value observed (in model units) unless the posterior mean somewhere
    # it has been conditioned (runs and pending fantasies) is lower still. Not the lowest posterior
    # mean alone: with a noisy metric the best run is usually a lucky draw, the posterior mean there
    # is worse than it, and expected improvement over that mean stayed high right beside the best
    # run, so the sweep kept drawing points there instead of looking elsewhere (docs/bayes.md).
    # Not the observation alone either: beside a pending point the mean can dip below its capped
    # fantasy, and parallel suggestions then crowded around it.
    fitted = post.mean(post.x)
    best = min(float(z.min()), float(fitted.min()))
    anchors = xs[np.argsort(z, kind="stable")[:5]]
    # The candidate pool shrinks as the model grows (each candidate costs O(points^2)); the
    # gradient polish and the local moves keep the precision.
    n_pool = int(np.clip(1024 * 100 / max(len(post.x), 1), 256, 1024))
    maxima: list[tuple[np.ndarray, float]] = []
    found = maximise(post, best, domain, gen, anchors, used, n_pool=n_pool, found=maxima)
    info: dict[str, Any] = {"phase": "model", "acquisition": "logEI"}
    if found is None:
        # Every point of a discrete space has been run: a prior draw, as W&B does. Repeating the
        # point predicted best repeated one point for ever when the metric gave no signal.
        row = domain.sample(1, gen)[0]
        info["note"] = USED_UP_NOTE
        m, s = post.predict(row[None, :])
        acq = float(log_ei(m, s, best)[0])
    else:
        row, acq = found
        # Where the acquisition is flat (irrelevant inputs, a plateau of good settings), take the
        # near-best point farthest from the runs rather than a copy of the last one.
        # Only along inputs the runs have shown to matter little: an input whose length scale is
        # still near the prior has not been learned yet, and in many dimensions most have not
        # (spreading along all of them turned a 20-dimensional search into a random one).
        long = hyper.log_lengths >= prior_log_length(domain.dim) + np.log(SPREAD_LENGTH_FACTOR)
        spread_row, spread_acq = diversify(post, best, domain, gen, row, acq, used, columns=long)
        info["spread_from_maximum"] = not np.array_equal(spread_row, row)
        row, acq = spread_row, spread_acq
    sign = float(metric.sign)
    if keep is not None:
        keep["row"] = row
        # candidates for complete, in case other agents claim runs meanwhile
        keep["model"] = _scored_candidates(post, best, domain, gen, row, maxima, anchors, transform, sign)
    mean, std = post.predict(row[None, :])
    predicted = float(transform.inverse(mean)[0])
    spread = float(std[0] * transform.slope(mean)[0])
    info.update(
        {
            "predicted_mean": sign * predicted,
            "predicted_std": spread,
            "incumbent": sign * float(transform.inverse(np.array([best]))[0]),
            "acquisition_value": acq + float(np.log(transform.slope(np.array([best]))[0])),
            "n_observations": len(y),
            "n_pending": len(pend),
            "n_model_points": len(xs),
            "length_scales": {
                col.name: round(float(v), 4)
                for col, v in zip(domain.columns, np.exp(hyper.log_lengths), strict=True)
            },
            "n_runs": n_runs,
        }
    )
    return Suggestion(domain.decode(row), info)
