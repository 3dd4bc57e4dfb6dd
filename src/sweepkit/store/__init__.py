"""The store: the only part of sweepkit that talks to a database (SQLite or PostgreSQL).

``open_store(url, create=...)`` returns a ``Store``; only the local sweep service
(``sweepkit.service.local``) uses it. Results are plain frozen records (``SweepRecord``,
``RunRecord``).
"""

from __future__ import annotations

from sweepkit.store.records import LogTarget, RunRecord, SweepRecord
from sweepkit.store.store import Store, new_id, open_store
from sweepkit.store.transaction import Tx

__all__ = ["LogTarget", "RunRecord", "Store", "SweepRecord", "Tx", "new_id", "open_store"]
