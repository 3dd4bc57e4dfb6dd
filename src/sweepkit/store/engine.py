"""From a store location (URL, file path or nothing) to a configured SQLAlchemy engine, and what
its failures mean.

SQLite: WAL journal, 30 s busy timeout, foreign keys on, and write transactions that start with
``BEGIN IMMEDIATE`` (taken by the engine returned from ``writer(engine)``), so that concurrent
writers queue for the lock instead of failing half-way with "database is locked". A store opened
without ``create`` is opened read-write but never created: a missing file is an error, not a new
empty store. PostgreSQL: the psycopg 3 driver, a connect timeout, and pooled connections that are
not pinged before each use (a round trip per transaction): a connection the server dropped meanwhile
(a restart) fails its transaction, which the store runs again at once on a new connection
(:func:`is_disconnect`, ``SqlStore.transact``).

Failures are sorted into transient ones (busy, restarting, unreachable: retry) and final ones (the
database or its tables are gone: stop) by :func:`is_transient` and :func:`is_gone`; a full disk is
:func:`is_disk_full`.
"""

from __future__ import annotations

import os
import random
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool, StaticPool

from sweepkit import env
from sweepkit.errors import NotFoundError, StoreError, StoreGone

SQLITE_BUSY_TIMEOUT_S = 30.0
POSTGRES_CONNECT_TIMEOUT_S = 10

_WRITE_OPTION = "sweepkit_write"


@dataclass(frozen=True)
class StoreLocation:
    """Where a store lives: the URL to connect with, and the forms to show and to hand on."""

    url: URL

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def display(self) -> str:
        """The URL for messages: password masked, driver name left out."""
        return self.url.set(drivername=self.backend).render_as_string(hide_password=True)

    @property
    def connect_url(self) -> str:
        """A URL that ``open_store`` accepts for the same store (password included: do not print it)."""
        return self.url.render_as_string(hide_password=False)

    @property
    def is_memory(self) -> bool:
        return self.backend == "sqlite" and self.url.database in (None, "", ":memory:")

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, in-memory)."""
        if self.backend != "sqlite" or self.is_memory:
            return None
        return Path(self.url.database)


class FileIdentity:
    """The SQLite file a store opened: deleting or replacing it under a running process is detected
    (an open connection would otherwise go on writing into the deleted file, or a new one)."""

    def __init__(self, path: Path, display: str):
        self.path, self.display = path, display
        stat = path.stat()
        self.identity = (stat.st_dev, stat.st_ino)

    def check(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise StoreGone(
                f"store {self.display} was deleted while in use; nothing more is written (runs in "
                "progress are stopped)"
            ) from None
        except OSError:
            return  # unreadable for a moment: the transaction itself will say more
        if (stat.st_dev, stat.st_ino) != self.identity:
            raise StoreGone(
                f"store {self.display} was replaced by another file while in use; nothing more is "
                "written (runs in progress are stopped)"
            )


def locate(url: str | None) -> StoreLocation:
    """Resolve a store location: ``None`` -> ``$SWEEPKIT_DB`` -> ``./.sweepkit/sweepkit.db``."""
    if url is None:
        url = os.environ.get(env.STORE) or None
    if url is None:
        return _sqlite_file(Path.cwd() / env.DEFAULT_STORE_DIR / env.DEFAULT_STORE_FILE)
    text = str(url).strip()
    if not text:
        raise StoreError("cannot open store '': expected a SQLite file path or a database URL")
    if "://" not in text:
        return _sqlite_file(Path(text).expanduser())
    scheme, rest = text.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        text = f"postgresql+psycopg://{rest}"
    try:
        parsed = make_url(text)
    except Exception as exc:  # ArgumentError, ValueError from a bad port, ...
        raise StoreError(
            f"cannot open store {_mask(text)}: not a database URL "
            "(expected a SQLite file path, sqlite:///PATH or postgresql://USER@HOST/DB)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return StoreLocation(parsed)
        return _sqlite_file(Path(parsed.database).expanduser(), query=parsed.query)
    if backend != "postgresql":
        raise StoreError(
            f"cannot open store {_mask(text)}: unsupported database {backend!r} (sweepkit stores run on SQLite or PostgreSQL)"
        )
    return StoreLocation(parsed)


def _sqlite_file(path: Path, query=None) -> StoreLocation:
    path = path.absolute()
    return StoreLocation(URL.create("sqlite", database=str(path), query=query or {}))


def _mask(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:
        return repr(text)


def create_engine(location: StoreLocation, *, create: bool = True) -> sa.Engine:
    """A configured engine for ``location`` (no connection is made yet).

    ``create=False``: a SQLite file must exist already (NotFoundError otherwise) and is never created.
    """
    if location.backend == "sqlite":
        engine = _sqlite_engine(location, create)
    else:
        engine = _postgres_engine(location)
    _ENGINES.add(engine)
    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, for write transactions (``BEGIN IMMEDIATE`` on SQLite)."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _sqlite_engine(location: StoreLocation, create: bool) -> sa.Engine:
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    if location.is_memory:
        engine = sa.create_engine("sqlite://", connect_args=connect_args, poolclass=StaticPool)
    elif not create:
        import sqlite3
        from urllib.parse import quote

        path = location.path
        if not path.is_file():
            raise NotFoundError(
                f"no sweepkit store at {path} (point at another with --db, {env.STORE} or SWEEPKIT_URL)"
            )
        uri = f"file:{quote(str(path))}?mode=rw"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)

        # A pool of its own connections: "sqlite://" alone would mean SingletonThreadPool, which closes
        # connections other threads are still using once more than 5 threads share the store (a crash).
        engine = sa.create_engine("sqlite://", creator=connect, poolclass=QueuePool)
    else:
        folder = Path(location.url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StoreError(
                f"cannot open store {location.display}: cannot create folder {folder}: {reason[:1].lower()}{reason[1:]}"
            ) from None
        engine = sa.create_engine(location.url, connect_args=connect_args)
    memory = location.is_memory

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # The driver must not open transactions on its own: "begin" below decides how each one starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _use_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        if immediate and not memory:
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: Waiting for another writer of a SQLite file: the first pause and the longest one, in seconds.
_WRITER_POLL_S = (0.0005, 0.004)


def _begin_immediate(conn) -> None:
    """``BEGIN IMMEDIATE``, waiting for the other writers of the file by trying again every few
    milliseconds for up to the busy timeout. SQLite's own busy handler sleeps up to 100 ms between
    tries and serves no one in order: with 16 agents claiming at once, some of them waited over a
    second for a lock that was free most of that time (``benchmarks/claim_cost.py``). After the
    timeout the last try's error is raised as before (a busy store, retried by the caller)."""
    import sqlite3

    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay, longest = _WRITER_POLL_S
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not any(mark in str(exc).lower() for mark in _SQLITE_BUSY):
                    break  # not a busy file: raised below, through SQLAlchemy
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, longest)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        try:
            raw.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.Error:
            pass  # a broken connection: the error above is the one to tell, and the pool drops it


