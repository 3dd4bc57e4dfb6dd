"""``wandb.sdk.data_types.html`` in sweepkit's stand-in: ``Html``."""

from sweepkit.tracking.media import Html

__all__ = ["Html"]
