"""Whether a point (one value per parameter) lies in a search space, said one sentence per problem.

Points come from people and other tools: points queued with ``sweepkit sweep --add``, rows of an
imported results file, runs of an earlier sweep taken into a new one. :func:`check_point` accepts a
point as runs see it (nested groups as dicts) or with flat dotted names, fills in constants and the
given defaults, and says, for each parameter, what was expected when the value does not fit:
``lr: expected a number from 0.0001 to 0.1, got 0.5``. :func:`outside` is the yes/no form the
service uses to count earlier runs a new space cannot express.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sweepkit.space.errors import SpaceError
from sweepkit.space.param import Param
from sweepkit.space.search_space import SearchSpace
from sweepkit.space.values import values_equal

#: How far outside its bounds a number may be and still count as inside (rounding of quantised values).
_SLACK = 1e-9

_MISSING = object()


def describe(param: Param) -> str:
    """What a value of ``param`` must be, in words: ``one of 'adam', 'sgd'``, ``an integer from 1 to 8``."""
    values = param.values
    if param.is_constant and values is not None:
        return f"the constant {values[0]!r}"
    if values is not None:
        shown = ", ".join(repr(v) for v in values[:12])
        return f"one of {shown}{', ...' if len(values) > 12 else ''}"
    kind = "an integer" if param.is_integer else "a number"
    low, high = param.bounds or (-math.inf, math.inf)
    if math.isinf(low) and math.isinf(high):
        return kind
    if math.isinf(high):
        return f"{kind} of at least {low:g}"
    if math.isinf(low):
        return f"{kind} of at most {high:g}"
    return f"{kind} from {low:g} to {high:g}"


def value_fits(param: Param, value: Any) -> bool:
    """Whether ``value`` is a value ``param`` could have given (by content: ``3.0`` fits ``3``)."""
    values = param.values
    if values is not None:
        return any(values_equal(value, v) for v in values)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    if param.is_integer and float(value) != math.floor(value):
        return False
    low, high = param.bounds or (-math.inf, math.inf)
    slack = _SLACK * max(
        1.0, abs(low) if math.isfinite(low) else 1.0, abs(high) if math.isfinite(high) else 1.0
    )
    return low - slack <= value <= high + slack


def check_point(
    space: SearchSpace,
    point: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    extra: str = "refuse",
) -> tuple[dict[str, Any], list[str]]:
    """The point with flat names (constants and ``defaults`` filled in), and one sentence per problem.

    A problem names the parameter and what was expected. Keys the space does not have are problems
    too (``extra="refuse"``: a typo in a queued point would run a point that is not the one meant),
    or are left out (``extra="ignore"``: an imported run's config holds more than the sweep's
    parameters).
    """
    if not isinstance(point, Mapping):
        return {}, [f"expected a mapping of parameter names to values, got {type(point).__name__}"]
    try:
        flat = space.flatten(point)
    except SpaceError as err:
        return {}, [str(err)]
    problems = []
    out: dict[str, Any] = {}
    for param in space:
        value = flat.pop(param.name, _MISSING)
        if value is _MISSING and param.is_constant:
            value = param.values[0]
        if value is _MISSING and defaults is not None and param.name in defaults:
            value = defaults[param.name]
        if value is _MISSING:
            problems.append(f"{param.name}: missing (expected {describe(param)})")
        elif not value_fits(param, value):
            problems.append(f"{param.name}: expected {describe(param)}, got {value!r}")
        else:
            out[param.name] = value
    for name in flat if extra == "refuse" else ():
        known = ", ".join(space.names[:12]) + (", ..." if len(space.names) > 12 else "")
        problems.append(f"{name}: not a parameter of this sweep (its parameters: {known})")
    return out, problems


def outside(space: SearchSpace, params: Mapping[str, Any]) -> str | None:
    """Why a run's flat ``params`` fall outside ``space`` (the first problem), or None when inside.

    Parameters the space no longer has are ignored: a run with a removed parameter is still a point
    of the new space (its other values are what the space can express).
    """
    for param in space:
        value = params.get(param.name, _MISSING)
        if value is _MISSING:
            return f"{param.name}: no value"
        if not value_fits(param, value):
            return f"{param.name}: {value!r} is not {describe(param)}"
    return None
