"""The acquisition function (log expected improvement) and its maximisation over the model domain.

``log EI`` is the logarithm of expected improvement below an incumbent, computed so that it stays
finite and has a useful gradient far from the incumbent, where plain EI underflows to zero
(Ament et al., "Unexpected improvements to expected improvement", 2023).

The maximiser scores a pool of quasi-random prior draws plus perturbations of the best points,
polishes the most promising few with L-BFGS-B over the numeric columns (analytic gradients), then
hill-climbs over the discrete columns (neighbouring integer levels, every other category). A small,
fully discrete domain is scored exhaustively instead. ``diversify`` then trades a little expected
improvement for distance from the runs where the acquisition is nearly flat, along the inputs it
is told the runs have shown to matter little.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from sweepkit.search.bayes.encoding import Domain, row_key, row_keys
from sweepkit.search.bayes.gp import Posterior

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_SQRT_HALF_PI = np.sqrt(0.5 * np.pi)

#: Log EI a suggestion may give up for a point farther from the runs (log(0.8): 20% of the EI).
TIE_TOLERANCE = float(-np.log(0.8))


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z * Phi(z))``, stable for very negative ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu * zu - _LOG_SQRT_2PI) + zu * special.ndtr(zu))
    mid = (~upper) & (z > -1e6)
    zm = z[mid]
    out[mid] = (
        -0.5 * zm * zm - _LOG_SQRT_2PI + np.log1p(zm * _SQRT_HALF_PI * special.erfcx(-zm / np.sqrt(2.0)))
    )
    low = z <= -1e6
    zl = z[low]
    out[low] = -0.5 * zl * zl - _LOG_SQRT_2PI - 2.0 * np.log(-zl)
    return out


def log_ei(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Log expected improvement below ``best`` (lower is better)."""
    z = (best - mean) / std
    return np.log(std) + log_h(z)


def log_ei_with_grad(
    mean: np.ndarray, std: np.ndarray, gmean: np.ndarray, gstd: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray]:
    z = (best - mean) / std
    lh = log_h(z)
    ratio = np.exp(special.log_ndtr(z) - lh)  # d log h / dz
    d_mean = -ratio / std
    d_std = 1.0 / std - ratio * z / std
    return np.log(std) + lh, d_mean[:, None] * gmean + d_std[:, None] * gstd


def _unique_rows(x: np.ndarray, values: np.ndarray, exclude: set, limit: int) -> list[int]:
    """The ``limit`` best rows by ``values`` with distinct keys, none in ``exclude`` (keys made only
    for the rows looked at, best first: usually a handful of a pool of hundreds)."""
    order = np.argsort(-values, kind="stable")
    seen: set = set()
    picked = []
    finite = np.isfinite(values)
    for i in order.tolist():
        if not finite[i]:
            continue
        key = row_key(x[i])
        if key in seen or key in exclude:
            continue
        seen.add(key)
        picked.append(int(i))
        if len(picked) >= limit:
            break
    return picked


def _polish(post: Posterior, best: float, domain: Domain, starts: np.ndarray) -> np.ndarray:
    """L-BFGS-B on the free numeric columns of all ``starts`` at once (their objectives add up)."""
    free = domain.free_mask()
    if not free.any() or len(starts) == 0:
        return starts
    m, p = len(starts), int(free.sum())
    base = starts.copy()

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        xs = base.copy()
        xs[:, free] = flat.reshape(m, p)
        mean, std, gmean, gstd = post.predict_with_grad(xs)
        val, grad = log_ei_with_grad(mean, std, gmean, gstd, best)
        return -float(val.sum()), -grad[:, free].ravel()

    res = optimize.minimize(
        objective,
        base[:, free].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (m * p),
        options={"maxiter": 60},
    )
    out = base.copy()
    out[:, free] = np.clip(res.x.reshape(m, p), 0.0, 1.0)
    return out


