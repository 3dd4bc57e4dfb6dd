"""Column types and SQL pieces that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: timezone-aware UTC datetimes in Python; ``timestamptz`` on PostgreSQL, sortable
  ``YYYY-MM-DD HH:MM:SS.fff`` text on SQLite (the form SQLite's own ``strftime('%f')`` produces).
- ``utcnow()``: the DATABASE clock, so heartbeats and timeouts agree across machines.
- ``JSONDoc`` / ``JSONData``: JSON columns that accept what programs log (NaN, infinities, numpy
  scalars and arrays), converted by ``sweepkit.values.json_safe``: non-finite floats are stored as
  the texts ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (PostgreSQL's json type refuses the bare
  tokens); ``JSONData`` (logged data) turns those texts back into floats when read
  (``sweepkit.values.logged_data``), ``JSONDoc`` (configs, parameters) keeps stored texts as they are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator

from sweepkit.values import json_safe, logged_data

_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime, stored with the backend's best form (see the module docstring)."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.strftime(_SQLITE_FORMAT)[:-3]
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp (datetime or SQLite text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class utcnow(FunctionElement):
    """The database's current time (UTC); rendered per dialect."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utcnow, "postgresql")
def _utcnow_postgresql(element, compiler, **kw):
    # The start of the statement, not of the transaction (now()): a heartbeat is dated when it is
    # written, and every column set by one statement gets the same time (unlike clock_timestamp()).
    return "statement_timestamp()"


@compiles(utcnow, "sqlite")
def _utcnow_sqlite(element, compiler, **kw):
    return "strftime('%Y-%m-%d %H:%M:%f', 'now')"


@compiles(utcnow)
def _utcnow_default(element, compiler, **kw):
    return "CURRENT_TIMESTAMP"


class JSONDoc(TypeDecorator):
    """A JSON document (config, parameters, info): stored strictly, read back as stored."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(none_as_null=True)

    def process_bind_param(self, value, dialect):
        return json_safe(value)


class JSONData(JSONDoc):
    """Logged metric data (summary, history rows, metric history): non-finite floats survive the trip."""

    cache_ok = True

    def process_result_value(self, value, dialect):
        return logged_data(value)
