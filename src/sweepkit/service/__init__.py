"""The sweep service: the seam between the client side (CLI, API, agents, runs) and the sweeps.

This package holds the seam only: the interface (``SweepService``), the data that crosses it
(``types``), the checks both transports apply, the wire format and each call's declaration on the
wire (``calls``), and the two implementations in their own modules (``local``: over a store in this
process; ``http``: a sweepkit server's client, built from ``calls``).
``sweepkit.connect.connect(db)`` opens one of them; importing this package loads neither.
"""

from __future__ import annotations

from sweepkit.service.calls import SweepService
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
]
