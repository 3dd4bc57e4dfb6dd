"""Column types and SQL pieces that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: timezone-aware UTC datetimes in Python; ``timestamptz`` on PostgreSQL, sortable
  ``YYYY-MM-DD HH:MM:SS.fff`` text on SQLite (the form SQLite's own ``strftime('%f')`` produces).
- ``utcnow()``: the DATABASE clock, so heartbeats and timeouts agree across machines.
- ``JSONDoc`` / ``JSONData``: JSON columns that accept what programs log (NaN, infinities, numpy
  scalars and arrays). Non-finite floats are stored as the strings ``"NaN"``, ``"Infinity"`` and
  ``"-Infinity"`` (PostgreSQL's json type refuses the bare tokens); ``JSONData`` (metrics) turns those
  strings back into floats when read, ``JSONDoc`` (configs, parameters) keeps stored strings as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timezone
from numbers import Integral, Real
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator

_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_NONFINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


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


def to_json(value: Any) -> Any:
    """``value`` made storable as strict JSON (non-finite floats become ``"NaN"``/``"Infinity"`` text)."""
    kind = type(value)  # exact types first: logged rows are mostly plain floats, ints and strings
    if kind is float:
        if value - value == 0.0:  # finite
            return value
    elif kind is str or kind is int or kind is bool or value is None:
        return value
    elif kind is dict:
        return {k if type(k) is str else str(k): to_json(v) for k, v in value.items()}
    elif kind is list:
        return [to_json(v) for v in value]
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, without importing numpy
    if callable(tolist):
        return to_json(tolist())
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return to_json(float(value))
    if isinstance(value, (set, frozenset)):
        return [to_json(v) for v in sorted(value, key=repr)]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def from_json_data(value: Any) -> Any:
    """Undo ``to_json`` for metric data: ``"NaN"``/``"Infinity"``/``"-Infinity"`` become floats again."""
    if isinstance(value, str):
        return _NONFINITE_TEXT.get(value, value)
    if isinstance(value, dict):
        return {k: from_json_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_data(v) for v in value]
    return value


class JSONDoc(TypeDecorator):
    """A JSON document (config, parameters, info): stored strictly, read back as stored."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(none_as_null=True)

    def process_bind_param(self, value, dialect):
        return to_json(value)


class JSONData(JSONDoc):
    """Logged metric data (summary, history rows, metric history): non-finite floats survive the trip."""

    cache_ok = True

    def process_result_value(self, value, dialect):
        return from_json_data(value)
