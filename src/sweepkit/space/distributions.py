"""Every distribution of a sweep parameter: its random draw, grid values and prior-CDF unit map.

This is the one place that knows what ``q_log_uniform_values`` or ``beta`` means (docs/config.md lists them).
:func:`build` turns a normalized parameter spec (``distribution`` filled in, defaults filled) into
a :class:`Distribution`, which offers:

- ``draw(rng)``: one random value, using only the given ``random.Random``;
- ``grid()``: the values a grid search enumerates (constant, categorical, int_uniform, q_uniform);
- ``to_unit(x)`` / ``from_unit(u)``: the prior-CDF map to and from ``[0, 1]`` that the bayes
  method works in: linear for uniform kinds, linear in log space for log kinds, the CDF for the
  normal and beta families; ``from_unit`` clips ``u``, rounds and quantises, and stays within
  :attr:`Distribution.bounds`;
- ``bounds``: the smallest and largest value the distribution can produce.

Quantised kinds draw ``round(X / q) * q`` exactly as W&B does, which can step up to ``q / 2``
outside ``[min, max]`` (``q_uniform`` with ``min: 1, max: 10, q: 3`` can give ``0``); their
bounds are therefore the quantised bounds ``[round(min / q) * q, round(max / q) * q]``. See
:mod:`sweepkit.space.quantize` for how the products are kept free of floating-point noise.

No numpy here; scipy is imported lazily, only by the beta map (``to_unit`` / ``from_unit``:
``scipy.special.betainc`` and ``betaincinv``, the regularized incomplete beta and its inverse).
"""

from __future__ import annotations

import bisect
import copy
import math
import random
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

from sweepkit.space.errors import SpaceError
from sweepkit.space.quantize import arange, is_int, quantize
from sweepkit.space.values import canonical_key

#: ``from_unit`` keeps ``u`` this far inside ``(0, 1)`` where the inverse CDF is unbounded
#: (normal families: about 7.03 standard deviations).
OPEN_EPS = 1e-12

#: Every distribution name W&B's sweep configs accept.
KINDS = (
    "constant",
    "categorical",
    "categorical_w_probabilities",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform_values",
    "q_log_uniform_values",
    "inv_log_uniform_values",
    "log_uniform",
    "q_log_uniform",
    "inv_log_uniform",
    "normal",
    "q_normal",
    "log_normal",
    "q_log_normal",
    "beta",
    "q_beta",
)

#: The kinds whose values spread over orders of magnitude: drawn uniformly or normally in log space.
LOG_KINDS = frozenset(kind for kind in KINDS if "log" in kind)


def _fresh(value: Any) -> Any:
    """A copy of a mutable value, so that callers cannot change the space through a draw."""
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _clip(u: float, low: float = 0.0, high: float = 1.0) -> float:
    if math.isnan(u):
        raise ValueError("unit value is NaN")
    return low if u < low else high if u > high else u


def _real(x: Any) -> float:
    """A value to map to the unit interval, as a float (booleans, strings and NaN refused)."""
    if isinstance(x, (bool, str, bytes)):
        raise ValueError(f"expected a number, got {x!r}")
    try:
        f = float(x)  # ints, floats, numpy scalars
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {x!r}") from None
    if math.isnan(f):
        raise ValueError(f"expected a number, got {x!r}")
    return f


class Distribution:
    """One parameter's distribution. Subclasses override what their kind supports."""

    kind: str = ""
    #: Draws and ``from_unit`` values are Python ints.
    is_integer: bool = False
    #: Smallest and largest value it can produce (``None`` for non-numeric kinds).
    bounds: tuple[float, float] | None = None

    def draw(self, rng: random.Random) -> Any:
        raise NotImplementedError

    def grid(self) -> list[Any] | None:
        """The grid values, or None when the grid method cannot take this kind."""
        return None

    def index_of(self, value: Any) -> int:
        raise ValueError(f"index_of needs a categorical or constant parameter, not {self.kind}")

    def to_unit(self, value: Any) -> float:
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:
        raise NotImplementedError


