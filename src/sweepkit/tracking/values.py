"""What ``log()`` and ``run.config`` accept, checked at the call (the conversion itself is
``sweepkit.values.json_safe``).

A bad logged value raises one ``SweepkitError`` at the ``log()`` that brought it, naming the key;
nothing logged before or after is lost. A config value JSON cannot hold is kept as its text, as W&B
does. numpy and torch scalars and arrays become numbers and lists, without importing either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.values import BAD_KEY, is_step, json_safe


def checked_step(step: Any) -> int:
    if not is_step(step):
        raise SweepkitError(f"log(step={step!r}): expected an integer from 0 to 2**63-1")
    return int(step)


def checked_row(data: Any) -> dict[str, Any]:
    """``data`` as a storable row: text keys, JSON values (NaN and infinities kept as floats)."""
    if not isinstance(data, Mapping):
        raise SweepkitError(f"log(): expected a dict of values, got {type(data).__name__}")
    return json_safe(data, nonfinite="keep", on_bad=_refuse)


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
