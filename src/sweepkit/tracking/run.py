"""A run as a training script sees it: ``Run`` with ``run.config``, ``run.log()``, ``run.summary``.

The shape and the step rules mirror W&B's: ``log(data)`` is one step; ``log(data, commit=False)``
adds to the current step; ``log(data, step=n)`` moves to step ``n`` (earlier steps are refused with a
warning) and the step is sent once a later one starts, ``commit=True`` or ``finish()``. ``log()``
checks its values and returns at once: committed rows go to the run's sink (``sinks``), which sends
them in the background.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.tracking.metric_defs import MetricDefinition, MetricDefinitions
from sweepkit.tracking.run_internals import RunInternals, run_attribute
from sweepkit.tracking.sinks import RunSink
from sweepkit.tracking.values import TextWarnings, checked_row, checked_step, jsonable
from sweepkit.values import is_new_step

_MISSING = object()
#: Values ``log()`` passes on as they are; anything else may be media, a chart or an array.
_PLAIN = (int, float, str, bool, type(None))


class RunStopped(BaseException):
    """Raised inside a function run at its next ``log()`` once the sweep asked it to stop.

    It derives from BaseException so that a training loop's ``except Exception`` does not swallow
    it; the agent catches it and records the run as ``killed``.
    """


def config_items(obj: Any, what: str = "config.update()") -> dict[str, Any]:
    """What W&B's config accepts, as a dict: a mapping, an argparse Namespace, absl flags, an OmegaConf
    config, or any object with attributes."""
    if obj is None:
        return {}
    omegaconf = sys.modules.get("omegaconf")
    if omegaconf is not None and isinstance(obj, omegaconf.DictConfig):
        return dict(omegaconf.OmegaConf.to_container(obj, resolve=True))
    if isinstance(obj, Mapping):
        return dict(obj)
    flag_values = getattr(obj, "flag_values_dict", None)  # absl.flags.FLAGS
    if callable(flag_values):
        return dict(flag_values())
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise SweepkitError(
        f"{what}: expected a dict, an argparse Namespace or absl flags, got {type(obj).__name__}"
    )


class Config(MutableMapping):
    """``run.config``: a dict with attribute access whose swept keys are locked.

    Values are kept as JSON data: anything else (a path, an enum) is kept as its text, as in W&B.

    Nested groups are plain nested dicts (``config["optimizer"]["lr"]``, ``config.optimizer["lr"]``,
    or ``config["optimizer.lr"]``). Changes are saved with the run's next ``log()`` or ``finish()``.
    A locked key takes a new value only when it agrees with the sweep's (a nested group may add
    keys the sweep does not set); anything else is ignored with a warning.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, sweep: Mapping[str, Any] | None = None):
        object.__setattr__(self, "_data", jsonable(dict(data or {})))
        object.__setattr__(self, "_sweep", dict(sweep or {}))
        object.__setattr__(self, "_dirty", False)
        object.__setattr__(self, "_finished_run", None)  # the run's id once it is finished

    @property
    def _locked(self) -> set[str]:
        return set(self._sweep)

    # mapping protocol
    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            found = _dotted_lookup(self._data, key) if isinstance(key, str) else _MISSING
            if found is _MISSING:
                raise
            return found

    def __setitem__(self, key: str, value: Any) -> None:
        self._set(key, value)

    def __delitem__(self, key: str) -> None:
        self._check_open("del config")
        if key in self._sweep:
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
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._set(key, value)

    def _check_open(self, what: str) -> None:
        if self._finished_run is not None:
            raise SweepkitError(
                f"run {self._finished_run} is finished; {what} after finish() is not recorded"
            )

    def _set(self, key: str, value: Any) -> None:
        self._check_open("a config change")
        value = jsonable(value)  # as W&B does: paths, enums and the like are kept as text
        if key in self._sweep:
            swept = self._sweep[key]
            if _agrees(value, swept):
                if isinstance(value, Mapping):
                    self._data[key] = value
                    object.__setattr__(self, "_dirty", True)
                return
            warnings.warn(
                f"config key {key!r} is set by the sweep ({swept!r}); the update to {value!r} is ignored",
                stacklevel=3,
            )
            return
        if key not in self._data and isinstance(key, str) and "." in key:
            parent = _dotted_parent(self._data, key)
            if parent is not None:
                parent[0][parent[1]] = value
                object.__setattr__(self, "_dirty", True)
                return
        self._data[key] = value
        object.__setattr__(self, "_dirty", True)

    def update(self, other: Any = None, allow_val_change: bool = False, **kw: Any) -> None:
        """Set many keys: ``other`` may be a dict, an argparse Namespace, absl flags or an object."""
        for key, value in {**config_items(other), **kw}.items():
            self._set(key, value)

    def setdefaults(self, defaults: Any) -> None:
        for key, value in config_items(defaults, "config.setdefaults()").items():
            if key not in self:
                self._set(key, value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def keys(self):  # type: ignore[override] - a plain view, as W&B's config gives
        return self._data.keys()

    def items(self):  # type: ignore[override]
        return self._data.items()


def _dotted_lookup(data: Mapping[str, Any], name: str) -> Any:
    """``a.b.c`` as a path into nested dicts (a longer flat key at any level is tried first)."""
    if name in data:
        return data[name]
    for index, char in enumerate(name):
        if char == "." and isinstance(head := data.get(name[:index]), Mapping):
            found = _dotted_lookup(head, name[index + 1 :])
            if found is not _MISSING:
                return found
    return _MISSING


def _dotted_parent(data: dict[str, Any], name: str) -> tuple[dict[str, Any], str] | None:
    """The nested dict and key that a dotted ``name`` names, when its parent dicts exist."""
    for index, char in enumerate(name):
        if char != ".":
            continue
        head = data.get(name[:index])
        if isinstance(head, dict):
            rest = name[index + 1 :]
            return _dotted_parent(head, rest) or ((head, rest) if rest else None)
    return None


def _agrees(value: Any, swept: Any) -> bool:
    """Whether ``value`` holds the sweep's value: equal, or a dict holding every swept leaf."""
    if isinstance(swept, Mapping):
        return isinstance(value, Mapping) and all(
            key in value and _agrees(value[key], item) for key, item in swept.items()
        )
    if isinstance(value, bool) or isinstance(swept, bool):
        return value is swept or (type(value) is type(swept) and value == swept)
    try:
        return bool(value == swept)
    except (TypeError, ValueError):  # arrays and the like
        return False


def _plain_dicts(value: Any) -> Any:
    """A copy of the nested dicts in ``value`` (leaves shared), so merging never changes the caller's."""
    if isinstance(value, Mapping):
        return {key: _plain_dicts(item) for key, item in value.items()}
    return value


def merge_sweep_config(
    init_config: Mapping[str, Any] | None, sweep_values: Mapping[str, Any], mode: str = "replace"
) -> dict[str, Any]:
    """``init(config=...)`` first, then the sweep's values on top.

    With ``mode="replace"`` (the documented W&B behaviour) a swept nested group replaces the whole
    dict given to ``init()``; with ``mode="deep"`` the two dicts are merged key by key. Either way:

    - a dict given to ``init()`` that already holds every value of the swept group (the program
      read them from its command line, as a Hydra app does) is kept whole;
    - a flat dotted sweep name (``optimizer.lr``) whose parent dicts ``init()`` was given is set in
      the nested dict instead of being added beside it, so the config never holds the same value
      twice (``run.config["optimizer.lr"]`` still finds it).
    """
    merged = _plain_dicts(dict(init_config or {}))
    for key, value in sweep_values.items():
        current = merged.get(key, _MISSING)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            if mode == "deep" or _agrees(current, value):
                merged[key] = _deep_merge(current, value)
                continue
        elif current is _MISSING and "." in key:
            parent = _dotted_parent(merged, key)
            if parent is not None:
                parent[0][parent[1]] = value
                continue
        merged[key] = value
    return merged


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Summary(MutableMapping):
    """``run.summary``: the last logged value of each key (or what ``define_metric`` asks for), plus
    whatever the script sets (``run.summary["best_acc"] = 0.9`` or ``run.summary.best_acc = 0.9``)."""

    def __init__(self, run: Run, data: Mapping[str, Any]):
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, other: Mapping[str, Any] | None = None, **kw: Any) -> None:  # type: ignore[override]
        values = {**dict(other or {}), **kw}
        if not values:
            return
        if self._run._finished:
            raise SweepkitError(
                f"run {self._run.id} is finished; a summary change after finish() is not recorded"
            )
        if not all(type(value) in _PLAIN for value in values.values()):
            values = self._run._history_values(values, "summary")
        self._run._save_summary(values)  # checks the values first: a bad one changes nothing
        self._data.update(values)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"


