"""``wandb.apis.public`` in sweepkit's stand-in: ``Api`` queries the default store (``wandb.Api``)."""

from sweepkit.tracking.wandb_module import Api  # noqa: F401
