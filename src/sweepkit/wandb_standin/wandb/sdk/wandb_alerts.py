"""``wandb.sdk.wandb_alerts`` in sweepkit's stand-in: ``AlertLevel``."""

from sweepkit.tracking.wandb_module import AlertLevel

__all__ = ["AlertLevel"]
