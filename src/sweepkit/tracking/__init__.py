"""``sweepkit.init()``, ``log()``, ``finish()`` and ``config``: the W&B-shaped run API of a training script.

``init()`` attaches to the run an agent claimed, or starts one of its own:

- in a function agent, to the run the agent handed the call in its run context
  (``sweepkit.tracking.context``; reports go through the agent's reporter to the service);
- in a program run, to the run named by ``SWEEPKIT_RUN_FILE`` (reports go to the agent through the
  events file: the process holds no credentials and imports no database or numeric stack);
- anywhere else, to a new run outside any sweep in the default store.

Which run ``log()``, ``config`` and ``current_run()`` (``wandb.run``) mean is the run context's.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from sweepkit import env
from sweepkit.errors import SweepkitError
from sweepkit.tracking import reinit as reinit_rules
from sweepkit.tracking.context import PROCESS_CONTEXT, RunContext, run_context
from sweepkit.tracking.run import Config, Run, RunStopped, Summary, config_items, merge_sweep_config
from sweepkit.tracking.sinks import EventFileSink, ServiceSink
from sweepkit.tracking.unsupported import note_once
from sweepkit.tracking.values import jsonable

__all__ = [
    "Config",
    "Run",
    "RunContext",
    "RunStopped",
    "Summary",
    "attach",
    "config",
    "current_run",
    "current_summary",
    "finish",
    "init",
    "log",
]


def current_run() -> Run | None:
    """``wandb.run``: the run context's current run, or None."""
    return run_context().run


def current_summary() -> Summary | dict[str, Any]:
    """``wandb.summary``: the current run's summary (empty before ``init()``)."""
    run = current_run()
    return run.summary if run is not None else {}


def init(
    config: Any = None,
    project: str | None = None,
    name: str | None = None,
    *,
    nested_config: str | None = None,
    entity: str | None = None,
    tags: Any = None,
    group: str | None = None,
    notes: str | None = None,
    job_type: str | None = None,
    config_exclude_keys: Any = None,
    config_include_keys: Any = None,
    reinit: Any = None,
    resume: Any = None,
    settings: Any = None,
    **_ignored: Any,
) -> Run:
    """Start (or, inside an agent, attach to) a run and return it.

    ``nested_config`` chooses how a swept nested group meets the dict given here: ``"replace"``
    (default) or ``"deep"`` (merge); the ``SWEEPKIT_NESTED_CONFIG`` variable sets the default.
    ``config`` may be a dict, an argparse Namespace, absl flags or an OmegaConf config, as in W&B.
    ``tags``, ``group``, ``notes`` and ``job_type`` are kept on the run. Called again, it follows W&B's
    ``reinit`` rules (``sweepkit.tracking.reinit``), and inside an agent never writes into the run it
    was handed once that run is finished. Every other W&B keyword argument (``mode``, ``dir``, ``id``,
    ``settings``, ...) is accepted and ignored: inside an agent the run is the one the agent claimed,
    and nothing goes over a network.
    """
    context = run_context()
    rule = reinit_rules.mode_of(reinit, settings)
    previous = context.runs.most_recent_active()
    if previous is not None:
        if rule == reinit_rules.RETURN_PREVIOUS:
            if resume == "must":
                raise SweepkitError(
                    "init(resume='must'): cannot resume a run while another run is active; finish it "
                    "with run.finish(), or use reinit='create_new'"
                )
            return previous
        if rule == reinit_rules.FINISH_PREVIOUS:
            for run in context.runs.active():
                run.finish()
    if _ignored.get("sync_tensorboard"):
        note_once(
            "sync_tensorboard",
            "init(sync_tensorboard=True): sweepkit does not read TensorBoard files; log metrics with wandb.log()",
        )
    mode = nested_config or os.environ.get(env.NESTED_CONFIG, "replace")
    if mode not in ("replace", "deep"):
        raise SweepkitError(f"nested_config: expected 'replace' or 'deep', got {mode!r}")
    config = config_items(config, "init(config=...)")
    if config_include_keys:
        config = {k: v for k, v in config.items() if k in set(config_include_keys)}
    if config_exclude_keys:
        config = {k: v for k, v in config.items() if k not in set(config_exclude_keys)}

    assignment = context.assignment
    if assignment is not None:
        run_id, run_name, sweep_id = assignment.run_id, assignment.run_name, assignment.sweep_id
        run_project, run_entity, sweep_values = assignment.project, assignment.entity, assignment.config
    elif os.environ.get(env.RUN_FILE):
        run_file = _read_run_file(os.environ[env.RUN_FILE])
        run_id, run_name, sweep_id = run_file["run_id"], run_file["run_name"], run_file["sweep_id"]
        run_project, run_entity = run_file.get("project"), run_file.get("entity")
        sweep_values = run_file.get("config") or {}
    else:
        run = _standalone_run(config, project, name)
        run._describe(tags, group, notes, job_type)
        context.started(run, current=rule != reinit_rules.CREATE_NEW)
        return run

    if context.runs.was_finished(run_id):
        raise reinit_rules.second_run_refused(run_id, sweep_id, f"run {run_id} is finished")
    if any(run.id == run_id for run in context.runs.active()):
        raise reinit_rules.second_run_refused(run_id, sweep_id, "reinit='create_new' asks for a second run")
    if assignment is not None:
        sink = context.sink
        run_dir = None
    else:
        sink = EventFileSink(os.environ[env.EVENTS_FILE])
        run_dir = Path(os.environ[env.RUN_FILE]).parent
        _install_program_run_hooks()
    merged = merge_sweep_config(config, sweep_values, mode)
    run = Run(
        run_id=run_id,
        name=run_name,
        sweep_id=sweep_id,
        project=run_project or project,
        entity=run_entity or entity,
        config=Config(merged, sweep=sweep_values),
        sink=sink,
        in_agent=True,
        # A run whose config is exactly its sweep values needs no write: the service derives it.
        save_config=merged != sweep_values,
        run_dir=run_dir,
    )
    run._describe(tags, group, notes, job_type)
    if name:
        run.rename(name)
    # It becomes ``wandb.run`` unless ``reinit='create_new'`` (as in W&B).
    context.started(run, current=rule != reinit_rules.CREATE_NEW)
    return run


