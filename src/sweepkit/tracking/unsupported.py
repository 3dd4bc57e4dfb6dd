"""W&B names sweepkit does not implement: a note once per name, then an object that does nothing.

A W&B script must never crash on an attribute that only matters on W&B's servers
(``wandb.run.log_code()``, ``wandb.sklearn.plot_classifier(...)``): ``unsupported(name)`` prints
``sweepkit: wandb.X is not supported here; it does nothing`` the first time and returns a
``NoOp``, which can be called, indexed, iterated (as nothing), used as a context manager or
decorator, and is false.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_noted: set[str] = set()
_lock = threading.Lock()


def note_once(key: str, message: str) -> None:
    """Print ``sweepkit: message`` to stderr the first time ``key`` is seen in this process."""
    with _lock:
        if key in _noted:
            return
        _noted.add(key)
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)


def unsupported(name: str) -> NoOp:
    note_once(name, f"{name} is not supported by sweepkit; it does nothing here")
    return NoOp(name)


class NoOp:
    """Stands in for anything: every call, attribute or item is another ``NoOp`` (see the module)."""

    def __init__(self, name: str = "") -> None:
        object.__setattr__(self, "_name", name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Used as a bare decorator (@wandb.something), hand back the decorated function.
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], NoOp):
            return args[0]
        return self

    def __getattr__(self, name: str) -> NoOp:
        if name.startswith("__"):
            raise AttributeError(name)
        return NoOp(f"{self._name}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __getitem__(self, key: Any) -> NoOp:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def __enter__(self) -> NoOp:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return f"<sweepkit: {self._name} does nothing>"
