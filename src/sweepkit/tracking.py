"""A run as a training script sees it: ``init()``, ``run.config``, ``run.log()``, ``run.summary``.

The shape mirrors W&B's, so existing scripts change only their import. Inside an agent, ``init()``
attaches to the run the agent claimed: in function mode through the agent's in-process hand-over,
in program mode through the environment the agent sets for the subprocess. Outside an agent it
records a standalone run in the default store.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState

# Environment a program agent gives each run (W&B's names are set too, for scripts that read them).
ENV_STORE = "SWEEPKIT_DB"
ENV_SWEEP_ID = "SWEEPKIT_SWEEP_ID"
ENV_RUN_ID = "SWEEPKIT_RUN_ID"
ENV_PARAM_PATH = "SWEEPKIT_SWEEP_PARAM_PATH"
ENV_VALUES_JSON = "SWEEPKIT_RUN_VALUES"  # JSON file of the run's sweep values, nested as the run sees them
ENV_NESTED_MERGE = "SWEEPKIT_NESTED_CONFIG"  # "replace" (default, as the seed document) or "deep"


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
        self._data[key] = value
        self._run._save_summary({key: value})

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def update(self, other: Mapping[str, Any] | None = None, **kw: Any) -> None:  # type: ignore[override]
        values = {**dict(other or {}), **kw}
        self._data.update(values)
        self._run._save_summary(values)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"


class Run:
    """One run: its id, config, history and summary, recorded in the store."""

    def __init__(self, controller, record, config: Config, *, in_agent: bool, sweep_values=None):
        self._controller = controller
        self._record = record
        self.id: str = record.id
        self.sweep_id: str | None = record.sweep_id
        self.name: str = record.name
        self.project: str | None = record.project
        self.config = config
        self.summary = Summary(self, record.summary or {})
        self._in_agent = in_agent
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._start = time.time()
        self._finished = False
        self._stop_reason: str | None = None
        self._lock = threading.Lock()
        # A run whose config is exactly its sweep values needs no write: the store derives it.
        self._save_config(force=config.as_dict() != (sweep_values or {}))

    # -- W&B-shaped API -------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self._step

    @property
    def should_stop(self) -> bool:
        """True once the sweep asked this run to stop (early termination or cancel)."""
        if self._stop_reason is None and self.sweep_id is not None and not self._finished:
            control = self._controller.heartbeat_run(self.id)
            if control.stop_requested:
                self._stop_reason = control.stop_reason or "stop requested"
        return self._stop_reason is not None

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics. Without ``step`` each call is one step; with it, rows of a step merge."""
        if self._finished:
            raise SweepkitError(f"run {self.id} is finished; log() after finish() is not recorded")
        if not isinstance(data, Mapping):
            raise SweepkitError(f"log(): expected a dict of values, got {type(data).__name__}")
        with self._lock:
            if step is not None:
                if step < self._step:
                    warnings.warn(
                        f"log(step={step}) is before the run's current step {self._step}; ignored",
                        stacklevel=2,
                    )
                    return
                if step > self._step:
                    self._flush()
                    self._step = step
                self._pending.update(data)
                if commit:
                    self._flush()
                    self._step += 1
                return
            self._pending.update(data)
            if commit is False:
                return
            self._flush()
            self._step += 1

    def finish(self, exit_code: int = 0) -> None:
        """End the run: flush what is pending and record its state."""
        if self._finished:
            return
        with self._lock:
            try:
                self._flush(check_stop=False)
            finally:
                self._finished = True
        self._save_config()
        if not self._in_agent:
            state = RunState.FINISHED if exit_code == 0 else RunState.FAILED
            self._controller.finish_run(self.id, state, exit_code=exit_code)
        _forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"<Run {self.id} ({self.name})>"

    # -- internals ----------------------------------------------------------------------------------
    def _flush(self, check_stop: bool = True) -> None:
        if not self._pending:
            return
        row = dict(self._pending)
        self._pending = {}
        now = time.time()
        row.setdefault("_timestamp", now)
        row.setdefault("_runtime", now - self._start)
        row["_step"] = self._step
        self._save_config()
        result = self._controller.log(self.id, [row], sweep_id=self.sweep_id)
        for key, value in row.items():
            if not key.startswith("_"):
                self.summary._data[key] = value
        if result.stop_requested:
            self._stop_reason = result.stop_reason or "stop requested"
            if check_stop and self._in_agent:
                raise RunStopped(self._stop_reason)

    def _save_config(self, force: bool = False) -> None:
        if force or self.config._dirty:
            self._controller.update_run(self.id, config=self.config.as_dict())
            object.__setattr__(self.config, "_dirty", False)

    def _save_summary(self, values: Mapping[str, Any]) -> None:
        self._controller.update_run(self.id, summary_update=dict(values))


# -- the current run and the agent hand-over ---------------------------------------------------------
_current: Run | None = None
_handover: tuple[Any, Any] | None = None  # (controller, run record) set by a function agent


