"""The distribution kinds a parameter can have, their keys and defaults, and how a kind is inferred."""

from __future__ import annotations

import functools
from typing import Any

from sweepkit.sweep_config.schema import definition, sweep_schema

# the kinds method grid can enumerate (SPEC 2): anything else is an error naming the parameter
GRID_KINDS = ("constant", "categorical", "int_uniform", "q_uniform")

# legacy kinds whose min/max are natural-log exponents, not values
EXPONENT_KINDS = ("log_uniform", "q_log_uniform", "inv_log_uniform")

# keys that make a mapping a distribution rather than a nested group
SPEC_KEYS = ("distribution", "value", "values", "probabilities", "min", "max", "q", "mu", "sigma", "a", "b")


@functools.lru_cache(maxsize=1)
def kinds() -> tuple[str, ...]:
    """Every distribution name, in the schema's order."""
    refs = sweep_schema()["$defs"]["parameter"]["anyOf"]
    names = [ref["$ref"].rsplit("/", 1)[-1] for ref in refs]
    return tuple(name for name in names if name != "group")


@functools.cache
def keys_of(kind: str) -> tuple[str, ...]:
    """The keys ``kind`` takes, ``distribution`` first."""
    return tuple(definition(kind)["properties"])


@functools.cache
def defaults_of(kind: str) -> dict[str, Any]:
    """The defaults that are filled in when a key is left out (``q=1.0``, ``mu=0.0``...); shared,
    do not change it."""
    return {k: v["default"] for k, v in definition(kind)["properties"].items() if "default" in v}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def infer_kind(spec: dict[str, Any]) -> tuple[str, str] | None:
    """The kind of a parameter mapping without ``distribution``, and the key(s) it was inferred from.

    First match wins (SPEC 1.1): ``value`` -> constant; ``values`` -> categorical, or
    categorical_w_probabilities with ``probabilities``; ``min``/``max`` both integers ->
    int_uniform, otherwise uniform. None when no rule applies.
    """
    if "value" in spec:
        return "constant", "key 'value'"
    if "values" in spec:
        if "probabilities" in spec:
            return "categorical_w_probabilities", "keys 'values' and 'probabilities'"
        return "categorical", "key 'values'"
    if "min" in spec or "max" in spec:
        bounds = [spec[k] for k in ("min", "max") if k in spec]
        if all(_is_int(b) for b in bounds):
            return "int_uniform", "integer min and max"
        return "uniform", "min/max not both integers"
    return None
