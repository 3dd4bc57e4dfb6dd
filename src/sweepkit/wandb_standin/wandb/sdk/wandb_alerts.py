"""``wandb.sdk.wandb_alerts`` in sweepkit's stand-in: ``AlertLevel``."""

from sweepkit.wandb_facade import AlertLevel

__all__ = ["AlertLevel"]
