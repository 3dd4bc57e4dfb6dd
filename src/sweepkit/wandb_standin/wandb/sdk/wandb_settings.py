"""``wandb.sdk.wandb_settings`` in sweepkit's stand-in: ``Settings`` (accepted; ``reinit`` is read)."""

from sweepkit.tracking.wandb_module import Settings

__all__ = ["Settings"]