def attach(run_id: str | None = None) -> Run:
    """The active run with this id (any, without one): a run of this run context, or, in a process a
    program run started, the run its agent handed over (``wandb._attach``, which Lightning's
    ``WandbLogger`` calls after being pickled)."""
    context = run_context()
    for candidate in [context.run, *context.runs.active()]:
        if candidate is not None and (run_id is None or candidate.id == run_id):
            return candidate
    run_file = os.environ.get(env.RUN_FILE)
    if run_id is not None and run_file:
        try:
            with open(run_file, encoding="utf-8") as fh:
                handed = json.load(fh).get("run_id")
        except (OSError, ValueError):
            handed = None
        if handed == run_id:
            return init()
    raise SweepkitError(f"wandb._attach({run_id!r}): no run with that id is active in this process")


def _standalone_run(config: dict[str, Any], project: str | None, name: str | None) -> Run:
    from sweepkit.connect import connect
    from sweepkit.run_reporter import RunReporter

    service = connect(create=True)
    info = service.start_run(project=project, name=name, config=jsonable(config))
    reporter = RunReporter(service, info.id, on_note=_warn)
    return Run(
        run_id=info.id,
        name=info.name or info.id,
        sweep_id=None,
        project=info.project,
        config=Config(config),
        sink=ServiceSink(reporter, service=service, standalone=True),
        in_agent=False,
        save_config=False,
    )


def _read_run_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise SweepkitError(f"{env.RUN_FILE}={path}: cannot read the run's assignment: {exc}") from None


def _warn(message: str) -> None:
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)


def _install_program_run_hooks() -> None:
    """In a program run: an unhandled RunStopped ends the process with one line, not a traceback;
    SIGTERM (the agent stopping the run) first writes what is buffered, then ends it as before."""
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
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
        signal.SIG_DFL,
        None,
    ):

        def on_term(signum, frame):
            _flush_active()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_term)


def _flush_active() -> None:
    """Send what every active run of the process's context holds (the process is ending)."""
    for run in PROCESS_CONTEXT.runs.active():
        try:
            with run._lock:
                run._commit()
            run._save_config()
            run._sink.flush()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


def _require_run(what: str) -> Run:
    context = run_context()
    run = context.run
    if run is None:
        ended = " (the run started before is finished)" if context.runs.was_finished_any() else ""
        raise SweepkitError(f"call sweepkit.init() before sweepkit.{what}{ended}")
    return run


def log(
    data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: Any = None
) -> None:
    """Record metrics in the current run (``sync``, a W&B argument, is accepted and ignored)."""
    _require_run("log()").log(data, step=step, commit=commit)


def finish(exit_code: int | None = 0, quiet: bool | None = None) -> None:
    run = current_run()
    if run is not None:
        run.finish(exit_code)


class _ConfigProxy(MutableMapping):
    """``sweepkit.config``: the current run's config (empty and read-only before ``init()``)."""

    def _target(self) -> MutableMapping:
        run = current_run()
        return run.config if run is not None else {}

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
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._target()[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key, value):
        self[key] = value

    def update(self, other=None, allow_val_change=False, **kw):  # type: ignore[override]
        _require_run("config.update()").config.update(other, **kw)

    def setdefaults(self, defaults):
        _require_run("config.setdefaults()").config.setdefaults(defaults)

    def as_dict(self):
        return dict(self._target())

    def __repr__(self) -> str:
        return repr(self._target())


config = _ConfigProxy()


def _at_exit() -> None:  # pragma: no cover - exercised by subprocess tests
    """A standalone run left open ends with the script; a run in an agent sends what is pending."""
    failed = getattr(sys, "last_value", None) is not None
    for run in PROCESS_CONTEXT.runs.active():
        if not run._in_agent:
            run.finish(exit_code=1 if failed else 0)
    _flush_active()
    for run in PROCESS_CONTEXT.runs.active():
        run._sink.drain()  # a full disk: the last chance, or one line saying what was not written


import atexit  # noqa: E402

atexit.register(_at_exit)
