"""``wandb.sdk.data_types`` in sweepkit's stand-in: the media types of ``sweepkit.tracking.media``."""
