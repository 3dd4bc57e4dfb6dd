"""The Gaussian process: a Matern-5/2 kernel with one length scale per input, fitted by marginal likelihood.

Inputs are rows of a float matrix. Numeric columns hold values in [0, 1]; categorical columns hold
a category index, and the kernel only asks whether two indices are equal (a Hamming distance with
its own length scale), so categories are never ordered. Both kinds add to one scaled squared
distance ``d2 = sum_i (x_i - x'_i)^2 / l_i^2`` (a mismatch counts 1 for a categorical column), and
the kernel is ``s * (1 + sqrt(5 d2) + 5/3 d2) * exp(-sqrt(5 d2))`` plus noise on the diagonal.

The hyperparameters (log length scales, log signal variance, log noise variance) maximise the log
marginal likelihood plus log priors (see :data:`PRIOR`), with analytic gradients and L-BFGS-B.
Targets are standardised before fitting; callers pass "lower is better" values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

SQRT5 = np.sqrt(5.0)
JITTER = 1e-8

#: Log-space bounds and prior parameters of the hyperparameters (standardised targets).
PRIOR = {
    # log length scale ~ Normal(mean + 0.5 * log(d), sd): longer scales in more dimensions.
    "log_length_mean": np.log(0.6),
    "log_length_sd": 1.2,
    "log_length_bounds": (np.log(0.01), np.log(50.0)),
    # log signal variance ~ Normal(0, 1)
    "log_signal_sd": 1.0,
    "log_signal_bounds": (np.log(0.05), np.log(20.0)),
    # noise variance: exponential prior with this rate (mean 0.2), inside these bounds. Weak on
    # purpose: real tuning tasks answer with a chaotic scatter even under fixed seeds, and a
    # stronger prior (rate 30, Optuna's) made the model chase that scatter (docs/bayes.md).
    "noise_rate": 5.0,
    "log_noise_bounds": (np.log(1e-6), np.log(0.5)),
}


@dataclass(frozen=True)
class Hyper:
    """Fitted hyperparameters, stored in log space."""

    log_lengths: np.ndarray
    log_signal: float
    log_noise: float

    def vector(self) -> np.ndarray:
        return np.concatenate([self.log_lengths, [self.log_signal, self.log_noise]])

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> Hyper:
        return cls(np.array(theta[:-2], dtype=float), float(theta[-2]), float(theta[-1]))

    @classmethod
    def default(cls, d: int) -> Hyper:
        lo, hi = PRIOR["log_length_bounds"]
        start = float(np.clip(prior_log_length(d), lo, hi))
        return cls(np.full(d, start), 0.0, np.log(1e-3))

    def inv_sq_lengths(self) -> np.ndarray:
        return np.exp(-2.0 * self.log_lengths)


def pairwise_sq(a: np.ndarray, b: np.ndarray, cat_mask: np.ndarray) -> np.ndarray:
    """Per-dimension squared distance (mismatch for categorical columns): shape (d, len(a), len(b))."""
    diff = a.T[:, :, None] - b.T[:, None, :]
    out = diff * diff
    if cat_mask.any():
        out[cat_mask] = (diff[cat_mask] != 0.0).astype(float)
    return out


def scaled_sq(a: np.ndarray, b: np.ndarray, w: np.ndarray, cat_mask: np.ndarray) -> np.ndarray:
    """``sum_i w_i * sq_i`` between rows of ``a`` and ``b`` without the per-dimension array."""
    num = ~cat_mask
    root = np.sqrt(w[num])
    an, bn = a[:, num] * root, b[:, num] * root
    out = (an * an).sum(1)[:, None] + (bn * bn).sum(1)[None, :] - 2.0 * (an @ bn.T)
    np.maximum(out, 0.0, out=out)
    for i in np.flatnonzero(cat_mask):
        out += w[i] * (a[:, i, None] != b[None, :, i])
    return out


def matern(d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matern-5/2 of a scaled squared distance, and its derivative with respect to that distance."""
    r = np.sqrt(np.maximum(d2, 0.0))
    e = np.exp(-SQRT5 * r)
    k = (1.0 + SQRT5 * r + (5.0 / 3.0) * d2) * e
    dk = -(5.0 / 6.0) * (1.0 + SQRT5 * r) * e
    return k, dk


