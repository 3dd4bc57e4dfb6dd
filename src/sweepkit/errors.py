"""The errors sweepkit shows to a user: one clear sentence each, never a traceback.

``StoreUnavailable`` is transient (busy, restarting, unreachable: callers retry it), and so is
``StoreFull`` (no space left for writes: callers keep what they could not write); ``StoreGone``
is final (the store was deleted or replaced under a running process: nothing may be written).
"""

from __future__ import annotations


class SweepkitError(Exception):
    """An error whose message is meant for the user as it is."""


class NotFoundError(SweepkitError):
    """A sweep, run, agent or store that does not exist where it was looked for."""


class ConflictError(SweepkitError):
    """The request cannot be done in the sweep's or run's current state (pause a paused sweep, log to
    an ended run, change a running sweep's method)."""


class AccessDenied(SweepkitError):
    """A sweepkit server refused the request: no token, an unknown or revoked one, or too narrow a scope."""


class StoreError(SweepkitError):
    """The store cannot be opened or used (bad URL, unreadable file, newer schema, ...)."""


class StoreUnavailable(StoreError):
    """The store is busy or unreachable right now (SQLite lock, database restarting)."""


class StoreFull(StoreUnavailable):
    """The store's disk (or the database's) is full: writes fail until space is freed; reads still
    work. Nothing that could not be written is dropped silently (see docs/reliability.md)."""


class StoreGone(StoreError):
    """The store was deleted or replaced while in use: stop, and write nothing anywhere else."""
