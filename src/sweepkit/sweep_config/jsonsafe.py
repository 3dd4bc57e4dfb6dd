"""Making sure a loaded config is plain JSON data (finite numbers, string keys, no cycles) and
comparing values by content (``3.0 == 3``, dict order ignored, ``True`` is not ``1``)."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import Any

from sweepkit.sweep_config.problems import Collector, KeyPath, found

MAX_ITEMS = 1_000_000  # values after expanding YAML aliases; a "billion laughs" file stops here
MAX_DEPTH = 100


class _Unusable(Exception):
    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _measure(data: Any) -> None:
    """Raise :class:`_Unusable` for data that is cyclic, too deep, or too big once aliases expand."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    total = 0

    def size(obj: Any, path: KeyPath) -> int:
        nonlocal total
        if len(path) > MAX_DEPTH:
            raise _Unusable(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(obj, Mapping):
            children = list(obj.values())
            keys = list(obj.keys())
        elif isinstance(obj, (list, tuple)):
            children = list(obj)
            keys = list(range(len(obj)))
        else:
            return 1
        ident = id(obj)
        if ident in on_path:
            raise _Unusable(path, "refers to itself (a recursive alias or a cyclic structure)")
        if ident in sizes:
            count = sizes[ident]
        else:
            on_path.add(ident)
            count = 1 + sum(size(child, path + (key,)) for key, child in zip(keys, children, strict=True))
            on_path.discard(ident)
            sizes[ident] = count
        total += count
        if total > MAX_ITEMS:
            raise _Unusable(path, f"too large: more than {MAX_ITEMS} values once YAML aliases are expanded")
        return count

    size(data, ())


def json_safe_copy(data: Any, report: Collector) -> tuple[Any, bool]:
    """A plain-JSON copy of ``data`` and whether it was usable at all.

    Tuples become lists and dates ISO strings; each value JSON cannot hold (NaN, infinity,
    bytes, sets, non-string keys, other objects) is an error, replaced by None, and later
    errors under its path are muted.
    """
    try:
        _measure(data)
    except _Unusable as bad:
        report.error(bad.path, bad.message)
        return None, False

    def copy(obj: Any, path: KeyPath) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return bad(path, f"{found(obj)} is not a finite number (JSON cannot hold it)")
        if isinstance(obj, Mapping):
            out = {}
            for key, value in obj.items():
                if not isinstance(key, str):
                    bad(path + (key,), f"key {found(key)} is not a string; quote it")
                out[key] = copy(value, path + (key,))
            return out
        if isinstance(obj, (list, tuple)):
            return [copy(item, path + (index,)) for index, item in enumerate(obj)]
        if isinstance(obj, (datetime.date, datetime.time)):
            return obj.isoformat()
        return bad(
            path,
            f"{found(obj)} is not a JSON value (use strings, numbers, true/false, null, lists, mappings)",
        )

    def bad(path: KeyPath, message: str) -> None:
        report.error(path, message)
        report.mute(path)
        return None

    return copy(data, ()), True


def canonical_key(value: Any) -> Any:
    """A hashable key equal for values equal by content: ``3.0`` and ``3`` match, dict key order
    does not matter, ``True`` and ``1`` differ."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int):
        return ("n", value)
    if isinstance(value, float):
        return ("n", int(value)) if value.is_integer() else ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, (list, tuple)):
        return ("l", tuple(canonical_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("d", tuple(sorted(((str(k), canonical_key(v)) for k, v in value.items()), key=repr)))
    return ("o", repr(value))
