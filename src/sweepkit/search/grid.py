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
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Collection, Hashable, Sequence
from typing import Any

from sweepkit.runs import RunState, RunView
from sweepkit.search.base import Finished, Suggestion
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


def grid_size(space: SearchSpace) -> int:
    """How many distinct points the grid of ``space`` has (GridNotSupported for a non-grid kind)."""
    return math.prod(len(_distinct(p)[0]) for p in space.params if not p.is_constant)


def suggest_grid(
    space: SearchSpace,
    runs: Sequence[RunView],
    *,
    reuse_states: Collection[RunState] = (),
) -> Suggestion | Finished:
    """The first grid point no run has used, or Finished when every point is used.

    ``reuse_states``: runs in these states do not use up their point (pass
    ``UNSUCCESSFUL_STATES`` to hand failed points out again); by default every run counts.
    Raises GridNotSupported, naming the parameter, for a kind the grid cannot take.
    """
    varying = [p for p in space.params if not p.is_constant]
    constants = {p.name: p.grid_values()[0] for p in space.params if p.is_constant}
    grids = [_distinct(p) for p in varying]
    size = math.prod(len(values) for values, _ in grids)

    names = [p.name for p in varying]
    known = [_known_keys(values) for values, _ in grids]
    used: set[tuple[Hashable, ...]] = set()
    for run in runs:
        if run.state in reuse_states or not all(name in run.params for name in names):
            continue
        used.add(tuple(_run_key(run.params[name], k) for name, k in zip(names, known, strict=True)))

    # Fast path: count the used points that are grid points; all of them used -> finished.
    key_sets = [set(keys) for _, keys in grids]
    used_in_grid = sum(1 for point in used if all(k in ks for k, ks in zip(point, key_sets, strict=True)))
    if used_in_grid < size:
        ranges = [range(len(values)) for values, _ in grids]
        for index, choice in enumerate(itertools.product(*ranges)):
            key = tuple(grids[j][1][i] for j, i in enumerate(choice))
            if key in used:
                continue
            params = dict(constants)
            params.update(
                {name: grids[j][0][i] for j, (name, i) in enumerate(zip(names, choice, strict=True))}
            )
            ordered = {name: params[name] for name in space.names}
            return Suggestion(params=ordered, info={"grid_index": index, "grid_size": size})
    return Finished(f"grid exhausted: all {size} points have been used")


def next_run(
    config: Any, space: SearchSpace, runs: Sequence[RunView], rng: random.Random
) -> Suggestion | Finished:
    """The search-method signature: the first unused grid point (``rng`` is not needed)."""
    return suggest_grid(space, runs)
