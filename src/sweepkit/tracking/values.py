"""What ``log()`` and ``run.config`` accept, checked at the call (the conversion itself is
``sweepkit.values.json_safe``).

A logged value JSON cannot hold (a path, a complex number, bytes, any object) is stored as its text,
as W&B stores it, with one warning per key (``on_text``); a key that is not text raises one
``SweepkitError`` at the ``log()`` that brought it (W&B refuses it too); nothing logged before or
after is lost. A config value JSON cannot hold is kept as its text, as W&B
does. numpy and torch scalars and arrays become numbers and lists, without importing either.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.values import BAD_KEY, BAD_VALUE, as_text, is_step, json_safe


def checked_step(step: Any) -> int:
    if not is_step(step):
        raise SweepkitError(f"log(step={step!r}): expected an integer from 0 to 2**63-1")
    return int(step)


#: ``on_text(key, value)``: a logged value at ``key`` (``m.a[0]``) was kept as its text.
OnText = Callable[[str, Any], None]


def checked_row(data: Any, on_text: OnText | None = None) -> dict[str, Any]:
    """``data`` as a storable row: text keys, JSON values (NaN and infinities kept as floats).

    With ``on_text``, a value JSON cannot hold becomes its text (``as_text``) and ``on_text`` is told;
    without it, such a value is refused (a metrics line names it)."""
    if not isinstance(data, Mapping):
        raise SweepkitError(f"log(): expected a dict of values, got {type(data).__name__}")
    if on_text is None:
        return json_safe(data, nonfinite="keep", on_bad=_refuse)

    def as_text_or_refuse(path: tuple[Any, ...], problem: str, value: Any) -> Any:
        if problem != BAD_VALUE:
            return _refuse(path, problem, value)
        on_text(_path_text(path), value)
        return as_text(value)

    return json_safe(data, nonfinite="keep", on_bad=as_text_or_refuse)


class TextWarnings:
    """``on_text`` for one run: one warning per key whose value was kept as text."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __call__(self, key: str, value: Any) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        warnings.warn(
            f"log(): {key!r} is a {type(value).__name__}, which is not a number; it is stored as its "
            "text, as W&B stores it (said once per key)",
            stacklevel=2,
        )


def _refuse(path: tuple[Any, ...], problem: str, value: Any) -> Any:
    if problem == BAD_KEY:
        where = f"{_path_text(path[:-1])}.{value!r}" if len(path) > 1 else repr(value)
        raise SweepkitError(f"log(): key {where} is {type(value).__name__}; keys must be text")
    raise SweepkitError(
        f"log(): {_path_text(path)!r} is a {type(value).__name__}, which cannot be stored; log numbers, "
        "text, booleans, lists or dicts of them"
    )


def _path_text(path: tuple[Any, ...]) -> str:
    """``("m", "a", 0)`` as ``m.a[0]``."""
    text = str(path[0]) if path else ""
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def jsonable(value: Any) -> Any:
    """``value`` as JSON data for ``run.config``, never failing: what cannot be stored becomes text.

    W&B keeps any config value (paths, enums, classes from argparse or absl flags); sweepkit keeps
    numbers, text, booleans, lists and dicts as they are and anything else as ``str(value)``.
    """
    return json_safe(value, nonfinite="keep")