def _set_handover(controller, record) -> None:
    global _handover
    _handover = (controller, record)


def _clear_handover() -> Run | None:
    """Forget the hand-over; returns the run that ``init()`` made of it, if any."""
    global _handover, _current
    _handover = None
    run, _current = _current, None
    return run


def _forget(run: Run) -> None:
    global _current
    if _current is run:
        _current = None


def current_run() -> Run | None:
    return _current


def init(
    config: Mapping[str, Any] | None = None,
    project: str | None = None,
    name: str | None = None,
    *,
    nested_config: str | None = None,
    **_ignored: Any,
) -> Run:
    """Start (or, inside an agent, attach to) a run and return it.

    ``nested_config`` chooses how a swept nested group meets the dict given here: ``"replace"``
    (default) or ``"deep"`` (merge); the ``SWEEPKIT_NESTED_CONFIG`` variable sets the default.
    Other W&B keyword arguments (``entity``, ``tags``, ``reinit``, ...) are accepted and ignored.
    """
    global _current
    if _current is not None and not _current._finished:
        return _current
    mode = nested_config or os.environ.get(ENV_NESTED_MERGE, "replace")
    if mode not in ("replace", "deep"):
        raise SweepkitError(f"nested_config: expected 'replace' or 'deep', got {mode!r}")
    if config is not None and not isinstance(config, Mapping):
        config = _config_from_object(config)

    if _handover is not None:
        controller, record = _handover
        in_agent = True
    elif os.environ.get(ENV_RUN_ID):
        from sweepkit.controller import open_controller

        controller = open_controller(os.environ.get(ENV_STORE))
        record = controller.get_run(os.environ[ENV_RUN_ID])
        in_agent = True
        _install_quiet_stop_hook()
    else:
        from sweepkit.controller import open_controller

        controller = open_controller(os.environ.get(ENV_STORE))
        record = controller.start_standalone_run(project=project, name=name, config=dict(config or {}))
        _current = Run(controller, record, Config(config or {}), in_agent=False)
        return _current

    sweep_values = _values_from_agent(record) if _handover is None else None
    if sweep_values is None:
        sweep_values = controller.sweep_values(record)
    merged = merge_sweep_config(config, sweep_values, mode)
    _current = Run(
        controller,
        record,
        Config(merged, locked=set(sweep_values)),
        in_agent=in_agent,
        sweep_values=sweep_values,
    )
    if name:
        controller.update_run(record.id, name=name)
        _current.name = name
    return _current


def _install_quiet_stop_hook() -> None:
    """In a program run, an unhandled RunStopped ends the process with one line, not a traceback."""
    previous = sys.excepthook
    if getattr(previous, "_sweepkit_quiet_stop", False):
        return

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, RunStopped):
            print(f"sweepkit: run stopped by the sweep: {exc}", file=sys.stderr)
            return
        previous(exc_type, exc, tb)

    hook._sweepkit_quiet_stop = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def _values_from_agent(record) -> dict[str, Any] | None:
    """The sweep values a program agent wrote for this run (saves the child loading the config)."""
    path = os.environ.get(ENV_VALUES_JSON)
    if not path or os.environ.get(ENV_RUN_ID) != record.id:
        return None
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _config_from_object(obj: Any) -> dict[str, Any]:
    """Accept an argparse Namespace or any object with ``__dict__``, as W&B does."""
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise SweepkitError(f"init(config=...): expected a dict, got {type(obj).__name__}")


def _require_run(what: str) -> Run:
    if _current is None:
        raise SweepkitError(f"call sweepkit.init() before sweepkit.{what}")
    return _current


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    _require_run("log()").log(data, step=step, commit=commit)


def finish(exit_code: int = 0) -> None:
    if _current is not None:
        _current.finish(exit_code)


class _ConfigProxy(MutableMapping):
    """``sweepkit.config``: the current run's config (empty and read-only before ``init()``)."""

    def _target(self) -> MutableMapping:
        return _current.config if _current is not None else {}

    def __getitem__(self, key):
        return self._target()[key]

    def __setitem__(self, key, value):
        _require_run("config")
        self._target()[key] = value

    def __delitem__(self, key):
        del self._target()[key]

    def __iter__(self):
        return iter(self._target())

    def __len__(self):
        return len(self._target())

    def __getattr__(self, key):
        try:
            return self._target()[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def update(self, other=None, **kw):  # type: ignore[override]
        _require_run("config.update()").config.update(other, **kw)

    def __repr__(self) -> str:
        return repr(self._target())


config = _ConfigProxy()


def _excepthook_finish() -> None:  # pragma: no cover - exercised by subprocess tests
    """Finish a standalone run left open when the script ends."""
    if _current is not None and not _current._finished and not _current._in_agent:
        failed = getattr(sys, "last_value", None) is not None
        _current.finish(exit_code=1 if failed else 0)
    elif _current is not None and not _current._finished:
        with _current._lock:
            _current._flush(check_stop=False)
        _current._save_config()


import atexit  # noqa: E402

atexit.register(_excepthook_finish)
