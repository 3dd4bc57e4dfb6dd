"""What ``log()`` accepts: a dict of text keys whose values can be stored as JSON, checked at the call.

A bad value raises one ``SweepkitError`` at the ``log()`` that brought it, naming the key; nothing
logged before or after is lost. numpy and torch scalars and arrays become numbers and lists (through
their ``tolist``), without importing either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from numbers import Integral, Real
from typing import Any

from sweepkit.errors import SweepkitError

#: Steps must fit a signed 64-bit integer.
MAX_STEP = 2**63


def checked_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, Integral) or not 0 <= step < MAX_STEP:
        raise SweepkitError(f"log(step={step!r}): expected an integer from 0 to 2**63-1")
    return int(step)


def checked_row(data: Any) -> dict[str, Any]:
    """``data`` as a storable row: text keys, JSON values (NaN and infinities kept as floats)."""
    if not isinstance(data, Mapping):
        raise SweepkitError(f"log(): expected a dict of values, got {type(data).__name__}")
    row = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise SweepkitError(f"log(): key {key!r} is {type(key).__name__}; keys must be text")
        row[key] = _storable(value, key)
    return row


def _storable(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SweepkitError(f"log(): key {path}.{key!r} is {type(key).__name__}; keys must be text")
            out[key] = _storable(item, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_storable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    tolist = getattr(value, "tolist", None)  # numpy / torch scalars and arrays
    if callable(tolist):
        try:
            converted = tolist()
        except Exception:  # noqa: BLE001 - reported below as not storable
            converted = value
        if converted is not value:
            return _storable(converted, path)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return number if not math.isnan(number) else math.nan
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return [_storable(item, f"{path}[]") for item in sorted(value, key=repr)]
    raise SweepkitError(
        f"log(): {path!r} is a {type(value).__name__}, which cannot be stored; log numbers, text, "
        "booleans, lists or dicts of them"
    )


def jsonable(value: Any) -> Any:
    """``value`` as JSON data for ``run.config``, never failing: what cannot be stored becomes text.

    W&B keeps any config value (paths, enums, classes from argparse or absl flags); sweepkit keeps
    numbers, text, booleans, lists and dicts as they are and anything else as ``str(value)``.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(item) for item in items]
    tolist = getattr(value, "tolist", None)  # numpy / torch scalars and arrays
    if callable(tolist):
        try:
            converted = tolist()
        except Exception:  # noqa: BLE001 - kept as text below
            converted = value
        if converted is not value:
            return jsonable(converted)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    return str(value)
