"""Conditional parameters: when a parameter exists, and which parameters of a point are active.

A parameter with ``when: {parent: value | [values] | {min, max}}`` (sweepkit's extension, see
docs/config.md) exists only when every key of its condition holds; a ``when`` on a nested group
applies to each parameter inside it. A parameter whose parent is inactive is inactive too, so
conditions form trees (or any acyclic graph) of any depth. :class:`Clause` is one key of a
condition; :func:`clauses_of` reads them from a normalized ``when`` mapping; :func:`parents_first`
orders parameters so that each comes after every parameter its condition names.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sweepkit.space.errors import SpaceError
from sweepkit.space.values import canonical_key

#: The keys of a range condition.
RANGE_KEYS = frozenset({"min", "max"})


def is_range(value: Any) -> bool:
    """True for a range condition ``{min: a, max: b}`` (either key may be left out)."""
    return isinstance(value, Mapping) and bool(value) and set(value) <= RANGE_KEYS


@dataclass(frozen=True)
class Clause:
    """One key of a condition: the parent (flat name) holds one of ``values``, or lies in ``[low, high]``."""

    parent: str
    values: tuple[Any, ...] | None = None
    low: float = -math.inf
    high: float = math.inf
    #: The content keys of ``values`` (``3.0`` matches ``3``; ``True`` does not match ``1``).
    keys: frozenset[Hashable] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(canonical_key(v) for v in self.values or ()))

    def holds(self, value: Any) -> bool:
        """Whether the parent's value satisfies this clause."""
        if self.values is not None:
            return canonical_key(value) in self.keys
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high


def clauses_of(when: Mapping[str, Any], where: str) -> tuple[Clause, ...]:
    """The clauses of a ``when`` mapping (one value, a list of values, or a ``{min, max}`` range each)."""
    if not isinstance(when, Mapping) or not when:
        raise SpaceError(f"{where}.when: expected a mapping of parameter names to values, got {when!r}")
    out = []
    for parent, value in when.items():
        if is_range(value):
            out.append(
                Clause(
                    str(parent), None, float(value.get("min", -math.inf)), float(value.get("max", math.inf))
                )
            )
        else:
            values = tuple(value) if isinstance(value, list) else (value,)
            out.append(Clause(str(parent), values))
    return tuple(out)


def active_names(order: Iterable[Any], point: Mapping[str, Any]) -> set[str]:
    """The flat names active at ``point`` (a flat dict), visiting parameters parents first.

    A parameter is active when each clause's parent is active, present in ``point`` and satisfies
    the clause; ``order`` is :func:`parents_first` of the space's parameters.
    """
    active: set[str] = set()
    for param in order:
        if all(
            c.parent in active and c.parent in point and c.holds(point[c.parent]) for c in param.conditions
        ):
            active.add(param.name)
    return active


def parents_first(params: Iterable[Any]) -> list[Any]:
    """The parameters ordered so that each follows every parameter its condition names (name
    order otherwise); a cycle or an unknown parent is a SpaceError naming it."""
    pending = sorted(params, key=lambda p: p.name)
    known = {p.name for p in pending}
    for p in pending:
        for clause in p.conditions:
            if clause.parent not in known:
                raise SpaceError(f"{p.config_path}.when: no parameter named {clause.parent!r}")
    placed: set[str] = set()
    out: list[Any] = []
    while pending:
        ready = [p for p in pending if all(c.parent in placed for c in p.conditions)]
        if not ready:
            names = ", ".join(p.name for p in pending)
            raise SpaceError(f"parameters: the conditions of {names} form a cycle")
        for p in ready:
            placed.add(p.name)
            out.append(p)
        pending = [p for p in pending if p.name not in placed]
    return out
