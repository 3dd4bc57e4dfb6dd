"""``wandb.sdk.lib.telemetry`` in sweepkit's stand-in: W&B's usage telemetry, which sweepkit does not
collect. ``context()`` gives an object whose every field can be set and is forgotten."""

from sweepkit.tracking.unsupported import NoOp


def context(run=None, obj=None):
    return NoOp("telemetry")


__all__ = ["context"]
