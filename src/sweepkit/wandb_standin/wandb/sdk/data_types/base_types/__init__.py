"""``wandb.sdk.data_types.base_types`` in sweepkit's stand-in."""
