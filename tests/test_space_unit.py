"""The prior-CDF map to and from [0, 1] that the bayes method works in, kind by kind."""

from __future__ import annotations

import math

import pytest

from sweepkit.space import SpaceError
from sweepkit.space.param import Param


def param(**spec) -> Param:
    return Param(("p",), spec)


def test_uniform_is_linear():
    p = param(distribution="uniform", min=-1.0, max=3.0)
    assert p.to_unit(-1.0) == 0.0 and p.to_unit(1.0) == 0.5 and p.to_unit(3.0) == 1.0
    assert p.from_unit(0.25) == 0.0 and p.from_unit(1.0) == 3.0
    assert p.to_unit(-10) == 0.0 and p.to_unit(10) == 1.0  # clipped
    assert p.from_unit(-0.5) == -1.0 and p.from_unit(1.5) == 3.0  # clipped


def test_int_uniform_gives_each_integer_an_equal_cell():
    p = param(distribution="int_uniform", min=1, max=4)
    assert [p.to_unit(k) for k in (1, 2, 3, 4)] == [0.125, 0.375, 0.625, 0.875]
    assert [p.from_unit(u) for u in (0.0, 0.2499, 0.25, 0.5, 0.9999, 1.0)] == [1, 1, 2, 3, 4, 4]
    assert all(type(p.from_unit(u / 10)) is int for u in range(11))


def test_q_uniform_quantises_the_linear_map():
    p = param(distribution="q_uniform", min=0, max=10, q=2.5)
    assert p.to_unit(5.0) == 0.5
    assert [p.from_unit(u) for u in (0.0, 0.12, 0.13, 0.5, 1.0)] == [0.0, 0.0, 2.5, 5.0, 10.0]


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        {"distribution": "inv_log_uniform_values", "min": 1e-4, "max": 1.0},
        {"distribution": "log_uniform", "min": math.log(1e-4), "max": 0.0},
    ],
)
def test_log_kinds_are_linear_in_log_space(spec):
    p = param(**spec)
    assert p.to_unit(1e-2) == pytest.approx(0.5)
    assert p.to_unit(1e-3) == pytest.approx(0.25)
    assert p.from_unit(0.75) == pytest.approx(1e-1)
    assert p.from_unit(0.0) == pytest.approx(1e-4) and p.from_unit(1.0) == pytest.approx(1.0)
    assert p.to_unit(0.0) == 0.0 and p.to_unit(-1.0) == 0.0


def test_legacy_inv_log_uniform_maps_exp_of_minus_exponents():
    p = param(distribution="inv_log_uniform", min=0.0, max=4.0)  # X = exp(-U(0, 4)) in [e^-4, 1]
    assert p.bounds == (math.exp(-4.0), 1.0)
    assert p.to_unit(math.exp(-2.0)) == pytest.approx(0.5)
    assert p.from_unit(0.0) == pytest.approx(math.exp(-4.0)) and p.from_unit(1.0) == pytest.approx(1.0)
    assert p.from_unit(0.25) < p.from_unit(0.75)  # increasing, like every from_unit


def test_normal_kinds_use_the_normal_cdf():
    p = param(distribution="normal", mu=2.0, sigma=0.5)
    assert p.to_unit(2.0) == 0.5
    assert p.to_unit(2.5) == pytest.approx(0.8413447460685429)
    assert p.from_unit(0.8413447460685429) == pytest.approx(2.5)
    assert math.isfinite(p.from_unit(0.0)) and math.isfinite(p.from_unit(1.0))
    assert p.from_unit(0.0) == pytest.approx(2.0 - 0.5 * 7.034, abs=0.01)
    ln = param(distribution="log_normal", mu=0.0, sigma=1.0)
    assert ln.to_unit(1.0) == 0.5 and ln.to_unit(0.0) == 0.0
    assert ln.from_unit(0.8413447460685429) == pytest.approx(math.e)


def test_beta_uses_its_cdf():
    pytest.importorskip("scipy")
    p = param(distribution="beta", a=2.0, b=2.0)
    assert p.to_unit(0.5) == pytest.approx(0.5)
    assert p.to_unit(0.25) == pytest.approx(0.15625)  # 3x^2 - 2x^3
    assert p.from_unit(0.15625) == pytest.approx(0.25)
    assert p.from_unit(0.0) == 0.0 and p.from_unit(1.0) == 1.0
    assert p.from_unit(1e-300) > 0.0  # far tails stay finite and in bounds


def test_quantised_normal_with_int_q_gives_ints():
    p = param(distribution="q_normal", mu=0.0, sigma=10.0, q=5)
    values = [p.from_unit(u / 20) for u in range(21)]
    assert all(type(v) is int and v % 5 == 0 for v in values)
    assert values == sorted(values)


def test_categorical_cells_follow_probabilities():
    p = param(distribution="categorical", values=["a", "b", "c", "d"])
    assert [p.to_unit(v) for v in "abcd"] == [0.125, 0.375, 0.625, 0.875]
    assert [p.from_unit(u) for u in (0.0, 0.3, 0.5, 1.0)] == ["a", "b", "c", "d"]
    w = param(
        distribution="categorical_w_probabilities", values=["x", "y", "z"], probabilities=[0.5, 0.0, 0.5]
    )
    assert w.to_unit("x") == 0.25 and w.to_unit("z") == 0.75
    assert [w.from_unit(u) for u in (0.0, 0.49, 0.5, 0.51, 1.0)] == ["x", "x", "z", "z", "z"]


def test_constant_maps_to_the_middle():
    p = param(distribution="constant", value={"a": 1})
    assert p.to_unit({"a": 1}) == 0.5
    assert p.from_unit(0.1) == {"a": 1}


@pytest.mark.parametrize("bad", ["abc", None, True, float("nan"), [1]])
def test_to_unit_refuses_non_numbers_naming_the_parameter(bad):
    p = param(distribution="uniform", min=0, max=1)
    with pytest.raises(SpaceError, match="parameter p: expected a number"):
        p.to_unit(bad)


def test_from_unit_refuses_nan():
    with pytest.raises(SpaceError, match="parameter p: unit value is NaN"):
        param(distribution="uniform", min=0, max=1).from_unit(float("nan"))


def test_log_kinds_are_log_scaled_and_others_are_not():
    log = [
        {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
        {"distribution": "log_uniform", "min": -5.0, "max": 0.0},
        {"distribution": "inv_log_uniform_values", "min": 1.0, "max": 100.0},
        {"distribution": "log_normal", "mu": 0.0, "sigma": 1.0},
    ]
    linear = [
        {"distribution": "uniform", "min": 0.0, "max": 1.0},
        {"distribution": "int_uniform", "min": 1, "max": 9},
        {"distribution": "categorical", "values": ["log", "lin"]},
        {"distribution": "normal", "mu": 0.0, "sigma": 1.0},
    ]
    assert [param(**spec).is_log_scaled for spec in log] == [True] * len(log)
    assert [param(**spec).is_log_scaled for spec in linear] == [False] * len(linear)
