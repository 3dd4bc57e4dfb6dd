"""The private parts of a W&B run that the frameworks' own W&B integrations call, on sweepkit's ``Run``.

Integrations reach past W&B's public API: transformers' ``WandbCallback`` and torchtune call
``run._label(...)``, Lightning's ``WandbLogger`` pickles ``run._attach_id`` and later calls
``wandb._attach(id)``, others call ``run._set_config_wandb``, ``run._log``, ``run._is_finished`` or
read ``run._settings``. ``RunInternals`` (a base class of ``Run``) answers them: labels and W&B's
hidden ``_wandb`` config section are kept on the run object (they describe the client, not the
experiment); ``_log`` is ``log``; ``_settings`` and ``settings`` describe the run as W&B's settings do.
"""

from __future__ import annotations

from typing import Any


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
