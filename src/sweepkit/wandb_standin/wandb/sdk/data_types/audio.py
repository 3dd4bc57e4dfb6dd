"""``wandb.sdk.data_types.audio`` in sweepkit's stand-in: ``Audio``."""

from sweepkit.tracking.media import Audio

__all__ = ["Audio"]
