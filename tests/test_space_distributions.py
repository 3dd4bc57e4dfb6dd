"""Random draws match their definition (docs/config.md), one statistical test per row of the table.

Continuous kinds: Kolmogorov-Smirnov against the exact reference distribution (scipy.stats).
Discrete, quantised and categorical kinds: chi-square against the exact cell probabilities.
Every test uses a fixed seed, so it is deterministic: a failure is a real defect, not bad luck.
The same tests run on ``from_unit`` of uniform numbers, which must be a draw from the same prior.
"""

from __future__ import annotations

import math
import random

import pytest

from sweepkit.space import SearchSpace
from sweepkit.space.param import Param

stats = pytest.importorskip("scipy.stats")

N = 4000
ALPHA = 0.001  # p-values below this fail; with fixed seeds nothing here is random


def param(spec: dict) -> Param:
    return Param(("p",), spec)


def draws(p: Param, seed: int, n: int = N) -> list:
    rng = random.Random(seed)
    return [p.draw(rng) for _ in range(n)]


def unit_draws(p: Param, seed: int, n: int = N) -> list:
    rng = random.Random(seed)
    return [p.from_unit(rng.random()) for _ in range(n)]


SAMPLERS = {"draw": draws, "from_unit": unit_draws}


# --- continuous kinds: Kolmogorov-Smirnov -------------------------------------------------------

CONTINUOUS = [
    ("uniform", {"min": -2.5, "max": 7.0}, lambda xs: xs, stats.uniform(loc=-2.5, scale=9.5)),
    ("log_uniform_values", {"min": 1e-5, "max": 1e-1}, lambda xs: xs, stats.loguniform(1e-5, 1e-1)),
    # log(1/X) uniform on [-ln max, -ln min]
    (
        "inv_log_uniform_values",
        {"min": 1e-4, "max": 10.0},
        lambda xs: [math.log(1 / x) for x in xs],
        stats.uniform(loc=-math.log(10.0), scale=math.log(10.0) - math.log(1e-4)),
    ),
    # legacy: min and max are natural-log exponents
    (
        "log_uniform",
        {"min": -9.2, "max": -2.3},
        lambda xs: xs,
        stats.loguniform(math.exp(-9.2), math.exp(-2.3)),
    ),
    # legacy: exp(-U(min, max)), i.e. -log X uniform on [min, max]
    (
        "inv_log_uniform",
        {"min": 1.0, "max": 5.0},
        lambda xs: [-math.log(x) for x in xs],
        stats.uniform(1.0, 4.0),
    ),
    ("normal", {"mu": 3.0, "sigma": 2.0}, lambda xs: xs, stats.norm(3.0, 2.0)),
    ("log_normal", {"mu": 0.5, "sigma": 0.75}, lambda xs: xs, stats.lognorm(s=0.75, scale=math.exp(0.5))),
    ("beta", {"a": 2.0, "b": 5.0}, lambda xs: xs, stats.beta(2.0, 5.0)),
    ("beta", {"a": 0.5, "b": 0.5}, lambda xs: xs, stats.beta(0.5, 0.5)),
]


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize(
    ("kind", "keys", "transform", "reference"),
    CONTINUOUS,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CONTINUOUS)],
)
def test_continuous_kinds_follow_their_distribution(kind, keys, transform, reference, sampler):
    p = param({"distribution": kind, **keys})
    xs = SAMPLERS[sampler](p, seed=20240 + len(kind))
    assert all(isinstance(x, float) for x in xs)
    low, high = p.bounds
    assert all(low <= x <= high for x in xs)
    result = stats.kstest(transform(xs), reference.cdf)
    assert result.pvalue > ALPHA, result


@pytest.mark.parametrize(("kind", "keys", "transform", "reference"), CONTINUOUS[:-1])
def test_to_unit_of_draws_is_uniform(kind, keys, transform, reference):
    """The probability integral transform: the prior CDF of a draw is uniform on [0, 1]."""
    p = param({"distribution": kind, **keys})
    units = [p.to_unit(x) for x in draws(p, seed=77)]
    result = stats.kstest(units, stats.uniform(0, 1).cdf)
    assert result.pvalue > ALPHA, result


