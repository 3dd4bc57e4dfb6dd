"""The store in SQLite or PostgreSQL: ``SqlStore`` opens the database and runs each transaction,
retrying what may work a moment later; ``SqlTx`` (``sql_tx``) does the row operations inside.

Faults: a busy or unreachable store (SQLite lock held by another process, PostgreSQL restarting) is
retried with backoff for ``SWEEPKIT_STORE_RETRY`` seconds (default 300) before ``StoreUnavailable``
is raised; a store that was deleted or replaced under the process raises ``StoreGone`` at once and
is never re-created. A pooled PostgreSQL connection is not pinged before each transaction (a round
trip each time): one the server dropped while it sat in the pool (a restart since) fails its
transaction, which is run again at once, once, on a new connection, without a word; only when that
fails too is the store busy or unreachable as above. A transaction PostgreSQL aborted to break a
deadlock, or that lost a race to insert the same key (two claims with one claim key), is run again
at once: it then finds the other transaction's rows.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from sweepkit import env, shutdown
from sweepkit.errors import NotFoundError, StoreError, StoreFull, StoreGone, StoreUnavailable
from sweepkit.store import engine as _engine
from sweepkit.store.base import Store, StoreTx
from sweepkit.store.migrate import NewerStoreError, ensure_schema, has_schema
from sweepkit.store.sql_tx import SqlTx

T = TypeVar("T")

_RACE_RETRIES = 5


def open_sql_store(url: str | None = None, *, create: bool = True) -> SqlStore:
    """Open the SQLite or PostgreSQL store at ``url`` (see ``sweepkit.store.open_store``)."""
    location = _engine.locate(url)
    engine = _engine.create_engine(location, create=create)
    write_engine = _engine.writer(engine)
    try:
        if not create and not location.is_memory and not has_schema(engine):
            raise NotFoundError(
                f"no sweepkit store in {location.display} (it holds no sweepkit tables; point at another "
                f"with --db, {env.STORE} or SWEEPKIT_URL)"
            )
        ensure_schema(engine, write_engine)
    except NewerStoreError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open store {location.display}: it was written by a newer sweepkit "
            f"(schema revision {exc.revision!r}); upgrade sweepkit to use it"
        ) from None
    except (sa.exc.DBAPIError, sa.exc.NoSuchModuleError, ImportError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open store {location.display}: {_engine.describe_error(exc)}") from exc
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, location)


class SqlStore(Store):
    """A store in a SQLite file, an in-memory SQLite database or PostgreSQL."""

    def __init__(self, engine: sa.Engine, location: _engine.StoreLocation) -> None:
        self._engine = engine
        self._write_engine = _engine.writer(engine)
        self._location = location
        self.url = location.display
        self.connect_url = location.connect_url
        self.backend = location.backend
        # An in-memory SQLite store is one connection: threads take turns (a file store needs no lock).
        self._memory_lock = threading.RLock() if location.is_memory else None
        path = location.path
        self._file = _engine.FileIdentity(path, self.url) if path is not None else None
        self.on_wait: Callable[[str], None] = _say_on_stderr

    def close(self) -> None:
        self._engine.dispose()

    def transact(self, fn: Callable[[StoreTx], T], *, write: bool = True, durable: bool = True) -> T:
        """Run ``fn(tx)`` in one transaction, retried as the module docstring says.

        ``durable=False`` (heartbeats, logged rows) lets PostgreSQL confirm the commit before its WAL
        reaches the disk (``synchronous_commit`` off for this transaction): a server crash may lose
        the last fraction of a second of them (the client sends them again: batches are idempotent),
        never consistency.
        """
        engine = self._write_engine if write else self._engine
        relaxed = not durable and self.backend == "postgresql"
        if self._memory_lock is not None:
            with self._memory_lock, engine.begin() as conn:
                return fn(SqlTx(conn, self.url))
        deadline: float | None = None
        waited = False
        delay = 0.05
        races = 0
        reconnected = False
        while True:
            if self._file is not None:
                self._file.check()
            try:
                with engine.begin() as conn:
                    if relaxed:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    result = fn(SqlTx(conn, self.url))
                if waited:
                    self.on_wait(f"store {self.url} answers again")
                return result
            except sa.exc.DBAPIError as exc:
                lost_race = _engine.is_retryable(exc) or (
                    isinstance(exc, sa.exc.IntegrityError) and _engine.is_unique_violation(exc)
                )
                if lost_race and races < _RACE_RETRIES:
                    races += 1
                    continue
                if not reconnected and not waited and _engine.is_disconnect(exc):
                    reconnected = True  # a pooled connection the server dropped: once more, on a new one
                    continue
                if self._file is not None:
                    self._file.check()  # a vanished file explains the error better
                if _engine.is_gone(exc):
                    raise StoreGone(
                        f"store {self.url} lost its tables or database while in use "
                        f"({_engine.describe_error(exc)}); nothing more is written"
                    ) from exc
                if _engine.is_disk_full(exc):
                    raise StoreFull(
                        f"store {self.url} is full ({_engine.describe_error(exc)}): nothing more can be "
                        "written to it until space is freed"
                    ) from exc
                if not _engine.is_transient(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + env.store_retry_s()
                stopping = shutdown.requested()
                if stopping is not None:
                    raise StoreUnavailable(
                        f"store {self.url}: {_engine.describe_error(exc)} (not retried: {stopping})"
                    ) from exc
                if now >= deadline:
                    raise StoreUnavailable(
                        f"store {self.url}: {_engine.describe_error(exc)} "
                        f"(retried for {env.store_retry_s():g} s, {env.STORE_RETRY})"
                    ) from exc
                if not waited:
                    waited = True
                    self.on_wait(
                        f"store {self.url} is busy or unreachable ({_engine.describe_error(exc)}); "
                        f"retrying for up to {env.store_retry_s():g} s"
                    )
                shutdown.wait(min(delay * (0.5 + random.random()), max(0.0, deadline - now)))
                delay = min(delay * 2, 5.0)


def _say_on_stderr(message: str) -> None:
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)
