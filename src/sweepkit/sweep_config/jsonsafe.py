"""Making sure a loaded config is plain JSON data (finite numbers, string keys, no cycles) and
comparing values by content (``3.0 == 3``, dict order ignored, ``True`` is not ``1``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sweepkit.sweep_config.problems import Collector, KeyPath, found
from sweepkit.values import BAD_KEY, BAD_NUMBER, json_safe

MAX_DEPTH = 100  # a value whose key path is longer than this is refused
# values that aliases (shared parts) or merge keys may add to a config beyond those written out:
# an alias bomb ("billion laughs") stops here, a long list written out never does
MAX_GROWTH = 1_000_000


class _Unusable(Exception):
    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _is_container(obj: Any) -> bool:
    return isinstance(obj, (Mapping, list, tuple))


def _children(obj: Any) -> Any:
    return obj.items() if isinstance(obj, Mapping) else enumerate(obj)


def _measure(data: Any) -> None:
    """Raise :class:`_Unusable` for data that is cyclic, too deep, or grows by more than
    :data:`MAX_GROWTH` values once its shared parts (YAML aliases) are expanded.

    Each container is walked once; meeting it again adds its expanded size to the growth.
    """
    sizes: dict[int, int] = {}  # id of a container walked -> its size, shared parts expanded
    on_path: set[int] = set()
    growth = 0

    def size(obj: Any, path: KeyPath) -> int:
        nonlocal growth
        ident = id(obj)
        if ident in on_path:
            raise _Unusable(path, "refers to itself (a recursive alias or a cyclic structure)")
        if ident in sizes:
            growth += sizes[ident]
            if growth > MAX_GROWTH:
                raise _Unusable(
                    path, f"too large: expanding its YAML aliases adds more than {MAX_GROWTH} values"
                )
            return sizes[ident]
        on_path.add(ident)
        count = 1
        full = len(path) >= MAX_DEPTH
        for key, child in _children(obj):
            if full:
                raise _Unusable(path + (key,), f"nested more than {MAX_DEPTH} levels deep")
            count += size(child, path + (key,)) if _is_container(child) else 1
        on_path.discard(ident)
        sizes[ident] = count
        return count

    if _is_container(data):
        size(data, ())


def json_safe_copy(data: Any, report: Collector) -> tuple[Any, bool]:
    """A plain-JSON copy of ``data`` and whether it was usable at all.

    Tuples become lists and dates ISO strings; each value JSON cannot hold (NaN, infinity,
    bytes, sets, non-string keys, other objects) is an error, replaced by None, and later
    errors under its path are muted. Shared parts are copied once per place they appear.
    """
    try:
        _measure(data)
    except _Unusable as bad:
        report.error(bad.path, bad.message)
        return None, False

    def bad(path: KeyPath, problem: str, value: Any) -> Any:
        if problem == BAD_KEY:
            message = f"key {found(value)} is not a string; quote it"
        elif problem == BAD_NUMBER:
            message = f"{found(value)} is not a finite number (JSON cannot hold it)"
        else:
            message = f"{found(value)} is not a JSON value (use strings, numbers, true/false, null, lists, mappings)"
        report.error(path, message)
        report.mute(path)
        return value if problem == BAD_KEY else None  # a key is kept: what is under it is still read

    return json_safe(data, nonfinite="bad", convert=False, on_bad=bad), True


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
