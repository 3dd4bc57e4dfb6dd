"""The sweep service: the seam between the client side (CLI, API, agents, runs) and the sweeps.

``connect(db)`` returns a ``SweepService``: today the local one, over the store named by ``db``
(a SQLite path or database URL; default ``$SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` here).
Importing this package is light: the store and its SQL stack load only when a service is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sweepkit.service.interface import SweepService
from sweepkit.service.types import (
    Assignment,
    Claim,
    HistoryPage,
    LogAck,
    LogBatch,
    RetryResult,
    RunControl,
    RunInfo,
    RunOutput,
    RunPage,
    SweepInfo,
)

if TYPE_CHECKING:  # pragma: no cover
    from sweepkit.service.local import LocalSweepService

__all__ = [
    "Assignment",
    "Claim",
    "HistoryPage",
    "LogAck",
    "LogBatch",
    "RetryResult",
    "RunControl",
    "RunInfo",
    "RunOutput",
    "RunPage",
    "SweepInfo",
    "SweepService",
    "connect",
]


def connect(db: str | None = None, *, create: bool = False) -> SweepService:
    """The sweep service for the store at ``db``.

    ``create=True`` (creating a sweep, a run outside any agent) makes the store if it does not
    exist; every other use needs an existing store and says where it looked when there is none.
    """
    return open_local(db, create=create)


def open_local(db: str | None = None, *, create: bool = False) -> LocalSweepService:
    from sweepkit.service.local import LocalSweepService
    from sweepkit.store import open_store

    return LocalSweepService(open_store(db, create=create))
