"""``wandb.sdk.data_types.image`` in sweepkit's stand-in: ``Image``."""

from sweepkit.tracking.media import Image

__all__ = ["Image"]
