"""The store: the only part of sweepkit that keeps sweeps, runs and their history.

``open_store(url, create=...)`` returns a ``Store`` (``base``: the interface, typed, one style:
``store.transact(fn)`` runs ``fn(tx)`` with every row operation on ``tx``); only the local sweep
service (``sweepkit.service.local``) uses it. Records in and out are plain frozen dataclasses
(``records``). Implementations: SQLite and PostgreSQL (``sql_store``, with Alembic migrations), and
in memory (``memory``, for ``memory://``). Importing this package loads no SQL stack; opening a SQL
store does.
"""

from __future__ import annotations

import os

from sweepkit import env
from sweepkit.store.base import Store, StoreTx
from sweepkit.store.records import NewAgent, NewRun, NewSweep, RunRecord, SweepRecord, TokenRecord, new_id

__all__ = [
    "NewAgent",
    "NewRun",
    "NewSweep",
    "RunRecord",
    "Store",
    "StoreTx",
    "SweepRecord",
    "TokenRecord",
    "new_id",
    "open_store",
]


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open the store at ``url``: ``memory://`` (a new store in this process), a database URL, a
    SQLite file path, or None.

    None means ``$SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` under the current directory.
    ``create=False`` never creates anything: a missing SQLite file, or a database without sweepkit's
    tables, is a ``NotFoundError`` (an older schema is still upgraded).
    """
    from sweepkit.store.memory import SCHEME

    given = url if url is not None else os.environ.get(env.STORE)
    if given is not None and str(given).strip().startswith(SCHEME):
        from sweepkit.store.memory import MemoryStore

        return MemoryStore(str(given).strip())
    from sweepkit.store.sql_store import open_sql_store

    return open_sql_store(url, create=create)