class Constant(Distribution):
    """``{value: X}``: always X. Its unit map is the single point 0.5."""

    kind = "constant"

    def __init__(self, value: Any) -> None:
        self.value = value

    def draw(self, rng: random.Random) -> Any:
        return _fresh(self.value)

    def grid(self) -> list[Any]:
        return [_fresh(self.value)]

    def index_of(self, value: Any) -> int:
        if canonical_key(value) != canonical_key(self.value):
            raise ValueError(f"{value!r} is not the constant value {self.value!r}")
        return 0

    def to_unit(self, value: Any) -> float:
        return 0.5

    def from_unit(self, u: float) -> Any:
        _clip(u)
        return _fresh(self.value)


class Categorical(Distribution):
    """``values`` drawn uniformly, or with ``probabilities`` (``categorical_w_probabilities``).

    The unit map gives each value a cell of width equal to its probability, in list order:
    ``to_unit`` is the middle of the value's cell, ``from_unit`` the value whose cell holds ``u``.
    """

    def __init__(self, values: Sequence[Any], probabilities: Sequence[float] | None = None) -> None:
        self.values = list(values)
        self.kind = "categorical" if probabilities is None else "categorical_w_probabilities"
        if probabilities is None:
            n = len(self.values)
            self.probabilities = [1.0 / n] * n
        else:
            total = math.fsum(probabilities)
            self.probabilities = [p / total for p in probabilities]
        self.cumulative = []
        running = 0.0
        for p in self.probabilities:
            running += p
            self.cumulative.append(running)
        # The last value that can be drawn (rounding may leave the cumulative sum just under 1).
        self._last = max(i for i, p in enumerate(self.probabilities) if p > 0)
        # content key -> index of its first occurrence (3.0 finds 3, True does not find 1)
        self._index: dict[Any, int] = {}
        for i, v in enumerate(self.values):
            self._index.setdefault(canonical_key(v), i)

    def _index_at(self, u: float) -> int:
        if self.kind == "categorical":
            return min(int(u * len(self.values)), len(self.values) - 1)
        return min(bisect.bisect_right(self.cumulative, u), self._last)

    def draw(self, rng: random.Random) -> Any:
        if self.kind == "categorical":
            return _fresh(self.values[rng.randrange(len(self.values))])
        return _fresh(self.values[self._index_at(rng.random())])

    def grid(self) -> list[Any] | None:
        if self.kind != "categorical":
            return None
        return [_fresh(v) for v in self.values]

    def index_of(self, value: Any) -> int:
        try:
            return self._index[canonical_key(value)]
        except KeyError:
            raise ValueError(f"{value!r} is not one of the values {self.values!r}") from None

    def to_unit(self, value: Any) -> float:
        index = self.index_of(value)
        low = self.cumulative[index - 1] if index > 0 else 0.0
        return _clip((low + self.cumulative[index]) / 2.0)

    def from_unit(self, u: float) -> Any:
        return _fresh(self.values[self._index_at(_clip(u))])


