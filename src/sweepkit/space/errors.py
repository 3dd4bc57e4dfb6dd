"""The errors the search space raises: a parameter spec it cannot use, or a kind grid cannot take."""

from __future__ import annotations

from sweepkit.errors import SweepkitError


class SpaceError(SweepkitError, ValueError):
    """A parameter spec the search space cannot use (the message names the key path)."""


class GridNotSupported(SpaceError):
    """A parameter whose distribution the grid method cannot enumerate (the message names it)."""
