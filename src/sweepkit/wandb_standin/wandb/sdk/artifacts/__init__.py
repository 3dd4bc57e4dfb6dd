"""``wandb.sdk.artifacts`` in sweepkit's stand-in."""