def _hill_climb(
    post: Posterior, best: float, domain: Domain, x: np.ndarray, exclude: set, rounds: int = 4
) -> tuple[np.ndarray, float]:
    """Move one discrete coordinate at a time while log EI improves (skipping excluded points)."""
    cur = x.copy()
    mean, std = post.predict(cur[None, :])
    cur_val = float(log_ei(mean, std, best)[0])
    if row_key(cur) in exclude:
        cur_val = -np.inf
    for _ in range(rounds):
        nbrs = domain.neighbours(cur)
        if len(nbrs) == 0:
            break
        mean, std = post.predict(nbrs)
        vals = log_ei(mean, std, best)
        for i, key in enumerate(row_keys(nbrs)):
            if key in exclude:
                vals[i] = -np.inf
        i = int(np.argmax(vals))
        if not vals[i] > cur_val + 1e-12:
            break
        cur, cur_val = nbrs[i], float(vals[i])
    return cur, cur_val


def maximise(
    post: Posterior,
    best: float,
    domain: Domain,
    gen: np.random.Generator,
    anchors: np.ndarray,
    exclude: set,
    n_pool: int = 1024,
    n_local: int = 256,
    n_polish: int = 4,
    found: list[tuple[np.ndarray, float]] | None = None,
) -> tuple[np.ndarray, float] | None:
    """The domain point with the highest log EI that is not in ``exclude`` (row keys), or None;
    ``found``, when given, receives every local maximum found, best first."""
    enumerated = domain.enumerate(limit=4096)
    if enumerated is not None:
        mean, std = post.predict(enumerated)
        vals = log_ei(mean, std, best)
        picked = _unique_rows(enumerated, vals, exclude, 1)
        if not picked:
            return None
        return enumerated[picked[0]], float(vals[picked[0]])

    pool = [domain.sample(n_pool, gen)]
    if len(anchors):
        reps = int(np.ceil(n_local / len(anchors)))
        pool.append(domain.perturb(np.repeat(anchors, reps, axis=0), gen))
    cands = np.vstack(pool)
    mean, std = post.predict(cands)
    vals = log_ei(mean, std, best)
    picked = _unique_rows(cands, vals, exclude, n_polish)
    if not picked:
        return None
    starts = cands[picked]
    polished = domain.snap(_polish(post, best, domain, starts))
    results = []
    for x in np.vstack([polished, starts]):
        results.append(_hill_climb(post, best, domain, x, exclude))
    results = [r for r in results if np.isfinite(r[1])]
    if not results:
        return None
    results.sort(key=lambda r: -r[1])
    if found is not None:
        found.extend(results)
    return results[0]


def diversify(
    post: Posterior,
    best: float,
    domain: Domain,
    gen: np.random.Generator,
    row: np.ndarray,
    value: float,
    exclude: set,
    tolerance: float = TIE_TOLERANCE,
    n_variants: int = 128,
    columns: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Among points whose log EI is within ``tolerance`` of ``value``, the one farthest from the runs.

    The variants are ``row`` with a random subset of its columns redrawn from the prior. When the
    acquisition is flat along some inputs (the model found them irrelevant, or a plateau of equally
    good settings), the maximiser otherwise settles on an arbitrary corner of those inputs and the
    following suggestions repeat it: near-copies of one setting, which on a real task give nearly
    the same result. Spreading them out on those inputs costs almost no expected improvement.

    ``columns`` (a mask) limits the redrawn columns; with no column allowed ``row`` is kept.
    """
    if len(post.x) == 0 or domain.dim == 0 or (columns is not None and not columns.any()):
        return row, value
    mask = gen.random((n_variants, domain.dim)) < gen.uniform(0.15, 0.6, size=(n_variants, 1))
    if columns is not None:
        mask &= columns[None, :]
    draws = domain.sample(n_variants, gen)
    variants = np.where(mask, draws, row[None, :])
    if domain.conditional:  # a redrawn parent can open or close a branch
        variants = domain.snap(variants)
    mean, std = post.predict(variants)
    vals = log_ei(mean, std, best)
    ok = (vals >= value - tolerance) & np.array([key not in exclude for key in row_keys(variants)])
    if not ok.any():
        return row, value
    cands = np.vstack([row[None, :], variants[ok]])
    cand_vals = np.concatenate([[value], vals[ok]])
    unit = domain.to_uniform(cands)
    seen = domain.to_uniform(post.x)
    dist = np.sqrt(((unit[:, None, :] - seen[None, :, :]) ** 2).sum(-1)).min(1)
    i = int(np.argmax(dist))
    if i == 0:
        return row, value
    return cands[i], float(cand_vals[i])
