"""Checking conditional parameters (``when:``, sweepkit's extension): one clear line per problem.

A ``when`` maps parameter names (flat, dotted into nested groups) to a value, a list of values or
a range ``{min, max}``; it may sit on a parameter or on a nested group (then it holds for every
parameter inside). :class:`ConditionChecker` is told each ``when`` as the parameter walk meets it
and each leaf's normalized spec, then checks them all at the end: an unknown parent, a parent
that names a nested group, a value the parent cannot take, a parameter that depends on itself
(directly or through a cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sweepkit.space.conditions import RANGE_KEYS, is_range
from sweepkit.sweep_config.jsonsafe import canonical_key
from sweepkit.sweep_config.problems import Collector, KeyPath, did_you_mean, found

#: Kinds whose values can be listed: a condition names some of them.
_LISTED = ("constant", "categorical", "categorical_w_probabilities")
#: Numeric kinds that take only some values (a point condition on them can hold).
_DISCRETE = ("int_uniform",)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class _When:
    at: KeyPath  # the key path of the ``when`` mapping
    owner: str  # the flat name of the parameter, or the prefix of the group
    group: bool
    mapping: Any


@dataclass
class ConditionChecker:
    """Collects the ``when`` mappings and leaves of one parameter tree, then checks them."""

    report: Collector
    whens: list[_When] = field(default_factory=list)
    leaves: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)

    def add_when(self, at: KeyPath, owner: str, mapping: Any, *, group: bool) -> None:
        self.whens.append(_When(at, owner, group, mapping))

    def add_leaf(self, flat: str, spec: dict[str, Any]) -> None:
        self.leaves[flat] = spec

    def add_group(self, prefix: str) -> None:
        self.groups.add(prefix)

    def check(self) -> None:
        """Report every problem of the collected conditions."""
        needs: dict[str, set[str]] = {name: set() for name in self.leaves}
        for when in self.whens:
            parents = self._check_when(when)
            for name in self.leaves:
                if name == when.owner or (when.group and name.startswith(when.owner + ".")):
                    needs[name] |= parents
        self._check_cycles(needs)

    def _check_when(self, when: _When) -> set[str]:
        """The known parents of one ``when``, reporting what is wrong with it."""
        report = self.report
        if not isinstance(when.mapping, dict) or not when.mapping:
            if not when.group and not isinstance(when.mapping, dict):
                return set()  # the schema says it already: expected an object
            report.error(
                when.at,
                f"expected a mapping of parameter names to values, such as {{optimizer: sgd}}, got {found(when.mapping)}",
            )
            return set()
        parents = set()
        for parent, value in when.mapping.items():
            at = (*when.at, parent)
            if parent not in self.leaves:
                if parent in self.groups:
                    inner = sorted(n for n in self.leaves if n.startswith(parent + "."))
                    report.error(
                        at,
                        f"{parent!r} is a nested group, not a parameter: name one of its parameters"
                        + (f" such as {inner[0]!r}" if inner else ""),
                    )
                else:
                    report.error(
                        at,
                        f"no parameter named {parent!r} in this sweep"
                        + (did_you_mean(parent, self.leaves) or " (name it by its flat dotted name)"),
                    )
                continue
            parents.add(parent)
            self._check_value(at, parent, value)
        return parents

    def _check_value(self, at: KeyPath, parent: str, value: Any) -> None:
        report = self.report
        spec = self.leaves[parent]
        kind = spec.get("distribution")
        if is_range(value):
            low, high = value.get("min", -math.inf), value.get("max", math.inf)
            if not (_is_number(low) and _is_number(high)):
                report.error(at, f"a range condition takes numbers for min and max, got {found(value)}")
            elif low > high:
                report.error(at, f"min must not be more than max, got min {found(low)} and max {found(high)}")
            elif kind in _LISTED:
                report.error(
                    at,
                    f"{parent} is {kind}: list the values the condition takes instead of a range",
                )
            else:
                bounds = _bounds(spec)
                if bounds is not None and (high < bounds[0] or low > bounds[1]):
                    report.error(
                        at,
                        f"the range {found(low)}..{found(high)} is outside {parent}'s "
                        f"{found(bounds[0])}..{found(bounds[1])}: the condition never holds",
                    )
            return
        if isinstance(value, dict) and set(value) & RANGE_KEYS:
            report.error(at, f"a range condition takes only min and max, got {found(value)}")
            return
        values = value if isinstance(value, list) else [value]
        if not values:
            report.error(at, "expected a value or a list of values, got an empty list")
            return
        for index, one in enumerate(values):
            where = (*at, index) if isinstance(value, list) else at
            message = self._cannot_take(parent, spec, kind, one)
            if message:
                report.error(where, message)

    def _cannot_take(self, parent: str, spec: dict[str, Any], kind: Any, value: Any) -> str | None:
        if kind in _LISTED:
            choices = spec["values"] if "values" in spec else [spec.get("value")]
            if canonical_key(value) not in {canonical_key(v) for v in choices}:
                shown = ", ".join(found(v) for v in choices[:10]) + (", ..." if len(choices) > 10 else "")
                return f"{found(value)} is not a value {parent} can take (its values: {shown})"
            return None
        if not _is_number(value):
            return f"{found(value)} is not a value {parent} can take ({parent} is {kind}, a number)"
        bounds = _bounds(spec)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return f"{found(value)} is not a value {parent} can take (it lies in {found(bounds[0])}..{found(bounds[1])})"
        if kind in _DISCRETE:
            if float(value) != int(value):
                return f"{found(value)} is not a value {parent} can take ({parent} takes whole numbers)"
            return None
        if not str(kind).startswith("q_"):
            return (
                f"{parent} is {kind}, so it equals {found(value)} with probability 0: "
                f"write a range such as {{min: ..., max: ...}}"
            )
        return None

    def _check_cycles(self, needs: dict[str, set[str]]) -> None:
        """One error per parameter that depends on itself, at its ``when``, naming the cycle."""
        at_of = {}
        for when in self.whens:
            for name in self.leaves:
                if name == when.owner or (when.group and name.startswith(when.owner + ".")):
                    at_of.setdefault(name, when.at)
        reported: set[frozenset[str]] = set()
        for start in sorted(needs):
            path = _cycle_from(start, needs)
            if path is None:
                continue
            members = frozenset(path)
            if members in reported:
                continue
            reported.add(members)
            if len(path) == 1:
                self.report.error(at_of[start], f"{start} cannot exist only when it has a value itself")
            else:
                chain = " -> ".join([*path, path[0]])
                self.report.error(
                    at_of[start],
                    f"the conditions form a cycle ({chain}): no parameter of it could ever exist",
                )


def _cycle_from(start: str, needs: dict[str, set[str]]) -> list[str] | None:
    """A cycle through ``start`` (its members in order), or None."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for parent in sorted(needs.get(node, ())):
            if parent == start:
                return path
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None


def _bounds(spec: dict[str, Any]) -> tuple[float, float] | None:
    """The range of a parameter whose ``min`` and ``max`` are its values (None otherwise)."""
    kind = spec.get("distribution")
    if kind in ("int_uniform", "uniform", "q_uniform", "log_uniform_values", "q_log_uniform_values"):
        low, high = spec.get("min"), spec.get("max")
        if _is_number(low) and _is_number(high):
            return low, high
    return None
