"""Properties of every numeric distribution, for any valid spec (hypothesis).

Draws and ``from_unit`` values lie within the bounds, are ints where they must be and multiples
of ``q`` for quantised kinds; ``to_unit`` lies in [0, 1]; ``from_unit`` is monotone;
``from_unit(to_unit(x))`` gives ``x`` back for continuous kinds (and exactly, for discrete ones).
"""

from __future__ import annotations

import itertools
import math
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sweepkit.space.param import Param
from sweepkit.space.quantize import arange

CONTINUOUS_KINDS = (
    "uniform",
    "log_uniform_values",
    "inv_log_uniform_values",
    "log_uniform",
    "inv_log_uniform",
    "normal",
    "log_normal",
    "beta",
)
QUANTISED_KINDS = (
    "q_uniform",
    "q_log_uniform_values",
    "q_log_uniform",
    "q_normal",
    "q_log_normal",
    "q_beta",
)
NUMERIC_KINDS = ("int_uniform", *CONTINUOUS_KINDS, *QUANTISED_KINDS)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _float(low: float, high: float):
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


q_values = st.one_of(
    st.integers(min_value=1, max_value=50),
    st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.5, 0.001, 0.05, 1e-4]),
    _float(1e-3, 100.0),
)


@st.composite
def specs(draw, kinds=NUMERIC_KINDS):
    """A valid normalized spec of one of ``kinds``."""
    kind = draw(st.sampled_from(kinds))
    base = kind[2:] if kind.startswith("q_") else kind
    spec: dict = {"distribution": kind}
    if base == "int_uniform":
        low = draw(st.integers(min_value=-(10**6), max_value=10**6))
        spec.update(min=low, max=low + draw(st.integers(min_value=1, max_value=10**6)))
    elif base == "uniform":
        low = draw(_float(-1e6, 1e6))
        high = low + draw(_float(1e-3, 1e6))
        assume(low < high)
        spec.update(min=low, max=high)
    elif base in ("log_uniform_values", "inv_log_uniform_values"):
        low = draw(_float(1e-8, 1e6))
        high = low * draw(_float(1.001, 1e6))
        spec.update(min=low, max=high)
    elif base in ("log_uniform", "inv_log_uniform"):
        low = draw(_float(-30.0, 10.0))
        spec.update(min=low, max=low + draw(_float(0.01, 20.0)))
    elif base == "normal":
        spec.update(mu=draw(_float(-1e3, 1e3)), sigma=draw(st.just(0.0) | _float(1e-3, 100.0)))
    elif base == "log_normal":
        spec.update(mu=draw(_float(-5.0, 5.0)), sigma=draw(st.just(0.0) | _float(1e-3, 3.0)))
    elif base == "beta":
        shape = st.just(0.0) | _float(0.05, 50.0)
        spec.update(a=draw(shape), b=draw(shape))
    if kind.startswith("q_"):
        spec["q"] = draw(q_values)
    return spec


def central(p: Param, u: float) -> float:
    """``u`` kept off the far tails of the unbounded-density kinds (normal, beta), where a CDF
    computed in floats has lost the digits a round trip needs: a float just below 1 resolves
    tail probabilities to ~1e-4 at 7 sigma, and beta's CDF underflows for ``u`` ~ 1e-313."""
    if "normal" in p.kind or "beta" in p.kind:
        return min(max(u, 1e-6), 1 - 1e-6)
    return u


def is_multiple(x: float, q: float) -> bool:
    k = x / q
    return abs(k - round(k)) <= 1e-9 * max(1.0, abs(k))


def check_value(p: Param, x) -> None:
    low, high = p.bounds
    assert low <= x <= high, (p, x)
    if p.is_integer:
        assert type(x) is int, (p, x)
    else:
        assert type(x) is float, (p, x)
    if p.kind.startswith("q_"):
        assert is_multiple(x, p.spec["q"]), (p, x)


@PROPERTY_SETTINGS
@given(specs(), st.integers(min_value=0, max_value=2**32))
def test_draws_are_in_bounds_typed_and_quantised(spec, seed):
    p = Param(("p",), spec)
    rng = random.Random(seed)
    for _ in range(20):
        check_value(p, p.draw(rng))


@PROPERTY_SETTINGS
@given(specs(), st.lists(_float(-0.5, 1.5), min_size=1, max_size=10))
def test_from_unit_is_in_bounds_typed_and_quantised(spec, units):
    p = Param(("p",), spec)
    for u in [0.0, 1.0, *units]:
        check_value(p, p.from_unit(u))


@PROPERTY_SETTINGS
@given(specs(), _float(-0.5, 1.5), _float(-0.5, 1.5))
def test_from_unit_is_monotone(spec, u1, u2):
    p = Param(("p",), spec)
    u1, u2 = min(u1, u2), max(u1, u2)
    assert p.from_unit(u1) <= p.from_unit(u2)


