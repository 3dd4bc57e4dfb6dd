"""``wandb.sdk.wandb_login`` in sweepkit's stand-in: ``login`` (no account, no key: always True)."""

from sweepkit.tracking.wandb_module import login

__all__ = ["login"]
