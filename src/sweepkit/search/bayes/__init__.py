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
See docs/bayes.md for the reasons behind each choice.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import numpy as np

from sweepkit.search.base import Suggestion
from sweepkit.search.bayes.acquisition import diversify, log_ei, maximise
from sweepkit.search.bayes.encoding import Domain, row_keys
from sweepkit.search.bayes.gp import Posterior, prior_log_length
from sweepkit.search.bayes.model import Transform, hyperparameters, subset
from sweepkit.search.bayes.observations import EndedRuns
from sweepkit.search.sweep_runs import ENDED_VIEWS, Digest, EndedViews, SweepRuns, every_run

__all__ = ["digests", "next_run", "suggest_bayes"]

#: The key of bayes's digest in a ``SweepRuns``.
DIGEST = "bayes"

#: ``info["note"]`` when every point of a discrete space has been run.
USED_UP_NOTE = "every point of the space has been run; repeating a random one"

#: Candidates drawn per space-filling suggestion (the farthest from the runs so far wins).
DESIGN_CANDIDATES = 64
#: Spreading (step 4) redraws only inputs whose fitted length scale is at least this many times
#: the prior's median for the space's dimension.
SPREAD_LENGTH_FACTOR = 3.0


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


def digests(cfg: Any, space: Any) -> dict[str, Digest]:
    """What bayes keeps of the runs that ended for good (``sweepkit.search.sweep_runs``); with
    several metrics the runs themselves, scalarised afresh for each suggestion."""
    if len(getattr(cfg, "metrics", None) or []) > 1:
        return {ENDED_VIEWS: EndedViews()}
    return {DIGEST: EndedRuns(cfg.metric, Domain(space))}


def _suggest(cfg: Any, space: Any, runs: Any, rng: random.Random) -> Suggestion:
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
        return Suggestion(domain.decode(row), info)
    suggestion = _model_suggestion(domain, gen, x, y, pend, used, metric, n_runs)
    suggestion.info["n_outside_space"] = n_outside
    if weights is not None:
        suggestion.info["scalarisation_weights"] = [round(w, 4) for w in weights]
    return suggestion


def _model_suggestion(
    domain: Domain,
    gen: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    pend: np.ndarray,
    used: set,
    metric: Any,
    n_runs: int,
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
        fantasy, _ = post.predict(pend)
        fantasy = np.maximum(fantasy, z.min())
        post = Posterior(np.vstack([xs, pend]), np.concatenate([z, fantasy]), cat_mask, hyper)
    # The incumbent is the best value observed (in model units) unless the posterior mean somewhere
    # it has been conditioned (runs and pending fantasies) is lower still. Not the lowest posterior
    # mean alone: with a noisy metric the best run is usually a lucky draw, the posterior mean there
    # is worse than it, and expected improvement over that mean stayed high right beside the best
    # run, so the sweep kept drawing points there instead of looking elsewhere (docs/bayes.md).
    # Not the observation alone either: beside a pending point the mean can dip below its capped
    # fantasy, and parallel suggestions then crowded around it.
    fitted, _ = post.predict(post.x)
    best = min(float(z.min()), float(fitted.min()))
    anchors = xs[np.argsort(z, kind="stable")[:5]]
    # The candidate pool shrinks as the model grows (each candidate costs O(points^2)); the
    # gradient polish and the local moves keep the precision.
    n_pool = int(np.clip(1024 * 100 / max(len(post.x), 1), 256, 1024))
    found = maximise(post, best, domain, gen, anchors, used, n_pool=n_pool)
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
    mean, std = post.predict(row[None, :])
    sign = float(metric.sign)
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
