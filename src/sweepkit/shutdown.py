"""The process is stopping: an agent got SIGTERM or SIGINT, and every wait for the store gives up.

An agent's signal handler calls ``request(reason)``. From then on a busy, unreachable or full store
(or sweepkit server) is tried once more, not retried for minutes: ``SqlStore.transact``, the HTTP
client, a run's reporter and the agent's own waits sleep through ``wait(seconds)``, which returns at
once when a stop is requested. ``clear()`` ends the state (an agent started again in the same
process, as tests and notebooks do).

Pure standard library.
"""

from __future__ import annotations

import threading

_REQUESTED = threading.Event()
_reason: str | None = None


def request(reason: str) -> None:
    """Ask every wait of this process to give up (safe in a signal handler)."""
    global _reason
    if _reason is None:
        _reason = reason
    _REQUESTED.set()


def requested() -> str | None:
    """Why the process is stopping, or None."""
    return _reason if _REQUESTED.is_set() else None


def clear() -> None:
    global _reason
    _reason = None
    _REQUESTED.clear()


def wait(seconds: float) -> bool:
    """Sleep ``seconds``, or less once a stop is requested; True when one was."""
    return _REQUESTED.wait(max(0.0, seconds))
