"""``wandb.sdk.wandb_summary`` in sweepkit's stand-in: a run's ``Summary``."""

from sweepkit.tracking.run import Summary

__all__ = ["Summary"]
