"""Values as programs log them and as JSON carries them: one conversion, one spelling of NaN and
the infinities, W&B's step rule, and what counts as a metric value.

- ``json_safe(value, ...)`` is the one walk from what Python code hands sweepkit (numpy and torch
  scalars and arrays, tuples, sets, dates, enums, dataclasses, non-finite floats) to JSON data. Its
  options say what to do with what JSON cannot hold: ``log()`` and a run's config keep it as its
  text (``as_text``, as W&B does; ``log()`` warns once per key), a sweep config reports every such
  value as a problem.
- Non-finite floats are written as the texts ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
  wherever strict JSON is written: a run's events file, the HTTP API, the store and the dashboard
  (``dumps``). In *logged data* (history rows, a run's summary) those texts stand for the floats
  and ``logged_data`` turns them back; in configs and parameters a text stays text.
- Steps follow W&B's rule: a step is a whole number from 0 to 2**63-1 (``is_step``); a row is kept
  only when its step comes after the newest step already committed (``is_new_step``); a row that
  names no step takes the next one.
- A *metric value* is a finite real number, booleans and text excluded (``is_metric_value``).

Pure standard library: every process imports it, a run's process too.
"""

from __future__ import annotations

import enum
import json
import math
import numbers
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

# --- non-finite numbers --------------------------------------------------------------------------

#: How strict JSON spells the floats it cannot hold, and the floats those texts stand for.
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def nonfinite_text(value: float) -> str:
    """The text that stands for a non-finite float."""
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def logged_data(value: Any) -> Any:
    """Logged data read from JSON: the texts "NaN", "Infinity", "-Infinity" become those floats."""
    kind = type(value)
    if kind is str:
        return NONFINITE.get(value, value)
    if kind is dict:
        return {k: logged_data(v) for k, v in value.items()}
    if kind is list:
        return [logged_data(v) for v in value]
    return value


def may_hold_nonfinite(raw: bytes | str) -> bool:
    """Whether JSON text may hold a non-finite float written as text (a cheap look before a walk)."""
    if isinstance(raw, str):
        return '"NaN"' in raw or 'Infinity"' in raw
    return b'"NaN"' in raw or b'Infinity"' in raw


# --- JSON-safe conversion ------------------------------------------------------------------------

#: What ``on_bad`` is told about: a key that is not text, a float that is not finite (when
#: ``nonfinite="bad"``), a value JSON cannot hold.
BAD_KEY = "key"
BAD_NUMBER = "number"
BAD_VALUE = "value"

#: Types whose values are their own JSON-safe copy (floats too, when finite).
_PLAIN = frozenset({str, int, bool, type(None)})

#: ``on_bad(path, problem, value)``: the path of keys and list positions to the value (for a key,
#: ending with the key), one of the problems above, and the value or key; it returns what to use
#: instead, or raises.
OnBad = Callable[[tuple[Any, ...], str, Any], Any]


def json_safe(
    value: Any,
    *,
    nonfinite: str = "text",
    convert: bool = True,
    on_bad: OnBad | None = None,
    path: tuple[Any, ...] = (),
) -> Any:
    """``value`` as JSON data: dicts with text keys, lists, text, numbers, booleans and None.

    Tuples become lists, dates ISO text, enums of text or numbers their value. ``nonfinite``: "text" writes NaN and the
    infinities as texts (strict JSON), "keep" keeps the floats, "bad" hands them to ``on_bad``.
    ``convert``: numpy and torch scalars and arrays (through their ``tolist``, without importing
    either), other numbers, sets (sorted) and dataclasses (their fields) become JSON data; without
    it they are bad. Without ``on_bad``, a bad key or value becomes its text.
    ``path``: where ``value`` sits, for ``on_bad``.
    """
    kind = type(value)  # exact types first, and plain items inline: logged rows are mostly floats
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if value - value == 0.0 or nonfinite == "keep":
            return value
        if nonfinite == "bad":
            return _bad(path, BAD_NUMBER, value, on_bad)
        return nonfinite_text(value)
    keep = nonfinite == "keep"
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                key = _bad(path + (key,), BAD_KEY, key, on_bad)
            plain = type(item) in _PLAIN or (type(item) is float and (item - item == 0.0 or keep))
            out[key] = item if plain else _walk(item, path + (key,), nonfinite, convert, on_bad)
        return out
    if kind is list or kind is tuple:
        items = []
        for index, item in enumerate(value):
            plain = type(item) in _PLAIN or (type(item) is float and (item - item == 0.0 or keep))
            items.append(item if plain else _walk(item, path + (index,), nonfinite, convert, on_bad))
        return items
    return _other(value, path, nonfinite, convert, on_bad)


