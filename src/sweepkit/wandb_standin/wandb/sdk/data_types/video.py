"""``wandb.sdk.data_types.video`` in sweepkit's stand-in: ``Video``."""

from sweepkit.tracking.media import Video

__all__ = ["Video"]