class IntUniform(Distribution):
    """Integers ``min..max``, both ends included.

    The unit map cuts ``[0, 1]`` into ``max - min + 1`` equal cells, one per integer in order:
    ``to_unit(k)`` is the middle of k's cell (linear in k), ``from_unit(u)`` the integer whose cell
    holds ``u``, so a uniform ``u`` gives exactly the uniform prior and round trips are exact.
    """

    kind = "int_uniform"
    is_integer = True

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = int(low), int(high)
        self.size = self.high - self.low + 1
        self.bounds = (self.low, self.high)

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def grid(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    def to_unit(self, value: Any) -> float:
        return _clip((_real(value) - self.low + 0.5) / self.size)

    def from_unit(self, u: float) -> int:
        return self.low + min(int(_clip(u) * self.size), self.size - 1)


class Uniform(Distribution):
    """Uniform on ``[min, max]``; the unit map is linear."""

    kind = "uniform"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.bounds = (low, high)

    def draw(self, rng: random.Random) -> float:
        return min(max(rng.uniform(self.low, self.high), self.low), self.high)

    def to_unit(self, value: Any) -> float:
        return _clip((_real(value) - self.low) / (self.high - self.low))

    def from_unit(self, u: float) -> float:
        x = self.low + _clip(u) * (self.high - self.low)
        return float(min(max(x, self.low), self.high))


class LogUniform(Distribution):
    """``log X`` uniform on ``[log_low, log_high]``; the unit map is linear in ``log x``.

    ``inverted`` draws it the way the ``inv_log_uniform`` kinds are defined, through
    ``log(1 / X)`` uniform on ``[-log_high, -log_low]``: the same distribution, and the same map.
    """

    def __init__(
        self,
        kind: str,
        log_low: float,
        log_high: float,
        bounds: tuple[float, float],
        inverted: bool = False,
    ) -> None:
        self.kind = kind
        self.log_low, self.log_high = log_low, log_high
        self.bounds = bounds
        self.inverted = inverted

    def _within(self, x: float) -> float:
        return min(max(x, self.bounds[0]), self.bounds[1])

    def draw(self, rng: random.Random) -> float:
        if self.inverted:
            return self._within(math.exp(-rng.uniform(-self.log_high, -self.log_low)))
        return self._within(math.exp(rng.uniform(self.log_low, self.log_high)))

    def to_unit(self, value: Any) -> float:
        x = _real(value)
        if x <= 0:
            return 0.0
        return _clip((math.log(x) - self.log_low) / (self.log_high - self.log_low))

    def from_unit(self, u: float) -> float:
        return self._within(math.exp(self.log_low + _clip(u) * (self.log_high - self.log_low)))


class Normal(Distribution):
    """Normal(mu, sigma), or its exponential (``log``); the unit map is the normal CDF.

    ``sigma == 0`` is the point ``mu`` (or ``exp(mu)``): every draw and ``from_unit`` give it.
    """

    def __init__(self, kind: str, mu: float, sigma: float, log: bool = False) -> None:
        self.kind = kind
        self.mu, self.sigma, self.log = mu, sigma, log
        self.bounds = (0.0, math.inf) if log else (-math.inf, math.inf)
        self._dist = NormalDist(mu, sigma) if sigma > 0 else None

    def draw(self, rng: random.Random) -> float:
        z = rng.normalvariate(self.mu, self.sigma) if self.sigma > 0 else self.mu
        return self._out(z)

    def _out(self, z: float) -> float:
        if not self.log:
            return float(z)
        try:
            return math.exp(z)
        except OverflowError:
            return math.inf

    def to_unit(self, value: Any) -> float:
        x = _real(value)
        if self.log:
            if x <= 0:
                return 0.0
            x = math.log(x)
        if self._dist is None:
            return 0.5 if x == self.mu else (0.0 if x < self.mu else 1.0)
        return _clip(self._dist.cdf(x))

    def from_unit(self, u: float) -> float:
        u = _clip(u, OPEN_EPS, 1.0 - OPEN_EPS)
        if self._dist is None:
            return self._out(self.mu)
        return self._out(self._dist.inv_cdf(u))


class Beta(Distribution):
    """Beta(a, b) on ``[0, 1]``; the unit map is its CDF (scipy, imported only when used).

    ``a == 0`` or ``b == 0`` is the limit of the family: all mass at 0 (``a == 0 < b``), at 1
    (``b == 0 < a``), or half at each end (both 0).
    """

    kind = "beta"
    bounds = (0.0, 1.0)

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b
        self.degenerate = a == 0 or b == 0

    def _degenerate_at(self, u: float) -> float:
        if self.a == 0 and self.b == 0:
            return 0.0 if u < 0.5 else 1.0
        return 0.0 if self.a == 0 else 1.0

    def draw(self, rng: random.Random) -> float:
        if self.degenerate:
            return self._degenerate_at(rng.random())
        return min(max(rng.betavariate(self.a, self.b), 0.0), 1.0)

    def to_unit(self, value: Any) -> float:
        x = min(max(_real(value), 0.0), 1.0)
        if self.degenerate:
            if self.a == 0 and self.b == 0:
                return 0.25 if x < 0.5 else 0.75
            return 0.5
        from scipy.special import betainc  # lazily: only bayes sweeps over beta parameters need it

        return _clip(float(betainc(self.a, self.b, x)))

    def from_unit(self, u: float) -> float:
        u = _clip(u)
        if self.degenerate:
            return self._degenerate_at(u)
        from scipy.special import betainc, betaincinv

        x = float(betaincinv(self.a, self.b, u))
        if math.isnan(x):  # scipy gives up far in a tail (u ~ 1e-200): bisect the CDF instead
            low, high = 0.0, 1.0
            for _ in range(2000):  # enough halvings to reach the smallest floats
                mid = (low + high) / 2.0
                if mid in (low, high):
                    break
                low, high = (mid, high) if betainc(self.a, self.b, mid) < u else (low, mid)
            x = high
        return min(max(x, 0.0), 1.0)


class Quantized(Distribution):
    """``round(X / q) * q`` of another distribution (an int when ``q`` is an int).

    ``to_unit`` is the base distribution's map (so the quantised values keep their place in the
    prior); ``from_unit`` quantises the base's ``from_unit``. Only ``q_uniform`` has a grid:
    ``arange(min, max, q)``, max excluded.
    """

    def __init__(
        self, kind: str, base: Distribution, q: float | int, grid_range: tuple | None = None
    ) -> None:
        self.kind = kind
        self.base = base
        self.q = q
        self.is_integer = is_int(q)
        low, high = base.bounds  # type: ignore[misc]
        self.bounds = (self._quantize(low), self._quantize(high))
        self._grid_range = grid_range

    def _quantize(self, x: float) -> float | int:
        if math.isinf(x):
            return x
        return quantize(x, self.q)

    def draw(self, rng: random.Random) -> float | int:
        return self._quantize(self.base.draw(rng))

    def grid(self) -> list[float | int] | None:
        if self._grid_range is None:
            return None
        low, high = self._grid_range
        return arange(low, high, self.q)

    def to_unit(self, value: Any) -> float:
        return self.base.to_unit(value)

    def from_unit(self, u: float) -> float | int:
        return self._quantize(self.base.from_unit(u))


# --- building a distribution from a normalized spec -------------------------------------------


def _number(spec: Mapping[str, Any], key: str, where: str, default: Any = None) -> float | int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpaceError(f"{where}.{key}: expected a number, got {value!r}")
    return value


def _range(spec: Mapping[str, Any], where: str, positive: bool = False) -> tuple[float, float]:
    low, high = _number(spec, "min", where), _number(spec, "max", where)
    if positive and low <= 0:
        raise SpaceError(f"{where}.min: expected a number > 0, got {low!r}")
    if not low < high:
        raise SpaceError(f"{where}: expected min < max, got min {low!r} and max {high!r}")
    return low, high


def _nonnegative(spec: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = _number(spec, key, where, default)
    if value < 0:
        raise SpaceError(f"{where}.{key}: expected a number >= 0, got {value!r}")
    return value


def _q(spec: Mapping[str, Any], where: str) -> float | int:
    q = _number(spec, "q", where, 1.0)
    if not q > 0:
        raise SpaceError(f"{where}.q: expected a number > 0, got {q!r}")
    return q


def _values(spec: Mapping[str, Any], where: str) -> list[Any]:
    values = spec.get("values")
    if not isinstance(values, (list, tuple)) or not values:
        raise SpaceError(f"{where}.values: expected a non-empty list, got {values!r}")
    return list(values)


def _probabilities(spec: Mapping[str, Any], where: str, count: int) -> list[float]:
    probabilities = spec.get("probabilities")
    if not isinstance(probabilities, (list, tuple)) or len(probabilities) != count:
        raise SpaceError(
            f"{where}.probabilities: expected a list of {count} numbers (one per value), got {probabilities!r}"
        )
    for i, p in enumerate(probabilities):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not (p >= 0 and math.isfinite(p)):
            raise SpaceError(f"{where}.probabilities[{i}]: expected a number >= 0, got {p!r}")
    if not math.fsum(probabilities) > 0:
        raise SpaceError(f"{where}.probabilities: expected numbers summing to 1, got {list(probabilities)!r}")
    return [float(p) for p in probabilities]


def _log_values(kind: str, spec: Mapping[str, Any], where: str, inverted: bool = False) -> LogUniform:
    low, high = _range(spec, where, positive=True)
    return LogUniform(kind, math.log(low), math.log(high), (low, high), inverted=inverted)


def _log_exponents(kind: str, spec: Mapping[str, Any], where: str, inverted: bool = False) -> LogUniform:
    low, high = _range(spec, where)
    try:
        if inverted:  # X = exp(-U(min, max)), in [exp(-max), exp(-min)]
            return LogUniform(kind, -high, -low, (math.exp(-high), math.exp(-low)), inverted=True)
        return LogUniform(kind, low, high, (math.exp(low), math.exp(high)))
    except OverflowError:
        raise SpaceError(f"{where}: exponents min {low!r} and max {high!r} overflow exp()") from None


def build(spec: Mapping[str, Any], where: str) -> Distribution:
    """The distribution of a normalized parameter spec; ``where`` is its key path for errors."""
    kind = spec.get("distribution")
    if kind == "constant":
        if "value" not in spec:
            raise SpaceError(f"{where}.value: expected a value for a constant parameter")
        return Constant(spec["value"])
    if kind == "categorical":
        return Categorical(_values(spec, where))
    if kind == "categorical_w_probabilities":
        values = _values(spec, where)
        return Categorical(values, _probabilities(spec, where, len(values)))
    if kind == "int_uniform":
        low, high = _range(spec, where)
        for key, value in (("min", low), ("max", high)):
            if not is_int(value) and not (isinstance(value, float) and value.is_integer()):
                raise SpaceError(f"{where}.{key}: expected an integer, got {value!r}")
        return IntUniform(int(low), int(high))
    if kind in ("uniform", "q_uniform"):
        low, high = _range(spec, where)
        if kind == "uniform":
            return Uniform(low, high)
        return Quantized(kind, Uniform(low, high), _q(spec, where), grid_range=(low, high))
    if kind in ("log_uniform_values", "q_log_uniform_values"):
        base = _log_values("log_uniform_values", spec, where)
        return base if kind == "log_uniform_values" else Quantized(kind, base, _q(spec, where))
    if kind == "inv_log_uniform_values":
        return _log_values(kind, spec, where, inverted=True)
    if kind in ("log_uniform", "q_log_uniform"):
        base = _log_exponents("log_uniform", spec, where)
        return base if kind == "log_uniform" else Quantized(kind, base, _q(spec, where))
    if kind == "inv_log_uniform":
        return _log_exponents(kind, spec, where, inverted=True)
    if kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
        mu = _number(spec, "mu", where, 0)
        sigma = _nonnegative(spec, "sigma", where, 1)
        log = kind in ("log_normal", "q_log_normal")
        base = Normal("log_normal" if log else "normal", mu, sigma, log=log)
        return base if kind in ("normal", "log_normal") else Quantized(kind, base, _q(spec, where))
    if kind in ("beta", "q_beta"):
        base = Beta(_nonnegative(spec, "a", where, 1), _nonnegative(spec, "b", where, 1))
        return base if kind == "beta" else Quantized(kind, base, _q(spec, where))
    raise SpaceError(f"{where}.distribution: expected one of {', '.join(KINDS)}, got {kind!r}")
