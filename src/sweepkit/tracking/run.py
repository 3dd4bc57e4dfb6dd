"""A run as a training script sees it: ``Run`` with ``run.config``, ``run.log()``, ``run.summary``.

The shape and the step rules mirror W&B's: ``log(data)`` is one step; ``log(data, commit=False)``
adds to the current step; ``log(data, step=n)`` moves to step ``n`` (earlier steps are refused with a
warning) and the step is sent once a later one starts, ``commit=True`` or ``finish()``. ``log()``
checks its values and returns at once: committed rows go to the run's sink (``sinks``), which sends
them in the background.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.tracking.sinks import RunSink
from sweepkit.tracking.values import checked_row, checked_step


class RunStopped(BaseException):
    """Raised inside a function run at its next ``log()`` once the sweep asked it to stop.

    It derives from BaseException so that a training loop's ``except Exception`` does not swallow
    it; the agent catches it and records the run as ``killed``.
    """


class Config(MutableMapping):
    """``run.config``: a dict with attribute access whose swept keys are locked.

    Nested groups are plain nested dicts (``config["optimizer"]["lr"]``, or
    ``config.optimizer["lr"]``). Changes are saved with the run's next ``log()`` or ``finish()``.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, locked: set[str] | None = None):
        object.__setattr__(self, "_data", dict(data or {}))
        object.__setattr__(self, "_locked", set(locked or ()))
        object.__setattr__(self, "_dirty", False)

    # mapping protocol
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._set(key, value)

    def __delitem__(self, key: str) -> None:
        if key in self._locked:
            warnings.warn(f"config key {key!r} is set by the sweep; not deleted", stacklevel=2)
            return
        del self._data[key]
        object.__setattr__(self, "_dirty", True)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Config({self._data!r})"

    # attribute access
    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._set(key, value)

    def _set(self, key: str, value: Any) -> None:
        if key in self._locked:
            if self._data.get(key) != value:
                warnings.warn(
                    f"config key {key!r} is set by the sweep ({self._data.get(key)!r}); "
                    f"the update to {value!r} is ignored",
                    stacklevel=3,
                )
            return
        self._data[key] = value
        object.__setattr__(self, "_dirty", True)

    def update(
        self, other: Mapping[str, Any] | None = None, allow_val_change: bool = False, **kw: Any
    ) -> None:
        for key, value in {**dict(other or {}), **kw}.items():
            self._set(key, value)

    def setdefaults(self, defaults: Mapping[str, Any]) -> None:
        for key, value in defaults.items():
            if key not in self._data:
                self._set(key, value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)


def merge_sweep_config(
    init_config: Mapping[str, Any] | None, sweep_values: Mapping[str, Any], mode: str = "replace"
) -> dict[str, Any]:
    """``init(config=...)`` first, then the sweep's values on top.

    With ``mode="replace"`` (the documented W&B behaviour) a swept nested group replaces the whole
    dict given to ``init()``; with ``mode="deep"`` the two dicts are merged key by key.
    """
    merged = dict(init_config or {})
    for key, value in sweep_values.items():
        if mode == "deep" and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_sweep_config(merged[key], value, mode)
        else:
            merged[key] = value
    return merged


class Summary(MutableMapping):
    """``run.summary``: the last logged value of each key, plus whatever the script sets."""

    def __init__(self, run: Run, data: Mapping[str, Any]):
        self._run = run
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._run._save_summary({key: value})  # checks the value first: a bad one changes nothing
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def update(self, other: Mapping[str, Any] | None = None, **kw: Any) -> None:  # type: ignore[override]
        values = {**dict(other or {}), **kw}
        self._run._save_summary(values)
        self._data.update(values)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"


class Run:
    """One run: its id, config, summary and the rows it logs (see the module docstring)."""

    def __init__(
        self,
        *,
        run_id: str,
        name: str,
        sweep_id: str | None,
        project: str | None,
        config: Config,
        sink: RunSink,
        in_agent: bool,
        save_config: bool,
    ):
        self.id = run_id
        self.sweep_id = sweep_id
        self.name = name
        self.project = project
        self.config = config
        self.summary = Summary(self, {})
        self._sink = sink
        self._in_agent = in_agent
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._start = time.time()
        self._finished = False
        self._lock = threading.Lock()
        if save_config:
            sink.config(config.as_dict())
        object.__setattr__(config, "_dirty", False)

    # -- W&B-shaped API -------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self._step

    @property
    def should_stop(self) -> bool:
        """True once the sweep asked this run to stop (early termination or cancel)."""
        return self._sink.stop_reason() is not None

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics. Without ``step`` each call is one step; with it, rows of a step merge."""
        if self._finished:
            raise SweepkitError(f"run {self.id} is finished; log() after finish() is not recorded")
        row = checked_row(data)
        if step is not None:
            step = checked_step(step)
        with self._lock:
            if step is not None:
                if step < self._step:
                    warnings.warn(
                        f"log(step={step}) is before the run's current step {self._step}; ignored",
                        stacklevel=2,
                    )
                    return
                if step > self._step:
                    self._commit()
                    self._step = step
                self._pending.update(row)
                if commit:
                    self._commit()
                    self._step += 1
            else:
                self._pending.update(row)
                if commit is not False:
                    self._commit()
                    self._step += 1
        if self._in_agent:
            reason = self._sink.stop_reason()
            if reason is not None:
                raise RunStopped(reason)

    def rename(self, name: str) -> None:
        self.name = str(name)
        self._sink.name(self.name)

    def finish(self, exit_code: int = 0) -> None:
        """End the run: send what is pending (and, outside an agent, record how it ended)."""
        if self._finished:
            return
        with self._lock:
            self._commit()
            self._finished = True
        self._save_config()
        self._sink.finish(exit_code)
        _forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"<Run {self.id} ({self.name})>"

    # -- internals ----------------------------------------------------------------------------------
    def _commit(self) -> None:
        """Send the pending row as step ``self._step`` (caller holds the lock)."""
        if not self._pending:
            return
        row, self._pending = self._pending, {}
        now = time.time()
        row.setdefault("_timestamp", now)
        row.setdefault("_runtime", now - self._start)
        row["_step"] = self._step
        self._save_config()
        self._sink.rows([row])
        for key, value in row.items():
            if not key.startswith("_"):
                self.summary._data[key] = value

    def _save_config(self) -> None:
        if self.config._dirty:
            object.__setattr__(self.config, "_dirty", False)
            self._sink.config(self.config.as_dict())

    def _save_summary(self, values: Mapping[str, Any]) -> None:
        self._sink.summary(checked_row(values))


def _forget(run: Run) -> None:
    from sweepkit import tracking

    tracking._forget(run)
