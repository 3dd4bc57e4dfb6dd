"""``wandb.sdk.wandb_login`` in sweepkit's stand-in: ``login`` (no account, no key: always True)."""

from sweepkit.wandb_facade import login

__all__ = ["login"]
