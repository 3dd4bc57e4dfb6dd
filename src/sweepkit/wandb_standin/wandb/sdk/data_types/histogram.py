"""``wandb.sdk.data_types.histogram`` in sweepkit's stand-in: ``Histogram``."""

from sweepkit.tracking.media import Histogram

__all__ = ["Histogram"]
