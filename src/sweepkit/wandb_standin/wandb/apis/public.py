"""``wandb.apis.public`` in sweepkit's stand-in: ``Api`` queries the default store (``wandb.Api``)."""

from sweepkit.wandb_facade import Api  # noqa: F401
