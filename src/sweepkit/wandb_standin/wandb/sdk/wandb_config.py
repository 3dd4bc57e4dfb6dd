"""``wandb.sdk.wandb_config`` in sweepkit's stand-in: a run's ``Config``."""

from sweepkit.tracking.run import Config

__all__ = ["Config"]
