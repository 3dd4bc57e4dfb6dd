"""The grid method: the Cartesian product of the grid values, each point handed out once.

Points are ordered as in W&B's engine: parameters in sorted flat-name order, the last one varying
fastest; constants go into every point. A point already used by a run in any state is skipped,
comparing values by content (``3.0 == 3``, dict key order ignored, ``True`` is not ``1``; see
:func:`sweepkit.space.canonical_key`). Only the varying parameters identify a point, as in W&B,
so a changed constant does not make old points new. Values repeated inside one parameter's list
count once. For a parameter with dict values, a run's dict counts only with the keys the grid's
dicts have (their union), as in W&B: a key the program added to its config at run time does not
make the point new. The product is walked lazily (a grid of 19 parameters is never built), and a call
costs at most one step per used point.

With conditional parameters (``when``) the grid holds only valid combinations: the parameters are
walked parents first, and a parameter whose condition does not hold is left out of the point
instead of being varied, so the grid's size is the sum over the branches, not the product, and
each valid point comes once. A point is then identified by the values of its active varying
parameters (and which parameters are absent); a run counts by the parameters its own values make
active.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any

from sweepkit.runs import RunState, RunView
from sweepkit.search.base import Finished, Suggestion
from sweepkit.search.sweep_runs import Digest, SweepRuns
from sweepkit.space import Param, SearchSpace, canonical_key


def _distinct(param: Param) -> tuple[list[Any], list[Hashable]]:
    """The parameter's grid values without content duplicates (first one kept), and their keys."""
    values, keys, seen = [], [], set()
    for value in param.grid_values():
        key = canonical_key(value)
        if key not in seen:
            seen.add(key)
            values.append(value)
            keys.append(key)
    return values, keys


def _known_keys(values: list[Any]) -> frozenset[Any] | None:
    """The union of the keys of a parameter's dict grid values (None when no value is a dict)."""
    keys = {k for value in values if isinstance(value, dict) for k in value}
    return frozenset(keys) if keys else None


def _run_key(value: Any, known: frozenset[Any] | None) -> Hashable:
    """A run's value as a grid key: a dict keeps only the keys the grid's dicts have."""
    if known is not None and isinstance(value, dict):
        value = {k: v for k, v in value.items() if k in known}
    return canonical_key(value)


#: A varying parameter left out of a conditional point.
_ABSENT = ("absent",)


def _is_parent(param: Param, later: Sequence[Param]) -> bool:
    return any(c.parent == param.name for p in later for c in p.conditions)


def _count(order: Sequence[Param], values: dict[str, list[Any]], i: int, point: dict[str, Any]) -> int:
    """How many valid points extend ``point`` with ``order[i:]`` (a branch is summed only where a
    later parameter's condition looks at the value)."""
    if i == len(order):
        return 1
    param, rest = order[i], order[i + 1 :]
    if not SearchSpace.is_active(param, point):
        return _count(order, values, i + 1, point)
    if not any(p.conditions for p in rest):
        return math.prod(len(values[p.name]) for p in order[i:])
    if not _is_parent(param, rest):
        return len(values[param.name]) * _count(order, values, i + 1, point)
    total = 0
    for value in values[param.name]:
        point[param.name] = value
        total += _count(order, values, i + 1, point)
    point.pop(param.name, None)
    return total


def _walk(order: Sequence[Param], values: dict[str, list[Any]], i: int, point: dict[str, Any]):
    """Every valid point extending ``point`` with ``order[i:]``, the last parameter varying fastest."""
    if i == len(order):
        yield dict(point)
        return
    param = order[i]
    if not SearchSpace.is_active(param, point):
        yield from _walk(order, values, i + 1, point)
        return
    for value in values[param.name]:
        point[param.name] = value
        yield from _walk(order, values, i + 1, point)
    point.pop(param.name, None)


def grid_size(space: SearchSpace) -> int:
    """How many distinct points the grid of ``space`` has (GridNotSupported for a non-grid kind)."""
    return _Grid(space).size


