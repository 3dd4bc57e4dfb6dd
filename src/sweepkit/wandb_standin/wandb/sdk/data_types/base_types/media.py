"""``wandb.sdk.data_types.base_types.media`` in sweepkit's stand-in: ``Media`` and ``BatchableMedia``."""

from sweepkit.tracking.media import Media

BatchableMedia = Media

__all__ = ["BatchableMedia", "Media"]
