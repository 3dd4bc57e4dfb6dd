"""``wandb.sdk.data_types.base_types.wb_value`` in sweepkit's stand-in: ``WBValue``, the base class of
every loggable media object (sweepkit's ``Media``), for ``isinstance`` checks."""

from sweepkit.tracking.media import Media as WBValue

__all__ = ["WBValue"]
