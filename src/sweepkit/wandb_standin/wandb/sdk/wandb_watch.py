"""``wandb.sdk.wandb_watch`` in sweepkit's stand-in: ``watch`` and ``unwatch``."""

from sweepkit.wandb_facade import unwatch, watch

_watch = watch
_unwatch = unwatch

__all__ = ["watch", "unwatch"]