class _Grid:
    """The grid of a space: its varying parameters, their distinct values and keys, its size."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.varying = [p for p in space.params if not p.is_constant]
        self.grids = [_distinct(p) for p in self.varying]
        self._names = [p.name for p in self.varying]
        self._known = [_known_keys(values) for values, _ in self.grids]
        self._key_sets = [set(keys) for _, keys in self.grids]
        self.conditional = space.conditional
        if self.conditional:  # every parameter's values, constants too (they may be conditional)
            self._values = {p.name: _distinct(p)[0] for p in space.params}
            self.size = _count(space.order, self._values, 0, {})
        else:
            self.size = math.prod(len(values) for values, _ in self.grids)

    def point(self, run: RunView) -> tuple[Hashable, ...] | None:
        """The grid point a run used (None when it lacks a varying parameter it has active)."""
        params = run.params
        if self.conditional:
            return self._conditional_key(params)
        if not all(name in params for name in self._names):
            return None
        return tuple(_run_key(params[name], k) for name, k in zip(self._names, self._known, strict=True))

    def _conditional_key(self, params: Any) -> tuple[Hashable, ...] | None:
        active = self.space.active(params)
        key: list[Hashable] = []
        for name, known in zip(self._names, self._known, strict=True):
            if name not in active:
                key.append(_ABSENT)
            elif name not in params:
                return None
            else:
                key.append(_run_key(params[name], known))
        return tuple(key)

    def in_grid(self, point: tuple[Hashable, ...]) -> bool:
        """Whether a run's point is one of the grid's (a run may have values the grid does not)."""
        return all(
            k in keys or (self.conditional and k == _ABSENT)
            for k, keys in zip(point, self._key_sets, strict=True)
        )

    def params_at(self, index: int) -> dict[str, Any]:
        """The parameters (flat, constants included) of the grid's point ``index``."""
        if self.conditional:
            point = next(itertools.islice(_walk(self.space.order, self._values, 0, {}), index, None))
            return {name: point[name] for name in self.space.names if name in point}
        choice = self.choice(index)
        params = {p.name: p.grid_values()[0] for p in self.space.params if p.is_constant}
        params.update(
            {p.name: self.grids[j][0][i] for j, (p, i) in enumerate(zip(self.varying, choice, strict=True))}
        )
        return {name: params[name] for name in self.space.names}

    def choice(self, index: int) -> tuple[int, ...]:
        """The value indexes of the grid's point ``index`` (the last parameter varying fastest)."""
        out = []
        for values, _ in reversed(self.grids):
            index, i = divmod(index, len(values))
            out.append(i)
        return tuple(reversed(out))

    def key(self, choice: tuple[int, ...]) -> tuple[Hashable, ...]:
        return tuple(self.grids[j][1][i] for j, i in enumerate(choice))

    def first_unused(self, start: int, used: Callable[[tuple[Hashable, ...]], bool]) -> int | None:
        """The first point from ``start`` on that is not ``used``; None when there is none."""
        if start >= self.size:
            return None
        if self.conditional:
            walk = itertools.islice(_walk(self.space.order, self._values, 0, {}), start, None)
            for index, point in enumerate(walk, start):
                if not used(self._conditional_key(point)):
                    return index
            return None
        ranges = [range(len(values)) for values, _ in self.grids]
        walk = itertools.islice(itertools.product(*ranges), start, None)  # skipped in C: fast
        for index, choice in enumerate(walk, start):
            if not used(self.key(choice)):
                return index
        return None


class UsedPoints(Digest):
    """Grid's digest of the runs that ended for good: how many used each point, how many distinct
    grid points they used, and a point before which every grid point is used by them."""

    def __init__(self, space: SearchSpace) -> None:
        self.grid = _Grid(space)
        self.counts: dict[tuple[Hashable, ...], int] = {}
        self.in_grid = 0
        self._start = 0
        self._points: dict[str, tuple[Hashable, ...]] = {}

    def update(self, added: list[RunView], removed: list[str]) -> None:
        for run_id in [*removed, *(view.id for view in added)]:
            point = self._points.pop(run_id, None)
            if point is not None:
                self.counts[point] -= 1
                if not self.counts[point]:
                    del self.counts[point]
                    self.in_grid -= self.grid.in_grid(point)
                    self._start = 0
        for view in added:
            point = self.grid.point(view)
            if point is not None:
                self._points[view.id] = point
                if point not in self.counts:
                    self.in_grid += self.grid.in_grid(point)
                self.counts[point] = self.counts.get(point, 0) + 1

    def start(self) -> int:
        """A grid index before which every point is used by these runs (so a walk starts there)."""
        found = self.grid.first_unused(self._start, self.counts.__contains__)
        self._start = self.grid.size if found is None else found
        return self._start


#: The key of grid's digest in a ``SweepRuns``.
DIGEST = "grid"


def digests(config: Any, space: SearchSpace) -> dict[str, Digest]:
    """What grid keeps of the runs that ended for good (``sweepkit.search.sweep_runs``)."""
    return {DIGEST: UsedPoints(space)}


def suggest_grid(
    space: SearchSpace,
    runs: Sequence[RunView] | SweepRuns,
    *,
    reuse_states: Collection[RunState] = (),
) -> Suggestion | Finished:
    """The first grid point no run has used, or Finished when every point is used.

    ``reuse_states``: runs in these states do not use up their point (pass
    ``UNSUCCESSFUL_STATES`` to hand failed points out again); by default every run counts.
    Raises GridNotSupported, naming the parameter, for a kind the grid cannot take.
    """
    if isinstance(runs, SweepRuns) and not reuse_states:
        kept = runs.digests[DIGEST]
        grid, start = kept.grid, kept.start()
        live = {p for p in map(grid.point, runs.live) if p is not None and p not in kept.counts}
        used_in_grid = kept.in_grid + sum(1 for point in live if grid.in_grid(point))

        def used(point):
            return point in kept.counts or point in live
    else:
        grid, start = _Grid(space), 0
        points = {grid.point(run) for run in runs if run.state not in reuse_states} - {None}
        used_in_grid = sum(1 for point in points if grid.in_grid(point))
        used = points.__contains__
    size = grid.size
    # Fast path: every grid point used -> finished.
    index = grid.first_unused(start, used) if used_in_grid < size else None
    if index is None:
        return Finished(f"grid exhausted: all {size} points have been used")
    return Suggestion(params=grid.params_at(index), info={"grid_index": index, "grid_size": size})


def points_used(space: SearchSpace, runs: Sequence[RunView]) -> int:
    """How many of the grid's points the runs have used (GridNotSupported for a non-grid kind): what a
    changed grid will not run again."""
    grid = _Grid(space)
    points = {grid.point(run) for run in runs} - {None}
    return sum(1 for point in points if grid.in_grid(point))


def next_run(
    config: Any, space: SearchSpace, runs: Sequence[RunView], rng: random.Random
) -> Suggestion | Finished:
    """The search-method signature: the first unused grid point (``rng`` is not needed)."""
    return suggest_grid(space, runs)