def _walk(value: Any, path: tuple[Any, ...], nonfinite: str, convert: bool, on_bad: OnBad | None) -> Any:
    return json_safe(value, nonfinite=nonfinite, convert=convert, on_bad=on_bad, path=path)


def _other(value: Any, path: tuple[Any, ...], nonfinite: str, convert: bool, on_bad: OnBad | None) -> Any:
    """A value of a type that is not plain JSON."""
    if isinstance(value, (str, int)):  # bool is an int
        if isinstance(value, enum.Enum):  # an enum of text or numbers: its value
            return value.value
        return value
    if isinstance(value, float):  # numpy's float64, say
        return _walk(float(value), path, nonfinite, convert, on_bad)
    if isinstance(value, Mapping):
        return _walk(dict(value), path, nonfinite, convert, on_bad)
    if isinstance(value, (list, tuple)):
        return _walk(list(value), path, nonfinite, convert, on_bad)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if convert:
        if _is_dataclass(value):
            return _walk(_fields(value), path, nonfinite, convert, on_bad)
        tolist = getattr(value, "tolist", None)  # numpy / torch scalars and arrays
        if callable(tolist):
            try:
                converted = tolist()
            except Exception:  # noqa: BLE001 - judged below as any other value
                converted = value
            if converted is not value:
                return _walk(converted, path, nonfinite, convert, on_bad)
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return _walk(float(value), path, nonfinite, convert, on_bad)
        if isinstance(value, (set, frozenset)):
            return _walk(sorted(value, key=repr), path, nonfinite, convert, on_bad)
    return _bad(path, BAD_VALUE, value, on_bad)


def _bad(path: tuple[Any, ...], problem: str, value: Any, on_bad: OnBad | None) -> Any:
    if on_bad is not None:
        return on_bad(path, problem, value)
    return as_text(value)


def as_text(value: Any) -> str:
    """The text a value JSON cannot hold is kept as, as W&B keeps it: bytes decoded as UTF-8 (bad
    bytes replaced), anything else ``str(value)`` (its type's name if even that fails)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the row
        return f"<{type(value).__name__}>"


def json_default(value: Any) -> Any:
    """One level of a value that the json module cannot write itself (its ``default`` hook): the
    rules of ``json_safe``, for the level the json module's encoder meets."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    if _is_dataclass(value):
        return _fields(value)
    return json_safe(value, on_bad=_not_json)


def _is_dataclass(value: Any) -> bool:
    """Whether ``value`` is a dataclass instance (without importing ``dataclasses``, which a run
    process need not load: a dataclass instance exists only once its module is loaded)."""
    return hasattr(type(value), "__dataclass_fields__")


def _fields(value: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _not_json(path: tuple[Any, ...], problem: str, value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON data")


def dumps(value: Any, *, ascii: bool = False, indent: int | None = None) -> str:
    """``value`` as strict JSON (RFC 8259), compact unless ``indent`` is given: NaN and the
    infinities as their texts.

    The json module's C encoder walks plain data; what it cannot write itself is opened one level
    at a time (``json_default``). Non-finite floats are rare, so they are looked for only when the
    encoder meets one.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    options = {"allow_nan": False, "separators": separators, "ensure_ascii": ascii, "indent": indent}
    try:
        return json.dumps(value, default=json_default, **options)
    except ValueError:
        return json.dumps(json_safe(value, on_bad=_not_json), **options)


# --- steps -----------------------------------------------------------------------------------------

#: Steps are signed 64-bit integers: at most 2**63 - 1.
MAX_STEP = 2**63


def is_step(value: Any) -> bool:
    """A step: a whole number (not a boolean) from 0 to 2**63-1."""
    whole = type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
    return whole and 0 <= value < MAX_STEP


def step_of(value: Any) -> int | None:
    """A step written in a text format (JSON, an output line), where ``10.0`` means step 10; None
    when ``value`` is not a step."""
    if type(value) is float and value.is_integer():
        value = int(value)
    return int(value) if is_step(value) else None


def is_new_step(step: int, last_step: int | None) -> bool:
    """W&B's rule: a row is kept only when its step comes after ``last_step``, the newest step
    already committed (None: none yet); a row at or before it is dropped."""
    return last_step is None or step > last_step


# --- metric values -------------------------------------------------------------------------------


def is_metric_value(value: Any) -> bool:
    """A value that counts for a metric: a finite real number, booleans and text excluded."""
    kind = type(value)
    if kind is float:
        return value - value == 0.0  # finite
    if kind is int:
        return True
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except (TypeError, ValueError, OverflowError):
        return False