def test_inv_log_uniform_values_lies_in_min_max():
    p = param({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 0.02})
    xs = draws(p, seed=5)
    assert min(xs) >= 0.01 and max(xs) <= 0.02
    assert min(xs) < 0.0105 and max(xs) > 0.0195


# --- discrete and categorical kinds: chi-square -----------------------------------------------


def chi_square_pvalue(observed: list, expected_probabilities: dict) -> float:
    """Chi-square p-value of observed values against exact probabilities (cells merged to >= 5)."""
    counts: dict = {}
    for value in observed:
        counts[value] = counts.get(value, 0) + 1
    assert set(counts) <= set(expected_probabilities), set(counts) - set(expected_probabilities)
    cells = sorted(expected_probabilities)
    obs, exp = [], []
    o_acc = e_acc = 0.0
    for cell in cells:
        o_acc += counts.get(cell, 0)
        e_acc += expected_probabilities[cell] * len(observed)
        if e_acc >= 5:
            obs.append(o_acc)
            exp.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc or o_acc:
        obs[-1] += o_acc
        exp[-1] += e_acc
    assert len(obs) >= 2
    scale = sum(obs) / sum(exp)  # the tails beyond the listed cells carry a negligible mass
    return stats.chisquare(obs, [e * scale for e in exp]).pvalue


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_int_uniform_includes_both_ends_uniformly(sampler):
    p = param({"distribution": "int_uniform", "min": -3, "max": 6})
    xs = SAMPLERS[sampler](p, seed=11)
    assert all(type(x) is int for x in xs)
    assert min(xs) == -3 and max(xs) == 6
    assert chi_square_pvalue(xs, {k: 0.1 for k in range(-3, 7)}) > ALPHA


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_categorical_is_uniform_over_any_json_values(sampler):
    values = [1, "a", None, [1, 2], {"x": 1}, False]
    p = param({"distribution": "categorical", "values": values})
    xs = SAMPLERS[sampler](p, seed=12)
    indices = [p.index_of(x) for x in xs]
    assert chi_square_pvalue(indices, {i: 1 / 6 for i in range(6)}) > ALPHA


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_categorical_w_probabilities_is_weighted(sampler):
    probabilities = [0.5, 0.2, 0.0, 0.3]
    p = param(
        {
            "distribution": "categorical_w_probabilities",
            "values": ["a", "b", "c", "d"],
            "probabilities": probabilities,
        }
    )
    xs = SAMPLERS[sampler](p, seed=13)
    assert "c" not in xs  # a zero probability is never drawn
    assert chi_square_pvalue(xs, {"a": 0.5, "b": 0.2, "d": 0.3}) > ALPHA


def test_constant_is_always_its_value_and_a_fresh_copy():
    p = param({"distribution": "constant", "value": {"layers": [64, 32]}})
    rng = random.Random(0)
    first = p.draw(rng)
    first["layers"].append(1)
    assert p.draw(rng) == {"layers": [64, 32]}
    assert all(x == {"layers": [64, 32]} for x in draws(p, seed=1, n=10))


