"""``wandb.sdk.lib.config_util`` in sweepkit's stand-in: ``ConfigError``, which transformers'
``WandbCallback`` catches around config changes (sweepkit warns instead of raising for those)."""

from sweepkit.errors import SweepkitError


class ConfigError(SweepkitError):
    """A config change W&B refuses."""


__all__ = ["ConfigError"]
