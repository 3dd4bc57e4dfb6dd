"""The parts of a W&B run beyond sweepkit's run API: the private calls integrations make, and the
public attributes that mean little without W&B's servers.

Integrations reach past W&B's public API: transformers' ``WandbCallback`` and torchtune call
``run._label(...)``, Lightning's ``WandbLogger`` pickles ``run._attach_id`` and later calls
``wandb._attach(id)``, others call ``run._set_config_wandb``, ``run._log``, ``run._is_finished`` or
read ``run._settings``. ``RunInternals`` (a base class of ``Run``) answers them: labels and W&B's
hidden ``_wandb`` config section are kept on the run object (they describe the client, not the
experiment); ``_log`` is ``log``; ``_settings`` and ``settings`` describe the run as W&B's settings do.
``run_attribute(run, name)`` answers the other W&B run attributes (``run.watch``, ``run.alert``,
``run.get_url``, ``run.offline``, ...); ``watch``, ``unwatch`` and ``alert`` are also the ``wandb``
module's.
"""

from __future__ import annotations

import sys
from typing import Any

from sweepkit.tracking.unsupported import note_once, unsupported


class RunInternals:
    """W&B's private run calls used by integrations (see the module docstring)."""

    id: str
    _finished: bool

    def _label(
        self, code: str | None = None, repo: str | None = None, code_version: str | None = None, **more: Any
    ) -> None:
        """Which integration drives the run (``code="transformers_trainer"``): kept in ``run._labels``."""
        given = {"code": code, "repo": repo, "code_version": code_version, **more}
        self.__dict__.setdefault("_labels", {}).update({k: v for k, v in given.items() if v is not None})

    @property
    def _attach_id(self) -> str:
        """What ``wandb._attach()`` takes to find this run again (its id)."""
        return self.id

    def _set_config_wandb(self, key: str, value: Any) -> None:
        """W&B's hidden ``_wandb`` config section: kept on the run object, not in its config."""
        self.__dict__.setdefault("_wandb_config", {})[str(key)] = value

    @property
    def _is_finished(self) -> bool:
        return self._finished

    def _log(self, data: Any, step: int | None = None, commit: bool | None = None) -> None:
        self.log(data, step=step, commit=commit)  # type: ignore[attr-defined]

    @property
    def _settings(self) -> RunSettings:
        return RunSettings(self)

    def _get_path(self) -> str:
        return self.path  # type: ignore[attr-defined]


class RunSettings:
    """``run.settings`` / ``run._settings``: the W&B settings integrations read, with this run's values.

    Any other setting reads as None, as an unset W&B setting does.
    """

    mode = "online"
    _offline = False
    _noop = False
    disabled = False
    resume = None
    reinit = "default"

    def __init__(self, run: Any) -> None:
        self._run = run
        self.run_id = run.id
        self.run_name = run.name
        self.project = run.project
        self.entity = run.entity
        self.sweep_id = run.sweep_id
        self.run_group = run.group
        self.run_job_type = run.job_type
        self.run_notes = run.notes
        self.run_tags = run.tags
        self.sync_dir = str(run.run_dir)
        self.root_dir = str(run.run_dir.parent.parent.parent)

    @property
    def files_dir(self) -> str:
        return self._run.dir

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def watch(
    models: Any = None,
    criterion: Any = None,
    log: str | None = "gradients",
    log_freq: int = 1000,
    idx: int | None = None,
    log_graph: bool = False,
) -> None:
    """Accepted; sweepkit records no gradients or parameters (the model trains as usual)."""
    note_once(
        "wandb.watch", "wandb.watch(): sweepkit does not record gradients or parameters; training goes on"
    )


def unwatch(models: Any = None) -> None:
    """Nothing to undo (see ``watch``)."""


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """Printed to the run's output (which its agent keeps in ``output.log``)."""
    label = getattr(level, "value", level) or "INFO"
    print(f"sweepkit: alert [{label}] {title}: {text}", file=sys.stderr, flush=True)


class AlertLevel:
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


#: W&B run attributes that need no more than this: values, or calls mapped onto sweepkit's.
_RUN_ATTRIBUTES = {
    "resumed": lambda run: False,
    "offline": lambda run: False,
    "disabled": lambda run: False,
    "settings": RunSettings,
    "watch": lambda run: watch,
    "unwatch": lambda run: unwatch,
    "alert": lambda run: alert,
    "get_url": lambda run: lambda: run.url,
    "get_project_url": lambda run: lambda: None,
    "get_sweep_url": lambda run: lambda: None,
    "project_name": lambda run: lambda: run.project,
}


def run_attribute(run: Any, name: str) -> Any:
    """``run.<name>`` for a W&B run attribute sweepkit's ``Run`` has no attribute for."""
    found = _RUN_ATTRIBUTES.get(name)
    return found(run) if found is not None else unsupported(f"wandb.Run.{name}")
