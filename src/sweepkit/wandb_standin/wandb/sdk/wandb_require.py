"""``wandb.sdk.wandb_require`` in sweepkit's stand-in: ``require`` (W&B's feature switches)."""

from sweepkit.tracking.wandb_module import require

__all__ = ["require"]