def matern_value(d2: np.ndarray) -> np.ndarray:
    """``matern(d2)[0]`` without the derivative, in place where it can be (the same numbers): what
    predictions need, for hundreds of candidates at every suggestion."""
    r = np.sqrt(np.maximum(d2, 0.0))
    k = SQRT5 * r
    e = np.exp(-k)
    k += 1.0
    k += (5.0 / 3.0) * d2
    k *= e
    return k


def prior_log_length(d: int) -> float:
    """The prior's median log length scale in ``d`` dimensions."""
    return float(PRIOR["log_length_mean"] + 0.5 * np.log(max(d, 1)))


def _log_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    grad = np.zeros_like(theta)
    mean = prior_log_length(d)
    sd = PRIOR["log_length_sd"]
    z = (theta[:d] - mean) / sd
    lp = -0.5 * float(z @ z)
    grad[:d] = -z / sd
    ls = theta[d] / PRIOR["log_signal_sd"]
    lp -= 0.5 * ls * ls
    grad[d] = -ls / PRIOR["log_signal_sd"]
    noise = np.exp(theta[d + 1])
    lp -= PRIOR["noise_rate"] * noise
    grad[d + 1] = -PRIOR["noise_rate"] * noise
    return lp, grad


def neg_log_posterior(theta: np.ndarray, sq: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative (log marginal likelihood + log prior) and its gradient; ``sq`` from :func:`pairwise_sq`."""
    d = sq.shape[0]
    n = y.shape[0]
    w = np.exp(-2.0 * theta[:d])
    s = np.exp(theta[d])
    noise = np.exp(theta[d + 1])
    d2 = np.tensordot(w, sq, axes=1)
    m, dm = matern(d2)
    k = s * m
    k[np.diag_indices(n)] += noise + JITTER
    try:
        chol = linalg.cholesky(k, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = linalg.cho_solve((chol, True), y, check_finite=False)
    kinv = linalg.cho_solve((chol, True), np.eye(n), check_finite=False)
    lml = -0.5 * float(y @ alpha) - float(np.log(np.diag(chol)).sum()) - 0.5 * n * np.log(2 * np.pi)
    wmat = np.outer(alpha, alpha) - kinv
    grad = np.empty_like(theta)
    sdm = wmat * (s * dm)
    grad[:d] = 0.5 * np.tensordot(sq, sdm, axes=([1, 2], [0, 1])) * (-2.0 * w)
    grad[d] = 0.5 * float((wmat * (s * m)).sum())
    grad[d + 1] = 0.5 * float(np.trace(wmat)) * noise
    lp, lp_grad = _log_prior(theta, d)
    return -(lml + lp), -(grad + lp_grad)


def _bounds(d: int) -> list[tuple[float, float]]:
    return [PRIOR["log_length_bounds"]] * d + [PRIOR["log_signal_bounds"], PRIOR["log_noise_bounds"]]


def fit_hyper(
    x: np.ndarray,
    y: np.ndarray,
    cat_mask: np.ndarray,
    starts: list[Hyper],
    max_iter: int = 200,
) -> Hyper:
    """Maximise the log posterior of the hyperparameters from each start; keep the best.

    ``y`` must already be standardised. Deterministic for given inputs and starts.
    """
    d = x.shape[1]
    sq = pairwise_sq(x, x, cat_mask)
    bounds = _bounds(d)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    best_theta, best_val = None, np.inf
    for start in starts:
        theta0 = np.clip(start.vector(), lo, hi)
        res = optimize.minimize(
            neg_log_posterior,
            theta0,
            args=(sq, y),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter},
        )
        val = float(res.fun)
        if np.isfinite(val) and val < best_val:
            best_val, best_theta = val, np.clip(res.x, lo, hi)
    if best_theta is None:
        return Hyper.default(d)
    return Hyper.from_vector(best_theta)


class Posterior:
    """The GP conditioned on data: predictive mean and standard deviation (standardised units)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, cat_mask: np.ndarray, hyper: Hyper):
        self.x = np.asarray(x, dtype=float)
        self.cat_mask = cat_mask
        self.hyper = hyper
        self.w = hyper.inv_sq_lengths()
        self.signal = float(np.exp(hyper.log_signal))
        self.noise = float(np.exp(hyper.log_noise))
        n = len(y)
        k = matern_value(np.tensordot(self.w, pairwise_sq(self.x, self.x, cat_mask), axes=1))
        k *= self.signal
        k[np.diag_indices(n)] += self.noise + JITTER
        jitter = 0.0
        while True:
            try:
                self.chol = linalg.cholesky(k, lower=True, check_finite=False)
                break
            except linalg.LinAlgError:
                jitter = max(jitter * 10.0, 1e-6)
                k[np.diag_indices(n)] += jitter
        self.alpha = linalg.cho_solve((self.chol, True), np.asarray(y, dtype=float), check_finite=False)
        self.chol_inv = linalg.solve_triangular(self.chol, np.eye(n), lower=True, check_finite=False)
        # The data's side of ``scaled_sq`` and of the gradients, computed once, not at each of the
        # few hundred predictions a suggestion makes (the same operations: the same numbers).
        self._num = ~cat_mask
        self._root = np.sqrt(self.w[self._num])
        self._data_scaled = self.x[:, self._num] * self._root
        self._data_sq = (self._data_scaled * self._data_scaled).sum(1)[None, :]
        self._cat_columns = [(i, self.w[i], self.x[None, :, i]) for i in np.flatnonzero(cat_mask)]
        self._data_num = self.x[:, self._num]
        self._two_w = 2.0 * self.w[self._num]

    def _scaled_sq(self, xs: np.ndarray) -> np.ndarray:
        """``scaled_sq(xs, self.x, self.w, self.cat_mask)``, bit for bit, with the data's side kept."""
        scaled = xs[:, self._num] * self._root
        out = (scaled * scaled).sum(1)[:, None] + self._data_sq
        cross = scaled @ self._data_scaled.T
        cross *= 2.0
        out -= cross
        np.maximum(out, 0.0, out=out)
        for i, weight, column in self._cat_columns:
            out += weight * (xs[:, i, None] != column)
        return out

    def cross(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kernel between ``xs`` and the data, and its derivative with respect to d2."""
        m, dm = matern(self._scaled_sq(xs))
        m *= self.signal
        dm *= self.signal
        return m, dm

    def _kernel(self, xs: np.ndarray) -> np.ndarray:
        """Kernel between ``xs`` and the data (``cross`` without the derivative)."""
        k = matern_value(self._scaled_sq(xs))
        k *= self.signal
        return k

    def mean(self, xs: np.ndarray) -> np.ndarray:
        """The posterior mean at ``xs`` (``predict``'s first half, without the variance's cost)."""
        return self._kernel(xs) @ self.alpha

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ks = self._kernel(xs)
        mean = ks @ self.alpha
        v = ks @ self.chol_inv.T
        var = np.maximum(self.signal - np.einsum("ij,ij->i", v, v), 1e-12)
        return mean, np.sqrt(var)

    def predict_with_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, std and their gradients with respect to the numeric columns of ``xs`` (zero elsewhere)."""
        ks, dks = self.cross(xs)
        mean = ks @ self.alpha
        v = ks @ self.chol_inv.T
        var = np.maximum(self.signal - np.einsum("ij,ij->i", v, v), 1e-12)
        std = np.sqrt(var)
        kinv_k = v @ self.chol_inv  # (m, n): K^-1 k for each row
        num = self._num
        xn, data = xs[:, num], self._data_num
        two_w = self._two_w
        # d k(x, X_n) / d x_p = dk/dd2 * 2 w_p (x_p - X_np); contract over n with alpha and K^-1 k
        a = dks * self.alpha
        b = dks * kinv_k
        gmean = np.zeros_like(xs)
        gvar = np.zeros_like(xs)
        gmean[:, num] = two_w * (a.sum(1)[:, None] * xn - a @ data)
        gvar[:, num] = -2.0 * two_w * (b.sum(1)[:, None] * xn - b @ data)
        gstd = gvar / (2.0 * std[:, None])
        return mean, std, gmean, gstd
