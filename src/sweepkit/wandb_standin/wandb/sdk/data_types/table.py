"""``wandb.sdk.data_types.table`` in sweepkit's stand-in: ``Table``."""

from sweepkit.tracking.media import Table

__all__ = ["Table"]