class Run(RunInternals):
    """One run: its id, config, summary and the rows it logs (see the module docstring).

    The W&B attributes a training script reads are here too: ``project``, ``entity``, ``sweep_id``,
    ``tags``, ``group``, ``notes``, ``job_type``, ``dir`` (a folder for the run's files, under its
    run folder), ``url`` and ``path``. Anything else W&B's run has is noted once and does nothing.
    """

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
        entity: str | None = None,
        run_dir: str | Path | None = None,
    ):
        self.id = run_id
        self.sweep_id = sweep_id
        self._name = name
        self.project = project
        self.entity = entity
        self.config = config
        self.summary = Summary(self, {})
        self.tags: tuple[str, ...] = ()
        self.group: str | None = None
        self.notes: str | None = None
        self.job_type: str | None = None
        self.start_time = time.time()
        self._run_dir = Path(run_dir) if run_dir is not None else Path(".sweepkit", "runs", run_id).resolve()
        self._sink = sink
        self._in_agent = in_agent
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._start = self.start_time
        self._finished = False
        self._lock = threading.Lock()
        self._metrics = MetricDefinitions()
        self._text_warnings = TextWarnings()  # one warning per key logged as text
        self._saved_globs: list[tuple[str, str | None]] = []
        if save_config:
            sink.config(config.as_dict())
        object.__setattr__(config, "_dirty", False)

    # -- W&B-shaped API -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self.rename(value)

    @property
    def step(self) -> int:
        return self._step

    @property
    def run_dir(self) -> Path:
        """The run's folder: its files, media, tables (``.sweepkit/runs/<run id>/``)."""
        return self._run_dir

    @property
    def dir(self) -> str:
        """W&B's ``run.dir``: where the script may put files to keep with the run (created on use)."""
        path = self._run_dir / "files"
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    @property
    def url(self) -> str:
        """The run's folder as a ``file://`` URL (W&B gives its web page)."""
        return self._run_dir.resolve().as_uri()

    @property
    def path(self) -> str:
        return "/".join(part for part in (self.entity, self.project, self.id) if part)

    @property
    def should_stop(self) -> bool:
        """True once the sweep asked this run to stop (early termination or cancel)."""
        return self._sink.stop_reason() is not None

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: Any = None
    ) -> None:
        """Record metrics. Without ``step`` each call is one step; with it, rows of a step merge.

        Media (``Image``, ``Table``, ...) and charts are written under the run's folder and the row
        holds a reference to the file.
        """
        if self._finished:
            raise SweepkitError(f"run {self.id} is finished; log() after finish() is not recorded")
        if step is not None:
            step = checked_step(step)
        if isinstance(data, Mapping) and not all(type(value) in _PLAIN for value in data.values()):
            data = self._history_values(data, step if step is not None else self._step)
        row = checked_row(data, self._text_warnings)
        self._metrics.sync_steps(row)
        with self._lock:
            if step is not None:
                if not is_new_step(step, self._step - 1):  # rows of the current step still merge
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
            self._metrics.remember(row)
        if self._in_agent:
            reason = self._sink.stop_reason()
            if reason is not None:
                raise RunStopped(reason)

    def define_metric(self, name: str, *args: Any, **options: Any) -> MetricDefinition:
        """W&B's ``define_metric``: what the summary keeps for a metric, and its x-axis metric (its
        arguments: ``MetricDefinitions.define``)."""
        return self._metrics.define(name, *args, **options)

    def rename(self, name: str) -> None:
        self._name = str(name)
        self._sink.name(self._name)

    def save(
        self, glob_str: str | None = None, base_path: str | None = None, policy: str = "live"
    ) -> list[str]:
        """Copy files matching ``glob_str`` into ``run.dir`` now and again when the run finishes."""
        from sweepkit.tracking.files import save_files

        if glob_str is None:
            return []
        self._saved_globs.append((str(glob_str), base_path))
        return save_files(str(glob_str), base_path, Path(self.dir))

    def log_artifact(
        self,
        artifact_or_path: Any,
        name: str | None = None,
        type: str | None = None,
        aliases: Any = None,
        **_ignored: Any,
    ) -> Any:
        """Keep an artifact's files (``.sweepkit/artifacts/<name>/v<N>/``) for later runs to use."""
        from sweepkit.tracking.files import log_artifact

        return log_artifact(self, artifact_or_path, name=name, type=type, aliases=aliases)

    def use_artifact(
        self, artifact_or_name: Any, type: str | None = None, aliases: Any = None, **_ignored: Any
    ) -> Any:
        """An artifact logged earlier on this machine (``name``, ``name:latest``, ``name:v3``, ...)."""
        from sweepkit.tracking.files import use_artifact

        return use_artifact(self, artifact_or_name, type=type)

    def finish(self, exit_code: int | None = 0, quiet: bool | None = None) -> None:
        """End the run: send what is pending (and, outside an agent, record how it ended)."""
        if self._finished:
            return
        with self._lock:
            self._commit()
            self._finished = True
        self._save_config()
        object.__setattr__(self.config, "_finished_run", self.id)
        if self._saved_globs:
            from sweepkit.tracking.files import save_files

            for glob_str, base_path in self._saved_globs:
                save_files(glob_str, base_path, Path(self.dir))
        self._sink.finish(0 if exit_code is None else int(exit_code))

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"<Run {self.id} ({self.name})>"

    def __getattr__(self, name: str) -> Any:
        """W&B run attributes sweepkit does not have: noted once, and they do nothing."""
        if name.startswith("_"):
            raise AttributeError(name)
        return run_attribute(self, name)

    # -- internals ----------------------------------------------------------------------------------
    def _describe(self, tags: Any, group: Any, notes: Any, job_type: Any) -> None:
        """``init()``'s labels: kept on the run for the script (the service has no place for them)."""
        if tags is not None:
            self.tags = (str(tags),) if isinstance(tags, str) else tuple(str(tag) for tag in tags)
        self.group = None if group is None else str(group)
        self.notes = None if notes is None else str(notes)
        self.job_type = None if job_type is None else str(job_type)

    def _history_values(self, data: Mapping[str, Any], step: int | str) -> dict[str, Any]:
        """Media, tables and charts in ``data`` written to files and replaced by references."""
        from sweepkit.tracking.media import history_values

        return history_values(data, self._run_dir, step)

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
        aggregates = self._metrics.summaries(row)
        if aggregates:
            self.summary._data.update(aggregates)
            self._sink.summary(aggregates)

    def _save_config(self) -> None:
        if self.config._dirty:
            object.__setattr__(self.config, "_dirty", False)
            self._sink.config(self.config.as_dict())

    def _save_summary(self, values: Mapping[str, Any]) -> None:
        self._sink.summary(checked_row(values, self._text_warnings))
