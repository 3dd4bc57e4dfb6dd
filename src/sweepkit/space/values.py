"""Content equality of parameter values: ``3.0 == 3``, dict key order ignored, ``True`` is not ``1``.

Grid de-duplication and the bayes method compare values that went through JSON, YAML and a
database, so Python's own ``==`` is not the right notion (it says ``True == 1``). Everything here
agrees on one rule, :func:`canonical_key`; :func:`values_equal` is that rule applied to two values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping, Set
from typing import Any

# One tag per kind of value, so that values of different kinds never share a key.
_NONE = ("none",)
_NAN = ("nan",)


def canonical_key(value: Any) -> Hashable:
    """A hashable key that is equal for two values exactly when they are equal by content.

    - numbers compare by numeric value (``3.0`` and ``3`` share a key; ``-0.0`` is ``0``), NaN
      equals NaN, and booleans are their own kind (``True`` is not ``1``);
    - strings, ``None`` and booleans compare as themselves;
    - lists and tuples compare element by element, in order;
    - mappings compare by their items, whatever the key order; sets by their members;
    - numpy scalars and arrays compare like the Python values ``.tolist()`` gives;
    - anything else compares by ``==`` when hashable, by type and ``repr`` otherwise.
    """
    if value is None:
        return _NONE
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("num", value)
    if isinstance(value, float):
        # 3.0 == 3 and hash(3.0) == hash(3), so ("num", 3.0) and ("num", 3) are one key.
        return _NAN if math.isnan(value) else ("num", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Mapping):
        return ("dict", frozenset((canonical_key(k), canonical_key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canonical_key(v) for v in value))
    if isinstance(value, Set):
        return ("set", frozenset(canonical_key(v) for v in value))
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return canonical_key(value.tolist())
    if isinstance(value, numbers.Integral):
        return ("num", int(value))
    if isinstance(value, numbers.Real):
        return canonical_key(float(value))
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__qualname__, repr(value))
    return ("obj", value)


def values_equal(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are equal by content (the rule of :func:`canonical_key`)."""
    return canonical_key(a) == canonical_key(b)
