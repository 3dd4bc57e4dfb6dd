"""Fitting the GP to a sweep's observations with a cost that stays flat as the sweep grows.

- Targets are standardised (median and a robust scale), then very bad values are compressed by a
  log transform above the upper quartile, so that a few awful runs (a diverged loss, an imputed
  failure) do not flatten the model everywhere else. Last, the 90th percentile of the transformed
  values is moved to 0, the GP's prior mean: where the runs say nothing, the model expects a
  poor result rather than a middling one, and expected improvement no longer sends the sweep to
  the corners of the space, where its uncertainty is largest (docs/bayes.md).
- At most :data:`MAX_POINTS` observations enter the GP: all of them while there are few, else the
  best half of that budget plus an even spread (in run order) of the others. The incumbent region
  keeps full resolution, the rest of the space stays covered, and each suggestion costs
  ``O(MAX_POINTS^3)`` however many runs the sweep has. Hyperparameters are fitted on a smaller
  subset of the same kind (:data:`FIT_POINTS`): each likelihood step costs a factorisation.
- Hyperparameters are refitted from fixed starts while the sweep is small. Past
  :data:`COLD_UNTIL` observations they are fitted from scratch only at checkpoints (each
  :data:`GROWTH` times the previous), on the observations the sweep had then, and every
  suggestion in between refines that anchor fit with a few L-BFGS-B steps on the current data.
  Past :data:`REFINE_EVERY_FROM` observations that refinement too is made only when the sweep has
  grown by a hundredth (on the observations it had then, :func:`refined_at`): one observation more
  among thousands does not move the fit, and a claim at 10,000 runs no longer pays for it.
  Both fits are pure functions of the runs, kept in a small cache, so the cache saves time but
  never changes a result.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from sweepkit.search.bayes.gp import Hyper, fit_hyper

#: The percentile of the observed values (in model units) that the GP expects where it knows nothing.
PRIOR_MEAN_PERCENTILE = 90.0
MAX_POINTS = 200
FIT_POINTS = 100
COLD_UNTIL = 40
GROWTH = 1.15
WARM_STEPS = 10
#: From this many observations on, the refined fit is made at every hundredth of growth (``refined_at``).
REFINE_EVERY_FROM = 1000
_CACHE_SIZE = 128
_cache: OrderedDict[bytes, Hyper] = OrderedDict()


@dataclass(frozen=True)
class Transform:
    """Robust standardisation, log compression of the upper tail, and a shift that puts the
    :data:`PRIOR_MEAN_PERCENTILE` of the observations at 0 (monotone, invertible)."""

    center: float
    scale: float
    knee: float
    offset: float = 0.0

    @classmethod
    def fit(cls, y: np.ndarray) -> Transform:
        center = float(np.median(y))
        q25, q75 = np.percentile(y, [25, 75])
        scale = float(q75 - q25) / 1.349
        std = float(np.std(y))
        if not scale > 1e-12 * max(1.0, abs(center)):
            scale = std if std > 0 else 1.0
        knee = max(1.0, (float(q75) - center) / scale)
        unshifted = cls(center, scale, knee)
        return cls(center, scale, knee, float(np.percentile(unshifted(y), PRIOR_MEAN_PERCENTILE)))

    def __call__(self, y: np.ndarray) -> np.ndarray:
        z = (np.asarray(y, dtype=float) - self.center) / self.scale
        over = z > self.knee
        z = z.copy()
        z[over] = self.knee + np.log1p(z[over] - self.knee)
        return z - self.offset

    def inverse(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float) + self.offset
        over = z > self.knee
        z[over] = self.knee + np.expm1(np.minimum(z[over] - self.knee, 700.0))
        return z * self.scale + self.center

    def slope(self, z: np.ndarray) -> np.ndarray:
        """d y / d z at ``z``: to turn a spread in model units into metric units."""
        z = np.asarray(z, dtype=float) + self.offset
        return np.where(z > self.knee, np.exp(np.minimum(z - self.knee, 700.0)), 1.0) * self.scale


def subset(y: np.ndarray, limit: int = MAX_POINTS) -> np.ndarray:
    """Indexes of the observations the GP uses: all, or the best half of ``limit`` plus an even spread."""
    n = len(y)
    if n <= limit:
        return np.arange(n)
    n_best = limit // 2
    # The n_best lowest values, ties taken in run order (what a stable sort's first n_best are), in
    # O(n): a sweep of 10,000 runs calls this at every claim.
    kth = np.partition(y, n_best - 1)[n_best - 1]
    chosen = y < kth
    ties = np.flatnonzero(y == kth)[: n_best - int(chosen.sum())]
    chosen[ties] = True
    best = np.flatnonzero(chosen)
    rest = np.flatnonzero(~chosen)
    pick = rest[np.linspace(0, len(rest) - 1, limit - n_best).round().astype(int)]
    return np.union1d(best, pick)


def _fingerprint(*arrays: np.ndarray) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=float)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.digest()


def _remember(key: bytes, hyper: Hyper) -> Hyper:
    _cache[key] = hyper
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return hyper


#: Hyperparameter fits a saved digest carries (``model_cache_entries``).
SAVED_FITS = 8
_KEY_BYTES = 20


def model_cache_entries(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The newest :data:`SAVED_FITS` cached fits for ``dim`` inputs: keys as rows of bytes, vectors."""
    found = [(k, h.vector()) for k, h in reversed(_cache.items()) if len(h.log_lengths) == dim]
    found = [(k, v) for k, v in found if len(k) == _KEY_BYTES][:SAVED_FITS]
    keys = np.array([np.frombuffer(k, dtype=np.uint8) for k, _ in found], dtype=np.uint8)
    values = np.array([v for _, v in found], dtype=float)
    return keys.reshape(len(found), _KEY_BYTES), values.reshape(len(found), dim + 2)


