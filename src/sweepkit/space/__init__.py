"""The typed search space: parameters, their distributions, draws, grids and unit-interval maps.

``SearchSpace.from_config(cfg)`` (or ``from_parameters`` on the normalized ``parameters`` dict)
gives the sweep's parameters sorted by flat dotted name; each :class:`Param` draws values, lists its
grid values and maps values to and from ``[0, 1]`` by its prior CDF. :func:`values_equal` and
:func:`canonical_key` are the content equality that grid de-duplication and bayes rely on.
No numpy or scipy at import (scipy is imported lazily by the beta unit map only).
"""

from __future__ import annotations

from sweepkit.space.distributions import KINDS
from sweepkit.space.errors import GridNotSupported, SpaceError
from sweepkit.space.param import Param
from sweepkit.space.search_space import SearchSpace
from sweepkit.space.values import canonical_key, values_equal

__all__ = [
    "KINDS",
    "GridNotSupported",
    "Param",
    "SearchSpace",
    "SpaceError",
    "canonical_key",
    "values_equal",
]
