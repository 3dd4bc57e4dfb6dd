"""Quantisation to multiples of ``q`` and the grid of ``q_uniform``, without floating-point noise.

W&B computes ``round(x / q) * q`` and ``np.arange(min, max, q)`` in binary floating point, which
gives values such as ``0.30000000000000004`` for ``3 * 0.1`` and, through ``arange``'s
``ceil((max - min) / q)`` length, sometimes a last grid value equal to ``max`` (which should be
excluded). Here the multiplier ``k = round(x / q)`` is chosen exactly as W&B does (round half to
even), but the product ``k * q`` and the grid values ``min + i * q`` are computed in exact
decimal arithmetic on the numbers as written (their shortest ``repr``: ``0.1`` means one tenth),
then converted to the nearest float. So ``3 * 0.1`` gives ``0.3``, a grid of step ``0.1`` from
``1`` to ``1.3`` is ``[1.0, 1.1, 1.2]``, and every value prints the way a person would write it.

Integer ``q`` (and, for grids, integer ``min``, ``max`` and ``q``) gives Python ints, as in W&B.
"""

from __future__ import annotations

import math
from fractions import Fraction


def is_int(value: object) -> bool:
    """True for Python ints (and int-like numbers) that are not booleans."""
    return isinstance(value, int) and not isinstance(value, bool)


def exact(value: float | int) -> Fraction:
    """The number as written: ``0.1`` is one tenth, not the binary float nearest to it."""
    if is_int(value):
        return Fraction(int(value))
    return Fraction(repr(float(value)))


def quantize(x: float, q: float | int) -> float | int:
    """``round(x / q) * q`` (round half to even, as W&B), an int when ``q`` is an int.

    The product is exact decimal arithmetic converted to the nearest float, so it prints tidily.
    A value too large to divide (``x / q`` infinite) is returned as it is.
    """
    ratio = x / q
    if not math.isfinite(ratio):
        return x
    k = round(ratio)
    if is_int(q):
        return k * int(q)
    return float(k * exact(q))


def arange(start: float | int, stop: float | int, step: float | int) -> list[float | int]:
    """``start, start + step, ...`` while the value stays strictly below ``stop`` (``stop`` excluded).

    Like ``numpy.arange`` (ints when all three are ints, floats otherwise), but the count and the
    values are exact in decimal arithmetic, so ``stop`` is never included through rounding noise.
    """
    if not step > 0:
        raise ValueError(f"arange step must be positive, got {step!r}")
    first, last, size = exact(start), exact(stop), exact(step)
    count = max(0, math.ceil((last - first) / size))
    if is_int(start) and is_int(stop) and is_int(step):
        return [int(start) + i * int(step) for i in range(count)]
    values = [float(first + i * size) for i in range(count)]
    # Numbers as written can disagree with their floats in the last digit: never hand out max itself.
    while values and values[-1] >= stop:
        values.pop()
    return values