@PROPERTY_SETTINGS
@given(specs(), _float(-1e7, 1e7))
def test_to_unit_is_in_the_unit_interval(spec, x):
    p = Param(("p",), spec)
    assert 0.0 <= p.to_unit(x) <= 1.0


def absolute_tolerance(p: Param) -> float:
    """Round-trip slack beside a 1e-7 relative one: a billionth of the scale of the distribution."""
    if p.kind == "uniform":
        return 1e-9 * (p.spec["max"] - p.spec["min"])
    if p.kind == "normal":
        return 1e-9 * p.spec["sigma"]
    if p.kind == "beta":
        return 1e-9
    return 0.0  # log kinds: relative precision only


@PROPERTY_SETTINGS
@given(specs(CONTINUOUS_KINDS), _float(0.0, 1.0), st.integers(min_value=0, max_value=2**32))
def test_continuous_round_trip(spec, u, seed):
    p = Param(("p",), spec)
    for x in (p.from_unit(central(p, u)), p.draw(random.Random(seed))):
        back = p.from_unit(p.to_unit(x))
        assert math.isclose(back, x, rel_tol=1e-7, abs_tol=absolute_tolerance(p)), (p, x, back)


@PROPERTY_SETTINGS
@given(specs(("int_uniform", *QUANTISED_KINDS)), _float(0.0, 1.0))
def test_discrete_round_trip_is_exact(spec, u):
    p = Param(("p",), spec)
    x = p.from_unit(central(p, u))
    assert p.from_unit(p.to_unit(x)) == x


# --- grid values of int_uniform and q_uniform -----------------------------------------------------


@settings(deadline=None)
@given(st.integers(min_value=-1000, max_value=1000), st.integers(min_value=1, max_value=300))
def test_int_uniform_grid_is_min_to_max_inclusive(low, width):
    p = Param(("p",), {"distribution": "int_uniform", "min": low, "max": low + width})
    assert p.grid_values() == list(range(low, low + width + 1))


@settings(deadline=None)
@given(_float(-1e3, 1e3), _float(1e-2, 1e3), q_values)
def test_q_uniform_grid_is_arange_with_max_excluded(low, width, q):
    high = low + width
    assume(low < high and width / q < 5000)
    p = Param(("p",), {"distribution": "q_uniform", "min": low, "max": high, "q": q})
    grid = p.grid_values()
    assert grid == arange(low, high, q)
    assert grid[0] == low
    assert all(a < b for a, b in itertools.pairwise(grid))
    assert grid[-1] < high
    # no value is left out: one step more reaches max (within the rounding of the float inputs)
    assert low + len(grid) * q >= high - 1e-9 * max(1.0, abs(high), abs(low))


@PROPERTY_SETTINGS
@given(specs(), st.integers(min_value=0, max_value=2**32), st.data())
def test_every_value_a_parameter_gives_fits_it_and_values_past_its_bounds_do_not(spec, seed, data):
    """What ``sweep --add`` and ``sweepkit import`` accept (space/membership.py) is what the space gives."""
    from sweepkit.space import SearchSpace
    from sweepkit.space.membership import check_point, outside, value_fits

    p = Param(("p",), spec)
    rng = random.Random(seed)
    space = SearchSpace([p])
    for _ in range(10):
        x = p.draw(rng)
        assert value_fits(p, x), (p, x)
        assert check_point(space, {"p": x}) == ({"p": x}, []) and outside(space, {"p": x}) is None
    low, high = p.bounds
    if math.isfinite(high):
        beyond = high + data.draw(_float(1e-3, 1e6)) * max(1.0, abs(high)) * 1e-3 + 1e-6 * max(1.0, abs(high))
        assume(beyond > high)
        assert not value_fits(p, beyond)
        flat, problems = check_point(space, {"p": beyond})
        assert flat == {} and len(problems) == 1 and problems[0].startswith("p: expected ")
    assert not value_fits(p, "text") and not value_fits(p, True) and not value_fits(p, math.nan)


@given(
    st.lists(st.sampled_from([0, 1.5, "a", True, None, "b"]), min_size=1, max_size=6, unique_by=repr),
    st.data(),
)
def test_a_categorical_takes_its_values_by_content_and_names_every_problem(values, data):
    from sweepkit.space import SearchSpace
    from sweepkit.space.membership import check_point

    space = SearchSpace(
        [
            Param(("c",), {"distribution": "categorical", "values": values}),
            Param(("k",), {"distribution": "constant", "value": 3}),
        ]
    )
    chosen = data.draw(st.sampled_from(values))
    assert check_point(space, {"c": chosen}) == ({"c": chosen, "k": 3}, [])  # the constant filled in
    flat, problems = check_point(space, {"c": "zzz", "k": 4, "extra": 1})
    assert flat == {} and [p.split(":")[0] for p in problems] == ["c", "k", "extra"]
