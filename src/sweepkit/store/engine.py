"""From a store location (URL, file path or nothing) to a configured SQLAlchemy engine.

SQLite: WAL journal, 30 s busy timeout, foreign keys on, and write transactions that start with
``BEGIN IMMEDIATE`` (taken by the engine returned from ``writer(engine)``), so that concurrent
writers queue for the lock instead of failing half-way with "database is locked".
PostgreSQL: the psycopg 3 driver, a connect timeout and pre-pinged pooled connections.
"""

from __future__ import annotations

import os
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from sweepkit.errors import SweepkitError

#: The environment variable that names the store when no URL is given.
ENV_VAR = "SWEEPKIT_DB"
DEFAULT_DIR = ".sweepkit"
DEFAULT_FILE = "sweepkit.db"
SQLITE_BUSY_TIMEOUT_S = 30.0
POSTGRES_CONNECT_TIMEOUT_S = 10

_WRITE_OPTION = "sweepkit_write"


class StoreError(SweepkitError):
    """The store cannot be reached or used (bad URL, server down, unreadable file, ...)."""


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


def locate(url: str | None) -> StoreLocation:
    """Resolve a store location: ``None`` -> ``$SWEEPKIT_DB`` -> ``./.sweepkit/sweepkit.db``."""
    if url is None:
        url = os.environ.get(ENV_VAR) or None
    if url is None:
        return _sqlite_file(Path.cwd() / DEFAULT_DIR / DEFAULT_FILE)
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


def create_engine(location: StoreLocation) -> sa.Engine:
    """A configured engine for ``location`` (no connection is made yet)."""
    if location.backend == "sqlite":
        engine = _sqlite_engine(location)
    else:
        engine = _postgres_engine(location)
    _ENGINES.add(engine)
    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, for write transactions (``BEGIN IMMEDIATE`` on SQLite)."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _sqlite_engine(location: StoreLocation) -> sa.Engine:
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    if location.is_memory:
        engine = sa.create_engine("sqlite://", connect_args=connect_args, poolclass=StaticPool)
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


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
        return sa.create_engine(location.url, connect_args=connect_args, pool_pre_ping=True)
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


def is_connection_error(exc: BaseException) -> bool:
    """A failure to reach or keep the database (not a bug in a statement)."""
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) or bool(
        isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
    )


def is_retryable(exc: BaseException) -> bool:
    """A transaction PostgreSQL aborted to break a deadlock or a serialization conflict."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40P01", "40001")


#: Engines of this process, disposed in a forked child so that it never shares a parent's connection.
_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
