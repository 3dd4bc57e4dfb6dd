"""``wandb.sdk.wandb_settings`` in sweepkit's stand-in: ``Settings`` (accepted; ``reinit`` is read)."""

from sweepkit.wandb_facade import Settings

__all__ = ["Settings"]