def remember_model_entries(keys: np.ndarray, values: np.ndarray) -> None:
    """Put fits saved by ``model_cache_entries`` (maybe by another process) into the cache."""
    for key, vector in zip(keys, values, strict=True):
        k = bytes(key.tobytes())
        if k not in _cache:
            _remember(k, Hyper.from_vector(np.asarray(vector, dtype=float)))


def _cold_starts(d: int) -> list[Hyper]:
    base = Hyper.default(d)
    shorter = Hyper(base.log_lengths - 1.0, base.log_signal, base.log_noise)
    return [base, shorter]


def _fit_cold(x: np.ndarray, y: np.ndarray, cat_mask: np.ndarray) -> Hyper:
    idx = subset(y, FIT_POINTS)
    xs, ys = x[idx], y[idx]
    key = b"cold" + _fingerprint(xs, ys, cat_mask, np.array([PRIOR_MEAN_PERCENTILE]))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    z = Transform.fit(ys)(ys)
    return _remember(key, fit_hyper(xs, z, cat_mask, _cold_starts(x.shape[1])))


def checkpoint(n: int) -> int:
    """The number of observations of the anchor fit used when there are ``n`` (``n`` when small)."""
    if n <= COLD_UNTIL:
        return n
    c = COLD_UNTIL
    while True:
        nxt = int(math.ceil(c * GROWTH))
        if nxt > n:
            return c
        c = nxt


def refined_at(n: int) -> int:
    """The number of observations the refined fit is made on when there are ``n``: ``n`` while
    fewer than :data:`REFINE_EVERY_FROM`, then ``n`` rounded down to a step of a hundredth of its
    power of ten (10 from 1,000, 100 from 10,000 observations)."""
    if n < REFINE_EVERY_FROM:
        return n
    step = 10 ** (len(str(n)) - 1) // 100
    return n - n % step


def hyperparameters(x: np.ndarray, y: np.ndarray, cat_mask: np.ndarray) -> Hyper:
    """The hyperparameters for observations ``x, y`` (rows in run order); a pure function of them."""
    n = refined_at(len(y))
    x, y = x[:n], y[:n]
    m = checkpoint(n)
    anchor = _fit_cold(x[:m], y[:m], cat_mask)
    if m == n:
        return anchor
    idx = subset(y, FIT_POINTS)
    xs, ys = x[idx], y[idx]
    key = b"warm" + _fingerprint(xs, ys, cat_mask, np.array([PRIOR_MEAN_PERCENTILE]), anchor.vector())
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    z = Transform.fit(ys)(ys)
    return _remember(key, fit_hyper(xs, z, cat_mask, [anchor], max_iter=WARM_STEPS))
