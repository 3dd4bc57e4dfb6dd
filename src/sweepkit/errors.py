"""The base of every error sweepkit shows to a user: one clear sentence, never a traceback."""

from __future__ import annotations


class SweepkitError(Exception):
    """An error whose message is meant for the user as it is."""


class NotFoundError(SweepkitError):
    """A sweep or run that the store does not hold."""
