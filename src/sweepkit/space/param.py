"""One parameter of a search space: its flat name, its place in the nested config, and its distribution."""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.space.conditions import Clause, clauses_of
from sweepkit.space.distributions import LOG_KINDS, Categorical, Constant, Distribution, build
from sweepkit.space.errors import GridNotSupported, SpaceError
from sweepkit.space.values import canonical_key


def config_path(path: Sequence[str]) -> str:
    """Where a parameter sits in the config: ``("optimizer", "lr")`` -> ``parameters.optimizer.parameters.lr``."""
    return "parameters." + ".parameters.".join(path)


class Param:
    """A parameter leaf built from its normalized spec (``distribution`` and defaults filled in).

    ``name`` is the flat dotted name runs use (``optimizer.lr`` for ``lr`` inside the nested group
    ``optimizer``); ``path`` is the tuple of keys to reach it in ``run.config``
    (``("optimizer", "lr")``; a top-level name with dots, ``optimizer.config.lr``, is a one-key path).
    """

    __slots__ = ("_dist", "conditions", "kind", "name", "path", "spec")

    def __init__(
        self, path: Sequence[str], spec: Mapping[str, Any], inherited: Sequence[Clause] = ()
    ) -> None:
        """``inherited``: the clauses of the ``when`` of the nested groups around it."""
        if not path or not all(isinstance(key, str) for key in path):
            raise SpaceError(f"parameter path must be a non-empty tuple of strings, got {path!r}")
        if not isinstance(spec, Mapping):
            raise SpaceError(f"{config_path(path)}: expected a mapping, got {spec!r}")
        self.path: tuple[str, ...] = tuple(path)
        self.name: str = ".".join(self.path)
        self.spec: dict[str, Any] = copy.deepcopy(dict(spec))
        self._dist: Distribution = build(self.spec, config_path(self.path))
        self.kind: str = self._dist.kind
        own = clauses_of(self.spec["when"], config_path(self.path)) if "when" in self.spec else ()
        #: Every clause that must hold for the parameter to exist (its groups' and its own ``when``).
        self.conditions: tuple[Clause, ...] = (*inherited, *own)

    # --- what kind of parameter ---------------------------------------------------------------

    @property
    def config_path(self) -> str:
        """Its key path in the config, for messages: ``parameters.optimizer.parameters.lr``."""
        return config_path(self.path)

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant"

    @property
    def is_conditional(self) -> bool:
        """It exists only when its condition holds (``when``, its own or its group's)."""
        return bool(self.conditions)

    @property
    def is_categorical(self) -> bool:
        """``categorical`` or ``categorical_w_probabilities``."""
        return isinstance(self._dist, Categorical)

    @property
    def is_integer(self) -> bool:
        """Draws and ``from_unit`` values are Python ints (int_uniform, quantised kinds with an int q)."""
        return self._dist.is_integer

    @property
    def is_log_scaled(self) -> bool:
        """Drawn in log space (the ``log`` kinds): its values are best shown on a log axis."""
        return self.kind in LOG_KINDS

    @property
    def values(self) -> list[Any] | None:
        """The values of a categorical (``[value]`` for a constant); None for other kinds."""
        if isinstance(self._dist, Categorical):
            return copy.deepcopy(self._dist.values)
        if isinstance(self._dist, Constant):
            return [copy.deepcopy(self._dist.value)]
        return None

    @property
    def probabilities(self) -> list[float] | None:
        """Each value's probability (uniform for ``categorical``, ``[1.0]`` for a constant); else None."""
        if isinstance(self._dist, Categorical):
            return list(self._dist.probabilities)
        if isinstance(self._dist, Constant):
            return [1.0]
        return None

    @property
    def bounds(self) -> tuple[float, float] | None:
        """Smallest and largest value a draw or ``from_unit`` can give (infinite for normal kinds).

        For quantised kinds these are the quantised bounds ``round(min / q) * q`` and
        ``round(max / q) * q``, as W&B's ``round(X / q) * q`` may step just outside ``[min, max]``.
        None for categorical and constant parameters.
        """
        return self._dist.bounds

    # --- what it does ---------------------------------------------------------------------------

    def draw(self, rng: random.Random) -> Any:
        """One random value from the parameter's distribution, using only ``rng``."""
        return self._dist.draw(rng)

    def grid_values(self) -> list[Any]:
        """The values a grid search enumerates, in order; GridNotSupported for other kinds.

        constant -> ``[value]``; categorical -> its values as listed; int_uniform -> ``min..max``
        (max included); q_uniform -> ``arange(min, max, q)`` (max excluded).
        """
        values = self._dist.grid()
        if values is None:
            raise GridNotSupported(
                f"{self.config_path}: distribution {self.kind} cannot be used with method grid "
                "(grid takes constant, categorical, int_uniform and q_uniform)"
            )
        return values

    def index_of(self, value: Any) -> int:
        """Position of ``value`` among a categorical's values, by content (3.0 finds 3; True is not 1)."""
        try:
            return self._dist.index_of(value)
        except ValueError as err:
            raise SpaceError(f"parameter {self.name}: {err}") from None

    def to_unit(self, value: Any) -> float:
        """The prior CDF of ``value``, in ``[0, 1]`` (clipped for values outside the bounds).

        Categoricals map a value to the middle of its probability cell, constants to 0.5.
        """
        try:
            return self._dist.to_unit(value)
        except ValueError as err:
            raise SpaceError(f"parameter {self.name}: {err}") from None

    def from_unit(self, u: float) -> Any:
        """The value at prior quantile ``u`` (clipped to ``[0, 1]``), rounded or quantised, in bounds."""
        try:
            return self._dist.from_unit(float(u))
        except ValueError as err:
            raise SpaceError(f"parameter {self.name}: {err}") from None

    # --- plumbing -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Param({self.name!r}, {self.kind}, {self.spec!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Param):
            return NotImplemented
        return (
            self.path == other.path
            and canonical_key(self.spec) == canonical_key(other.spec)
            and self.conditions == other.conditions
        )

    def __hash__(self) -> int:
        return hash((self.path, canonical_key(self.spec)))