def _use_wal(cursor) -> None:
    """Switch the file to WAL (persistent); a fresh file opened by many processes may be busy a moment."""
    import sqlite3

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _postgres_engine(location: StoreLocation) -> sa.Engine:
    connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    if "application_name" not in location.url.query:
        connect_args["application_name"] = "sweepkit"
    try:
        return sa.create_engine(location.url, connect_args=connect_args)
    except ImportError as exc:
        raise StoreError(
            f"cannot open store {location.display}: PostgreSQL needs the psycopg driver "
            "(pip install 'sweepkit[postgres]')"
        ) from exc


def describe_error(exc: BaseException) -> str:
    """The driver's reason for a failure, as a short lowercase phrase ("connection refused")."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    if not text:
        return type(orig).__name__
    first = text.splitlines()[0].strip()
    reason = first.split(": ")[-1].strip().rstrip(".") or first
    return reason[:1].lower() + reason[1:]


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def is_retryable(exc: BaseException) -> bool:
    """A transaction PostgreSQL aborted to break a deadlock or a serialization conflict."""
    return _sqlstate(exc) in ("40P01", "40001")


def is_foreign_key_violation(exc: BaseException) -> bool:
    """A row named another that does not exist (a run's agent, say)."""
    if _sqlstate(exc) == "23503":
        return True
    return "foreign key constraint failed" in str(getattr(exc, "orig", exc)).lower()


def is_unique_violation(exc: BaseException) -> bool:
    """Two transactions inserted the same key at once (two claims with one claim key, say)."""
    if _sqlstate(exc) == "23505":
        return True
    return "unique constraint failed" in str(getattr(exc, "orig", exc)).lower()


#: PostgreSQL errors that mean the database, schema or tables are not there (any more).
_GONE_STATES = {"3D000", "3F000", "42P01"}
#: PostgreSQL errors of a server shutting down, restarting or refusing connections for a moment.
_TRANSIENT_STATES = {"57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


#: PostgreSQL's disk_full; SQLite's SQLITE_FULL (and the I/O error a full disk may cause in its WAL).
_FULL_STATES = {"53100"}
_FULL_TEXTS = ("database or disk is full", "no space left on device", "disk full")


def is_disk_full(exc: BaseException) -> bool:
    """The database could not write for lack of space (its disk is full)."""
    if _sqlstate(exc) in _FULL_STATES:
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(mark in text for mark in _FULL_TEXTS)


def is_gone(exc: BaseException) -> bool:
    """The store's database or tables do not exist: it was dropped or emptied under us."""
    if _sqlstate(exc) in _GONE_STATES:
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, sa.exc.OperationalError) and (
        "no such table" in text or ("database" in text and "does not exist" in text)
    )


def is_disconnect(exc: BaseException) -> bool:
    """The connection was lost (the server restarted or dropped it): SQLAlchemy has discarded it and
    every connection of the pool opened before, so the same transaction may be run again at once."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def is_transient(exc: BaseException) -> bool:
    """Busy, restarting or unreachable: the same operation may work a moment later."""
    if not isinstance(exc, sa.exc.DBAPIError) or is_gone(exc):
        return False
    if exc.connection_invalidated or _sqlstate(exc) in _TRANSIENT_STATES:
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    if any(mark in text for mark in _SQLITE_BUSY):
        return True
    # psycopg reports refused connections and lost servers as OperationalError without a sqlstate.
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) and _sqlstate(exc) is None


#: Engines of this process, disposed in a forked child so that it never shares a parent's connection.
_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
