"""A sweep's objectives, and how runs are judged and ranked by them: the one place that knows which
value is better, what a run's value is, and which runs are best.

An ``Objective`` is a metric to optimise: its ``name``, its ``goal`` ("minimize", the default, or
"maximize") and an optional ``target``. A sweep has a list of them (one for W&B's ``metric:``);
the service judges each run by each objective (``value_of``: the best of the values it logged and
the summary value it set, W&B's ``metric_extremum``) and ranks runs with :func:`rank`: by the value
for one objective, by Pareto front for several. Clients read the service's judgement (a run's
``objective_values``, the service's best runs) and never decide it themselves.

Pure: no I/O, no third-party package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sweepkit.runs.goals import DEFAULT_GOAL as DEFAULT_GOAL
from sweepkit.runs.goals import GOALS as GOALS
from sweepkit.runs.goals import sign

T = TypeVar("T")


class Aggregates(Protocol):
    """A run's aggregates of one metric (``sweepkit.runs.MetricStats``), as objectives read them."""

    def best(self, goal: str) -> float | None: ...

    def describe_best(self, goal: str) -> str: ...


def better(a: float, b: float, goal: str) -> bool:
    """Whether ``a`` is strictly better than ``b`` under ``goal``."""
    return a < b if sign(goal) > 0 else a > b


def goal_reached(value: float, goal: str, target: float) -> bool:
    """``metric.target``: reached when the value is at or beyond the target in the goal's direction."""
    return value <= target if sign(goal) > 0 else value >= target


@dataclass(frozen=True)
class Objective:
    """One metric a sweep optimises (see the module docstring)."""

    name: str
    goal: str = DEFAULT_GOAL
    target: float | None = None

    @property
    def sign(self) -> int:
        """+1 when minimizing, -1 when maximizing."""
        return sign(self.goal)

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than value ``b``."""
        return better(a, b, self.goal)

    def key(self, value: float) -> float:
        """``value`` on a scale where lower is better (for sorting and charts)."""
        return self.sign * value

    def reached(self, value: float) -> bool:
        """Whether ``value`` meets the target (False without one)."""
        return self.target is not None and goal_reached(value, self.goal, self.target)

    def value_of(self, stats: Aggregates) -> float | None:
        """A run's value for this objective, from its aggregates of this metric (None: no value)."""
        return stats.best(self.goal)

    def describe(self, stats: Aggregates) -> str:
        """Where ``value_of(stats)`` comes from, in words (for ``sweepkit best``)."""
        return stats.describe_best(self.goal)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "goal": self.goal, "target": self.target}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Objective:
        return cls(str(data["name"]), str(data.get("goal") or DEFAULT_GOAL), data.get("target"))


def values_of(objectives: Sequence[Objective], stats: Any) -> list[float | None]:
    """A run's value for each objective, from its aggregates (``sweepkit.runs.MetricStats``): the
    first objective's are ``stats`` itself, each other's ``stats.of(name)``."""
    return [o.value_of(stats if i == 0 else stats.of(o.name)) for i, o in enumerate(objectives)]


def targets_reached(objectives: Sequence[Objective], values: Sequence[float | None]) -> bool:
    """Whether a run's ``values`` meet every target its sweep's objectives set (False without one):
    with several metrics, one run must meet them all."""
    aimed = [(o, v) for o, v in zip(objectives, values, strict=True) if o.target is not None]
    return bool(aimed) and all(v is not None and o.reached(v) for o, v in aimed)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether keys ``a`` Pareto-dominate keys ``b`` (lower is better in each; better in one at least)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def rank(
    items: Sequence[T],
    objectives: Sequence[Objective],
    values: Callable[[T], Sequence[float | None]],
) -> list[tuple[T, int]]:
    """``items`` that have a value for every objective, best first, each with its rank.

    ``values(item)`` gives the item's value for each objective, in ``objectives``' order. With one
    objective the rank is the item's place (1 = best; equal values share a rank, and keep their
    order in ``items``); with several it is the Pareto front the item lies on (1 = not dominated by
    any other), fronts in order and items within a front by the first objective.
    """
    keyed: list[tuple[tuple[float, ...], int, T]] = []
    for position, item in enumerate(items):
        found = values(item)
        if len(found) != len(objectives) or any(v is None for v in found):
            continue
        keys = tuple(o.key(v) for o, v in zip(objectives, found, strict=True))  # type: ignore[arg-type]
        keyed.append((keys, position, item))
    if len(objectives) <= 1:
        keyed.sort(key=lambda k: (k[0], k[1]))
        out: list[tuple[T, int]] = []
        previous: tuple[float, ...] | None = None
        place = 0
        for index, (keys, _position, item) in enumerate(keyed, start=1):
            if keys != previous:
                place, previous = index, keys
            out.append((item, place))
        return out
    return [(item, front) for front, members in enumerate(pareto_fronts(keyed), start=1) for item in members]


def pareto_fronts(keyed: list[tuple[tuple[float, ...], int, T]]) -> list[list[T]]:
    """Non-dominated sorting of ``(keys, position, item)``: the successive Pareto fronts, each sorted by
    its keys (then position)."""
    remaining = sorted(keyed, key=lambda k: (k[0], k[1]))
    fronts: list[list[T]] = []
    while remaining:
        front: list[tuple[tuple[float, ...], int, T]] = []
        rest: list[tuple[tuple[float, ...], int, T]] = []
        for entry in remaining:
            # Sorted by keys, so nothing after an entry can dominate it: compare with the front only.
            if any(dominates(kept[0], entry[0]) for kept in front):
                rest.append(entry)
            else:
                front.append(entry)
        fronts.append([item for _keys, _position, item in front])
        remaining = rest
    return fronts
