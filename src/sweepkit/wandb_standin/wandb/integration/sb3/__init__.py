"""``wandb.integration.sb3`` in sweepkit's stand-in: W&B's Stable-Baselines3 callback, written for sweepkit.

``WandbCallback`` puts the algorithm's settings in the run's config (``setdefaults``: the sweep's and
the script's values stay), calls ``wandb.watch`` on the policy when ``gradient_save_freq`` is set, and
saves the model to ``model_save_path`` (every ``model_save_freq`` steps and at the end) with
``wandb.save``. W&B gets SB3's own logged values (``rollout/ep_rew_mean``, ``train/loss``, ...) by
reading its TensorBoard files (``init(sync_tensorboard=True)``); sweepkit takes them straight from
SB3's logger, under the same names with ``global_step``, whether or not TensorBoard is used.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

import wandb

logger = logging.getLogger(__name__)


class _RunWriter(KVWriter):
    """An output of SB3's logger: each dump of scalar values becomes one row of the run."""

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        row = {}
        for key, value in key_values.items():
            excluded = key_excluded.get(key) or ()
            if "tensorboard" in excluded or isinstance(value, (str, bool)):
                continue
            if isinstance(value, (int, float)) or getattr(value, "shape", None) == ():
                row[key] = value
        if row:
            wandb.log({**row, "global_step": step})

    def close(self) -> None:
        pass


class WandbCallback(BaseCallback):
    """See the module docstring."""

    def __init__(
        self,
        verbose: int = 0,
        model_save_path: str | None = None,
        model_save_freq: int = 0,
        gradient_save_freq: int = 0,
        log: str | None = "all",
    ) -> None:
        super().__init__(verbose)
        if wandb.run is None:
            raise wandb.Error("You must call wandb.init() before WandbCallback()")
        if log not in ("gradients", "parameters", "all", None):
            wandb.termwarn(
                "`log` must be one of `None`, 'gradients', 'parameters', or 'all', falling back to 'all'"
            )
            log = "all"
        self.model_save_path = model_save_path
        self.model_save_freq = model_save_freq
        self.gradient_save_freq = gradient_save_freq
        self.log = log
        if model_save_path is not None:
            os.makedirs(model_save_path, exist_ok=True)
            self.path = os.path.join(model_save_path, "model.zip")
        elif model_save_freq:
            raise ValueError("to use the `model_save_freq` you have to set the `model_save_path` parameter")

    def _init_callback(self) -> None:
        settings: dict[str, Any] = {"algo": type(self.model).__name__}
        for key, value in vars(self.model).items():
            if key in wandb.config or key in settings:
                continue
            settings[key] = value if type(value) in (float, int, str) else str(value)
        if self.gradient_save_freq > 0:
            wandb.watch(self.model.policy, log_freq=self.gradient_save_freq, log=self.log)
        wandb.config.setdefaults(settings)
        formats = self.model.logger.output_formats
        if not any(isinstance(output, _RunWriter) for output in formats):
            formats.append(_RunWriter())

    def _on_step(self) -> bool:
        if (
            self.model_save_freq > 0
            and self.model_save_path is not None
            and self.n_calls % self.model_save_freq == 0
        ):
            self.save_model()
        return True

    def _on_training_end(self) -> None:
        if self.model_save_path is not None:
            self.save_model()

    def save_model(self) -> None:
        self.model.save(self.path)
        wandb.save(self.path, base_path=self.model_save_path)
        if self.verbose > 1:
            logger.info(f"Saving model checkpoint to {self.path}")


__all__ = ["WandbCallback"]
