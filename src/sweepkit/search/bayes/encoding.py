"""Between the search space and the model: parameter values <-> rows of numbers, and moves in that domain.

One column per parameter that varies (constants are dropped and put back on decoding; nested
groups are already flat parameters of the space):

- numeric kinds hold ``Param.to_unit(value)`` in [0, 1], the prior CDF, so a uniform draw of the
  column is a draw from the parameter's prior. Integer and quantised kinds with a manageable
  number of values also get a list of *levels* (the unit position of each value), so the domain
  can snap a column to a value and step to the neighbouring ones;
- categorical kinds hold the index of the category; the kernel compares indices only for
  equality. Draws follow ``probabilities`` for ``categorical_w_probabilities``.

Conditional parameters (``when``) that are inactive at a point hold a fixed imputed value instead
of a value of their own: :data:`INACTIVE_CATEGORY` (an index no category has, so the equality
kernel sees "absent" as one more category) and :data:`INACTIVE_UNIT` for numeric columns. Every
inactive point is then at distance zero from every other along that input, so the kernel ignores
the input wherever it does not exist; :meth:`Domain.project` puts the imputed values in after each
move, so the optimiser never searches along an input that does not exist, and two rows that differ
only in an inactive input are one point (docs/bayes.md explains the choice).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweepkit.search.bayes.sobol import sobol_points
from sweepkit.space.membership import value_fits

#: Discrete numeric parameters with at most this many values get levels (snapping, neighbours).
MAX_LEVELS = 1024
_LEVEL_GRID = 4096
_LEVEL_CACHE: dict[str, tuple[np.ndarray, list[Any]] | None] = {}
#: What an inactive conditional input holds: a categorical column, and a numeric one.
INACTIVE_CATEGORY = -1.0
INACTIVE_UNIT = 0.5


@dataclass
class Column:
    """One model input: a varying parameter of the space."""

    param: Any
    categorical: bool
    probabilities: np.ndarray | None = None  # categorical draws
    levels: np.ndarray | None = None  # sorted unit positions of a discrete numeric parameter
    level_values: list[Any] | None = None  # the value at each level

    @property
    def name(self) -> str:
        return self.param.name

    @property
    def size(self) -> int:
        """Number of categories or levels (0 for a continuous column)."""
        if self.categorical:
            return len(self.param.values)
        return 0 if self.levels is None else len(self.levels)


def is_discrete_numeric(param: Any) -> bool:
    return (
        bool(getattr(param, "is_integer", False))
        or str(param.kind).startswith("q_")
        or param.kind == "int_uniform"
    )


def _spec_key(param: Any) -> str:
    return json.dumps({"kind": param.kind, "spec": param.spec}, sort_keys=True, default=repr)


def _level_values(param: Any) -> dict[Any, Any] | None:
    """The distinct values ``from_unit`` gives at :data:`_LEVEL_GRID` points of the unit interval,
    in order of first appearance; None when there are more than :data:`MAX_LEVELS`."""
    if param.kind == "int_uniform":
        # Every integer's cell of the unit interval is at least 4 grid steps wide when there are at
        # most MAX_LEVELS of them, so the scan would find each one: a new process's first claim
        # saves its 4,096 calls (the same levels, checked in tests/test_bayes_model.py).
        low, high = (int(b) for b in param.bounds)
        return {v: v for v in range(low, high + 1)} if high - low + 1 <= MAX_LEVELS else None
    found: dict[Any, Any] = {}
    for i in range(_LEVEL_GRID):
        value = param.from_unit((i + 0.5) / _LEVEL_GRID)
        if isinstance(value, float) and not math.isfinite(value):
            continue
        found.setdefault(value, value)
        if len(found) > MAX_LEVELS:
            return None
    return found


def _levels(param: Any) -> tuple[np.ndarray, list[Any]] | None:
    """The values of a discrete numeric parameter and their unit positions, when there are few enough."""
    key = _spec_key(param)
    if key in _LEVEL_CACHE:
        return _LEVEL_CACHE[key]
    found = _level_values(param)
    result = None
    if found:
        pairs = sorted((float(param.to_unit(v)), v) for v in found.values())
        units = np.array([p[0] for p in pairs])
        keep = np.concatenate([[True], np.diff(units) > 1e-12])
        result = (units[keep], [p[1] for p, k in zip(pairs, keep, strict=True) if k])
    _LEVEL_CACHE[key] = result
    return result


class Domain:
    """The model's input domain for one search space."""

    def __init__(self, space: Any):
        self.space = space
        self.constants = {p.name: p.values[0] for p in space.params if p.is_constant}
        self.columns: list[Column] = []
        for p in space.params:
            if p.is_constant:
                continue
            if p.is_categorical:
                probs = getattr(p, "probabilities", None)
                n = len(p.values)
                pr = np.full(n, 1.0 / n) if not probs else np.asarray(probs, dtype=float)
                pr = np.clip(pr, 0.0, None)
                pr = pr / pr.sum() if pr.sum() > 0 else np.full(n, 1.0 / n)
                self.columns.append(Column(p, True, probabilities=pr))
            elif is_discrete_numeric(p):
                lv = _levels(p)
                col = Column(p, False)
                if lv is not None:
                    col.levels, col.level_values = lv
                self.columns.append(col)
            else:
                self.columns.append(Column(p, False))
        self.conditional = bool(getattr(space, "conditional", False))
        self._index = {c.name: i for i, c in enumerate(self.columns)}
        self._imputed = np.array(
            [INACTIVE_CATEGORY if c.categorical else INACTIVE_UNIT for c in self.columns], dtype=float
        )
        self.cat_mask = np.array([c.categorical for c in self.columns], dtype=bool)
        self.numeric_mask = ~self.cat_mask
        self._level_cols = [i for i, c in enumerate(self.columns) if c.levels is not None]

    @property
    def dim(self) -> int:
        return len(self.columns)

    def free_mask(self) -> np.ndarray:
        """Columns a gradient method may move (numeric ones; level columns are snapped afterwards)."""
        return self.numeric_mask

    def is_discrete(self) -> bool:
        return all(c.categorical or c.levels is not None for c in self.columns)

    # -- values <-> rows ---------------------------------------------------------------
    def encode(self, params: Any) -> np.ndarray | None:
        """The row of a run's parameters, or None when a value is missing or outside the space."""
        return self.encode_many([params])[0]

    def encode_many(self, points: list[Any]) -> list[np.ndarray | None]:
        """:meth:`encode` of many runs, mapping each distinct scalar value of a column once."""
        rows = np.empty((len(points), self.dim))
        ok = np.ones(len(points), dtype=bool)
        actives = (
            [self.space.active(p) if hasattr(p, "get") else set() for p in points]
            if self.conditional
            else None
        )
        for i, col in enumerate(self.columns):
            seen: dict[tuple, float] = {}
            for j, params in enumerate(points):
                if not ok[j]:
                    continue
                if actives is not None and col.param.conditions and col.name not in actives[j]:
                    rows[j, i] = self._imputed[i]
                    continue
                value = params.get(col.name, _MISSING) if hasattr(params, "get") else _MISSING
                if value is _MISSING:
                    ok[j] = False
                    continue
                key = (type(value), value) if isinstance(value, (str, int, float, bool, type(None))) else None
                if key is not None and key in seen:
                    rows[j, i] = seen[key]
                    continue
                cell = _encode_value(col, value)
                if cell is None:
                    ok[j] = False
                    continue
                rows[j, i] = cell
                if key is not None:
                    seen[key] = cell
        return [rows[j] if ok[j] else None for j in range(len(points))]

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        """The flat parameter dict of a row (constants included, inactive parameters left out)."""
        out = dict(self.constants)
        for i, col in enumerate(self.columns):
            if self.conditional and col.param.conditions and row[i] == self._imputed[i] and col.categorical:
                continue
            if col.categorical:
                out[col.name] = col.param.values[int(round(row[i]))]
            elif col.levels is not None:
                j = int(np.argmin(np.abs(col.levels - row[i])))
                out[col.name] = col.level_values[j]
            else:
                out[col.name] = col.param.from_unit(float(min(1.0, max(0.0, row[i]))))
        if self.conditional:
            out = self.space.prune(out)
        return dict(sorted(out.items()))

    def _value(self, col: Column, cells: np.ndarray) -> list[Any]:
        """The parameter values of one column's cells (active rows only are asked)."""
        if col.categorical:
            return [col.param.values[int(round(c))] for c in cells]
        if col.levels is not None:
            return [col.level_values[int(np.argmin(np.abs(col.levels - c)))] for c in cells]
        return [col.param.from_unit(float(min(1.0, max(0.0, c)))) for c in cells]

    def active_mask(self, x: np.ndarray) -> np.ndarray:
        """Which inputs of each row exist (a boolean matrix like ``x``; all true without conditions)."""
        active = np.ones(x.shape, dtype=bool)
        if not self.conditional or len(x) == 0:
            return active
        by_name: dict[str, np.ndarray] = {}
        for param in self.space.order:
            rows = np.ones(len(x), dtype=bool)
            for clause in param.conditions:
                parent = clause.parent
                rows &= by_name.get(parent, np.ones(len(x), dtype=bool))
                j = self._index.get(parent)
                if j is None:  # a constant parent: its one value
                    holds = parent in self.constants and clause.holds(self.constants[parent])
                    rows &= holds
                    continue
                col = self.columns[j]
                idx = np.flatnonzero(rows)
                if col.categorical:
                    allowed = [k for k, v in enumerate(col.param.values) if clause.holds(v)]
                    rows[idx] = np.isin(np.round(x[idx, j]).astype(int), allowed)
                else:
                    values = self._value(col, x[idx, j])
                    rows[idx] = [clause.holds(v) for v in values]
            by_name[param.name] = rows
            i = self._index.get(param.name)
            if i is not None:
                active[:, i] = rows
        return active

    def project(self, x: np.ndarray) -> np.ndarray:
        """Rows with each inactive input set to its imputed value (``x`` itself without conditions)."""
        if not self.conditional or len(x) == 0:
            return x
        x = np.array(x, dtype=float, copy=True)
        active = self.active_mask(x)
        return np.where(active, x, self._imputed[None, :])

    # -- moves -------------------------------------------------------------------------
    def snap(self, x: np.ndarray) -> np.ndarray:
        """Level columns to their nearest level, categorical columns to valid indices."""
        x = np.array(x, dtype=float, copy=True)
        for i in self._level_cols:
            lv = self.columns[i].levels
            pos = (
                np.clip(np.searchsorted(lv, x[:, i]), 1, len(lv) - 1)
                if len(lv) > 1
                else np.zeros(len(x), int)
            )
            if len(lv) > 1:
                left, right = lv[pos - 1], lv[pos]
                pos = np.where(np.abs(x[:, i] - left) <= np.abs(right - x[:, i]), pos - 1, pos)
            x[:, i] = lv[pos]
        for i, col in enumerate(self.columns):
            if col.categorical:
                x[:, i] = np.clip(np.round(x[:, i]), 0, col.size - 1)
        return self.project(x)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Map points of the unit cube to the domain: prior draws when ``u`` is uniform."""
        x = np.array(u, dtype=float, copy=True)
        for i, col in enumerate(self.columns):
            if col.categorical:
                cdf = np.cumsum(col.probabilities)
                x[:, i] = np.minimum(np.searchsorted(cdf, u[:, i], side="right"), col.size - 1)
        return self.snap(x)

    def to_uniform(self, x: np.ndarray) -> np.ndarray:
        """Rows as points of the unit cube: a category becomes the middle of its probability cell."""
        u = np.array(x, dtype=float, copy=True)
        for i, col in enumerate(self.columns):
            if col.categorical:
                cdf = np.cumsum(col.probabilities)
                absent = u[:, i] < 0  # an inactive input: the middle of the axis
                idx = np.where(absent, 0, u[:, i]).astype(int)
                u[:, i] = np.where(absent, INACTIVE_UNIT, cdf[idx] - 0.5 * col.probabilities[idx])
        return u

    def uniform(self, n: int, gen: np.random.Generator) -> np.ndarray:
        """``n`` scrambled Sobol points of the unit cube (``from_uniform`` turns them into prior draws):
        ``qmc.Sobol(dim, scramble=True, seed=gen).random_base2(m)[:n]`` bit for bit (``sobol``)."""
        return sobol_points(self.dim, n, gen)

    def sample(self, n: int, gen: np.random.Generator) -> np.ndarray:
        """``n`` quasi-random prior draws (scrambled Sobol)."""
        if self.dim == 0:
            return np.empty((n, 0))
        return self.from_uniform(self.uniform(n, gen))

    def perturb(self, x: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        """Local moves around ``x``: Gaussian steps of mixed sizes, occasional category changes."""
        x = np.array(x, dtype=float, copy=True)
        n = len(x)
        scale = gen.choice(np.array([0.01, 0.04, 0.12]), size=(n, 1))
        num = self.numeric_mask
        x[:, num] = np.clip(x[:, num] + gen.normal(size=(n, int(num.sum()))) * scale, 0.0, 1.0)
        n_cat = int(self.cat_mask.sum())
        if n_cat:
            p = 1.0 / max(2, n_cat + 1)
            for i, col in enumerate(self.columns):
                if col.categorical and col.size > 1:
                    flip = gen.random(n) < p
                    shift = gen.integers(1, col.size, size=n)
                    x[flip, i] = (x[flip, i] + shift[flip]) % col.size
        return self.snap(x)

    def neighbours(self, row: np.ndarray) -> np.ndarray:
        """Rows that differ from ``row`` in one discrete column: the next levels, or another category."""
        out = []
        for i, col in enumerate(self.columns):
            if col.categorical:
                for c in range(col.size):
                    if c != int(row[i]):
                        r = row.copy()
                        r[i] = c
                        out.append(r)
            elif col.levels is not None and len(col.levels) > 1:
                j = int(np.argmin(np.abs(col.levels - row[i])))
                for k in (j - 1, j + 1):
                    if 0 <= k < len(col.levels):
                        r = row.copy()
                        r[i] = col.levels[k]
                        out.append(r)
        if not out:
            return np.empty((0, self.dim))
        if not self.conditional:
            return np.array(out)
        # a move along an inactive input is no move; a new branch's inputs start at valid values
        moved = self.snap(np.array(out))
        keep = [r for r in _distinct_rows(moved) if row_key(r) != row_key(row)]
        return np.array(keep) if keep else np.empty((0, self.dim))

    def enumerate(self, limit: int) -> np.ndarray | None:
        """Every point of a fully discrete domain, when there are at most ``limit``; else None."""
        if self.dim == 0 or not self.is_discrete():
            return None
        total = 1
        for col in self.columns:
            total *= col.size
            if total > limit:
                return None
        axes = [
            np.arange(col.size, dtype=float) if col.categorical else np.asarray(col.levels)
            for col in self.columns
        ]
        grid = np.meshgrid(*axes, indexing="ij")
        points = np.stack([g.ravel() for g in grid], axis=1)
        if self.conditional:  # the valid points, each once (in a stable order)
            points = np.array(_distinct_rows(self.project(points)))
        return points


_MISSING = object()


def _encode_value(col: Column, value: Any) -> float | None:
    """One value's model coordinate: the category index, or the unit position (None if invalid)."""
    try:
        if col.categorical:
            return float(col.param.index_of(value))
        if not value_fits(col.param, value):  # outside the space (a range narrowed since the run)
            return None
        u = float(col.param.to_unit(value))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    if not math.isfinite(u):
        return None
    return min(1.0, max(0.0, u))


def _distinct_rows(rows: np.ndarray) -> list[np.ndarray]:
    """The rows without repeats, first occurrence kept, in order."""
    seen, out = set(), []
    for r, key in zip(rows, row_keys(rows), strict=True):
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def row_key(row: np.ndarray) -> tuple:
    """A hashable key of a row, equal for rows that decode to the same point."""
    return tuple(np.round(row, 9).tolist())


def row_keys(rows: np.ndarray) -> list[tuple]:
    """:func:`row_key` of every row of a matrix."""
    rounded = np.round(rows, 9)
    if len(rounded) < 1000 or rounded.ndim != 2 or rounded.shape[1] == 0:
        return [tuple(r) for r in rounded.tolist()]
    # Many rows (a new process restores 10,000 runs): viewed as records, ``tolist`` makes the very
    # same tuples of floats itself, in half the time.
    fields = np.dtype([(f"f{i}", rounded.dtype) for i in range(rounded.shape[1])])
    return np.ascontiguousarray(rounded).view(fields).reshape(len(rounded)).tolist()