# Quantised kinds: P(k q) = F((k + 1/2) q) - F((k - 1/2) q) for the continuous base's CDF F.
QUANTISED = [
    ("q_uniform", {"min": 0.0, "max": 10.0, "q": 0.5}, stats.uniform(0.0, 10.0), False),
    ("q_uniform", {"min": 1, "max": 10, "q": 3}, stats.uniform(1, 9), True),
    ("q_log_uniform_values", {"min": 1.0, "max": 100.0, "q": 5}, stats.loguniform(1.0, 100.0), True),
    ("q_log_uniform", {"min": 0.0, "max": 3.0, "q": 1.0}, stats.loguniform(1.0, math.exp(3.0)), False),
    ("q_normal", {"mu": 2.0, "sigma": 3.0, "q": 1}, stats.norm(2.0, 3.0), True),
    ("q_log_normal", {"mu": 1.0, "sigma": 0.5, "q": 0.5}, stats.lognorm(s=0.5, scale=math.exp(1.0)), False),
    ("q_beta", {"a": 2.0, "b": 5.0, "q": 0.1}, stats.beta(2.0, 5.0), False),
]


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize(
    ("kind", "keys", "base", "integer"), QUANTISED, ids=[f"{c[0]}-{i}" for i, c in enumerate(QUANTISED)]
)
def test_quantised_kinds_follow_the_rounded_distribution(kind, keys, base, integer, sampler):
    p = param({"distribution": kind, **keys})
    q = keys["q"]
    xs = SAMPLERS[sampler](p, seed=31)
    assert all(type(x) is (int if integer else float) for x in xs)
    ks = [round(x / q) for x in xs]
    # exactly a multiple of q, and as tidy as the decimal k * q (0.30000000000000004 never appears)
    assert all(
        repr(x) == repr(k * q if integer else float(f"{k * q:.10f}")) for x, k in zip(xs, ks, strict=True)
    )
    low_k, high_k = round(base.ppf(1e-9) / q), round(base.ppf(1 - 1e-9) / q)
    expected = {k: base.cdf((k + 0.5) * q) - base.cdf((k - 0.5) * q) for k in range(low_k, high_k + 1)}
    assert chi_square_pvalue(ks, expected) > ALPHA


def test_q_uniform_follows_wandb_rounding_even_past_min():
    """round(X / q) * q of X in [1, 10] with q = 3 gives 0 (X < 1.5) as W&B does: bounds are quantised."""
    p = param({"distribution": "q_uniform", "min": 1, "max": 10, "q": 3})
    assert p.bounds == (0, 9)
    assert set(draws(p, seed=3)) == {0, 3, 6, 9}


def test_float_q_keeps_values_tidy():
    p = param({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.1})
    values = set(draws(p, seed=4, n=2000))
    assert values == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}


def test_default_q_gives_floats_and_an_int_q_gives_ints():
    as_float = param({"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 1.0})
    as_int = param({"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 1})
    assert all(type(x) is float and x.is_integer() for x in draws(as_float, seed=1, n=200))
    assert all(type(x) is int for x in draws(as_int, seed=1, n=200))
    assert not as_float.is_integer and as_int.is_integer


def test_draws_depend_only_on_the_seed():
    space = SearchSpace.from_parameters(
        {
            "a": {"distribution": "normal", "mu": 0, "sigma": 1},
            "b": {"distribution": "categorical", "values": [1, 2, 3]},
            "c": {"parameters": {"d": {"distribution": "beta", "a": 2, "b": 3}}},
        }
    )
    first = [space.draw(random.Random(42)) for _ in range(3)]
    second = [space.draw(random.Random(42)) for _ in range(3)]
    assert first == second
    rng = random.Random(42)
    assert space.draw(rng) != space.draw(rng)


@pytest.mark.parametrize(
    ("spec", "point"),
    [
        ({"distribution": "normal", "mu": 1.5, "sigma": 0}, 1.5),
        ({"distribution": "log_normal", "mu": 0.0, "sigma": 0}, 1.0),
        ({"distribution": "beta", "a": 0, "b": 2}, 0.0),
        ({"distribution": "beta", "a": 3, "b": 0}, 1.0),
    ],
)
def test_degenerate_parameters_are_their_point(spec, point):
    p = param(spec)
    assert set(draws(p, seed=1, n=50)) == {point}
    assert p.from_unit(0.0) == p.from_unit(0.5) == p.from_unit(1.0) == point


def test_beta_with_both_shapes_zero_is_half_at_each_end():
    p = param({"distribution": "beta", "a": 0, "b": 0})
    xs = draws(p, seed=8)
    assert set(xs) == {0.0, 1.0}
    assert chi_square_pvalue(xs, {0.0: 0.5, 1.0: 0.5}) > ALPHA
