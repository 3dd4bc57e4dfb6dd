"""``wandb.errors`` in sweepkit's stand-in: W&B's exception names, all sweepkit's error type."""

from sweepkit.errors import SweepkitError as Error

CommError = UsageError = AuthenticationError = Error

__all__ = ["AuthenticationError", "CommError", "Error", "UsageError"]
