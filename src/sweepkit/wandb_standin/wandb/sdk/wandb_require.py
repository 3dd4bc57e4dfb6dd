"""``wandb.sdk.wandb_require`` in sweepkit's stand-in: ``require`` (W&B's feature switches)."""

from sweepkit.wandb_facade import require

__all__ = ["require"]
