"""``wandb.sdk.wandb_setup`` in sweepkit's stand-in: ``setup`` and ``teardown`` (nothing to set up)."""

from sweepkit.wandb_facade import setup, teardown

_setup = setup

__all__ = ["setup", "teardown"]
